"""Episode split and resident-tensor batches for the critic (no DataLoader, no per-sample Python)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Callable, Iterator

import lightning as L
import numpy as np

from pnlc.value.config import TrainConfig
from pnlc.value.controls import shuffle_outcomes, subsample_episodes
from pnlc.value.data import TransitionData
from pnlc.value.relabel import SplitTensors, check_mixture, relabeled_batch, split_tensors

if TYPE_CHECKING:
    import torch
    from torch import Tensor

log = logging.getLogger(__name__)

# Independent random streams derived from the config seed.
STREAM_INIT, STREAM_SPLIT, STREAM_TRAIN, STREAM_VAL, STREAM_DIAGNOSTICS = range(5)


def stream_seed(seed: int, stream: int) -> int:
    """A 63-bit seed for one named random stream of a run."""
    return int(np.random.SeedSequence([seed, stream]).generate_state(2, np.uint64)[0] >> np.uint64(1))


def torch_generator(seed: int, stream: int, device: "torch.device | str") -> "torch.Generator":
    import torch

    g = torch.Generator(device=torch.device(device))
    g.manual_seed(stream_seed(seed, stream))
    return g


def split_episodes(num_episodes: int, val_fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(train, val) episode indices, disjoint and sorted; at least one episode in each."""
    if num_episodes < 2:
        raise ValueError(f"need at least 2 episodes to hold some out (val_fraction), got {num_episodes}")
    rng = np.random.default_rng(stream_seed(seed, STREAM_SPLIT))
    perm = rng.permutation(num_episodes)
    n_val = int(round(val_fraction * num_episodes))
    n_val = min(max(n_val, 1), num_episodes - 1)
    return np.sort(perm[n_val:]), np.sort(perm[:n_val])


class RelabeledBatches:
    """Endless training batches: uniform transition indices, relabeled on the tensors' device.

    Stateful for Lightning's checkpoints (value/resume.py): `consumed()` says how many batches
    training has used, and state_dict gives the random stream as it was before the first unused one.
    Lightning draws a batch ahead of the one it trains on, so the states before the last few draws
    are kept.
    """

    KEPT_STATES = 4

    def __init__(self, split: SplitTensors, cfg: TrainConfig, generator: "torch.Generator",
                 consumed: Callable[[], int] | None = None) -> None:
        self.split = split
        self.cfg = cfg
        self.generator = generator
        self.consumed = consumed
        self.drawn = 0
        self.states: dict[int, "Tensor"] = {}

    def state_dict(self) -> dict[str, object]:
        used = self.consumed() if self.consumed is not None else self.drawn
        if used == self.drawn:
            state = self.generator.get_state()
        elif used in self.states:
            state = self.states[used]
        else:
            raise RuntimeError(f"training batches: {used} used of {self.drawn} drawn, but the random state before "
                               f"batch {used} is no longer kept")
        return {"next_batch": int(used), "generator": state.clone()}

    def load_state_dict(self, state: dict[str, object]) -> None:
        self.generator.set_state(state["generator"])
        self.drawn = int(state["next_batch"])  # type: ignore[arg-type]
        self.states = {}

    def sample(self) -> dict[str, "Tensor"]:
        import torch

        index = torch.randint(self.split.num_transitions, (self.cfg.batch_size,),
                              generator=self.generator, device=self.split.device)
        return relabeled_batch(self.split, index, self.cfg.goal_mixture, self.cfg.discount,
                               self.cfg.goal_match_threshold, self.cfg.goal_conditioned, self.generator,
                               every_outcome=self.cfg.outcome_mc_goals == "every")

    def __iter__(self) -> Iterator[dict[str, "Tensor"]]:
        while True:
            self.states[self.drawn] = self.generator.get_state()
            self.states.pop(self.drawn - self.KEPT_STATES, None)
            self.drawn += 1
            yield self.sample()


class FixedBatches:
    """A finite, re-iterable sequence of prebuilt batches (one loader, not a list of loaders)."""

    def __init__(self, batches: list[dict[str, "Tensor"]]) -> None:
        self.batches = batches

    def __iter__(self) -> Iterator[dict[str, "Tensor"]]:
        return iter(self.batches)

    def __len__(self) -> int:
        return len(self.batches)


class OutcomeBatches:
    """Every held-out transition with every outcome goal and its label (or, for the scalar critic,
    with the episode's success): what the critic is asked, against what happened. Built batch by
    batch on iteration (K times the transitions would not stay resident); no randomness."""

    def __init__(self, split: SplitTensors, batch_size: int, goal_conditioned: bool) -> None:
        self.split = split
        self.batch_size = batch_size
        self.goals = split.num_outcome_goals if goal_conditioned else 1
        self.goal_conditioned = goal_conditioned

    def __len__(self) -> int:
        rows = self.split.num_transitions * self.goals
        return -(-rows // self.batch_size) if self.goals else 0

    def __iter__(self) -> Iterator[dict[str, "Tensor"]]:
        import torch

        split, table = self.split, self.split.goal_table
        if not self.goals:
            return
        for chunk in torch.arange(split.num_transitions * self.goals, device=split.device).split(self.batch_size):
            i, k = chunk // self.goals, chunk % self.goals
            batch = {"state": table[split.state[i]], "thought": table[split.thought[i]]}
            if self.goal_conditioned:
                batch["goal"] = table[split.num_texts + k]
                batch["target"] = split.outcome_labels[split.episode[i], k]
            else:
                batch["target"] = split.success[split.episode[i]]
            yield batch


class ValidationBatches:
    """The held-out batches of one validation: relabeled transitions (V and Q losses), then the
    outcome questions (the prediction loss early stopping reads)."""

    def __init__(self, losses: FixedBatches, outcomes: OutcomeBatches) -> None:
        self.losses = losses
        self.outcomes = outcomes

    def __iter__(self) -> Iterator[dict[str, "Tensor"]]:
        yield from self.losses
        yield from self.outcomes

    def __len__(self) -> int:
        return len(self.losses) + len(self.outcomes)


def fixed_batches(split: SplitTensors, cfg: TrainConfig, generator: "torch.Generator") -> FixedBatches:
    """Every transition of the split once, each with one relabeled goal, in batches (val losses)."""
    import torch

    index = torch.arange(split.num_transitions, device=split.device)
    return FixedBatches([
        relabeled_batch(split, chunk, cfg.goal_mixture, cfg.discount, cfg.goal_match_threshold,
                        cfg.goal_conditioned, generator)
        for chunk in index.split(cfg.batch_size)
    ])


class TransitionDataModule(L.LightningDataModule):
    """Splits episodes into train/val (seeded, disjoint) and serves batches from resident tensors.

    The split tensors move once to the trainer's root device; each training batch is a gather plus
    relabeling on that device.
    """

    def __init__(self, data: TransitionData, cfg: TrainConfig) -> None:
        super().__init__()
        self.data = data
        self.cfg = cfg
        train, self.val_episodes = split_episodes(data.num_episodes, cfg.val_fraction, cfg.seed)
        self.train_episodes = subsample_episodes(train, cfg.train_episode_fraction, cfg.seed)
        if cfg.shuffle_outcomes:
            self.data = shuffle_outcomes(data, self.train_episodes, cfg.seed)
        self.train_split: SplitTensors | None = None
        self.val_split: SplitTensors | None = None

    def setup(self, stage: str | None = None) -> None:
        if self.train_split is not None:
            return
        self.train_split = split_tensors(self.data, self.train_episodes)
        self.val_split = split_tensors(self.data, self.val_episodes)
        if self.cfg.goal_conditioned:
            check_mixture(self.train_split, self.cfg.goal_mixture, "train split")
            check_mixture(self.val_split, _val_mixture(self.cfg, self.val_split), "val split")
        log.info("critic data: %d train / %d val episodes, %d / %d transitions",
                 self.train_split.num_episodes, self.val_split.num_episodes,
                 self.train_split.num_transitions, self.val_split.num_transitions)

    def _device(self) -> "torch.device":
        import torch

        trainer = self.trainer
        return trainer.strategy.root_device if trainer is not None else torch.device("cpu")

    def train_dataloader(self) -> RelabeledBatches:
        self.setup()
        assert self.train_split is not None
        device = self._device()
        self.train_split = self.train_split.to(device)
        return RelabeledBatches(self.train_split, self.cfg, torch_generator(self.cfg.seed, STREAM_TRAIN, device),
                                consumed=self._updates_done)

    def _updates_done(self) -> int:
        from pnlc.value.module import OPTIMIZERS_PER_UPDATE

        return self.trainer.global_step // OPTIMIZERS_PER_UPDATE if self.trainer is not None else 0

    def val_dataloader(self) -> ValidationBatches:
        self.setup()
        assert self.val_split is not None
        device = self._device()
        self.val_split = self.val_split.to(device)
        val_cfg = _replace_mixture(self.cfg, _val_mixture(self.cfg, self.val_split))
        losses = fixed_batches(self.val_split, val_cfg, torch_generator(self.cfg.seed, STREAM_VAL, device))
        return ValidationBatches(losses, OutcomeBatches(self.val_split, self.cfg.batch_size, self.cfg.goal_conditioned))


def _val_mixture(cfg: TrainConfig, split: SplitTensors):
    """The training mixture, minus other-episode goals when the val split has a single episode."""
    from pnlc.value.config import GoalMixture

    gm = cfg.goal_mixture
    if split.num_episodes >= 2 or gm.other_episode == 0:
        return gm
    rest = gm.future + gm.final + gm.outcome
    if rest == 0:
        return GoalMixture(future=1.0, final=0.0, other_episode=0.0, outcome=0.0)
    return GoalMixture(future=gm.future / rest, final=gm.final / rest, other_episode=0.0, outcome=gm.outcome / rest)


def _replace_mixture(cfg: TrainConfig, mixture) -> TrainConfig:
    from dataclasses import replace

    return cfg if mixture is cfg.goal_mixture else replace(cfg, goal_mixture=mixture)
