"""Hindsight goal relabeling on resident tensors (PAPER.md §3), vectorised and seeded.

Per sampled transition i = (s_t, a_t, s_{t+1}) of episode e, one goal g of one kind:

- future:        s_{t+k} of the same episode, k >= 1 with P(k) = (1 - gamma) gamma^(k-1), clipped to
                 the episode's final state
- final:         the episode's final state
- other_episode: s_{t'+1} of a uniformly drawn transition of a different episode
- outcome:       one of the K outcome-goal sentences, uniformly

State goals (the first three) reward r = 1 when s_{t+1} reaches g: g is the same episode's state
at index t+1, or cosine(emb(s_{t+1}), emb(g)) >= goal_match_threshold; a goal from another episode
therefore rewards only by cosine. They are discounted by gamma, and reaching the goal ends the
bootstrap: target = r + gamma (1 - r)(1 - terminal) V(s', g).

Outcome goals are properties of the episode's end: Q(s, a, g_k) reads as the probability that
outcome k holds when the episode ends. An outcome is reached once it is settled in s_{t+1}
(outcome_decided: an earlier quest's result, and everything at the episode's last transition):
from that transition on r = outcome_labels[e, k] and the bootstrap ends; before it r = 0 and the
target bootstraps. Discount 1.0.

The scalar critic (goal_conditioned = False) has no goal: r = success[e] at the terminal transition,
0 before, discount 1.0, so Q(s, a) is the expected episode success.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from pnlc.value.config import GoalMixture

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from pnlc.value.data import TransitionData

FUTURE, FINAL, OTHER_EPISODE, OUTCOME = 0, 1, 2, 3
KIND_NAMES = ("future", "final", "other_episode", "outcome")


@dataclass(frozen=True)
class SplitTensors:
    """One split's transitions as tensors on one device; indices are local to the split.

    goal_table = embeddings rows followed by the K outcome goals, so any goal is one row of it.
    """

    goal_table: "Tensor"      # float32 [M + K, D]
    num_texts: int            # M
    state: "Tensor"           # int64 [n]
    thought: "Tensor"         # int64 [n]
    next_state: "Tensor"      # int64 [n]
    episode: "Tensor"         # int64 [n], local episode 0..e-1
    terminal: "Tensor"        # float32 [n]
    episode_start: "Tensor"   # int64 [n], split index of the episode's first transition
    episode_end: "Tensor"     # int64 [n], split index of the episode's last transition
    outcome_labels: "Tensor"  # float32 [e, K]
    outcome_decided: "Tensor"  # float32 [n, K], 1 where outcome k is settled in s_{t+1}
    success: "Tensor"         # float32 [e]
    episode_ids: np.ndarray   # int64 [e], the original episode index of each local episode

    @property
    def num_transitions(self) -> int:
        return int(self.state.shape[0])

    @property
    def num_episodes(self) -> int:
        return int(self.success.shape[0])

    @property
    def num_outcome_goals(self) -> int:
        return int(self.outcome_labels.shape[1])

    @property
    def device(self) -> "torch.device":
        return self.state.device

    def to(self, device: "torch.device | str") -> "SplitTensors":
        import torch

        device = torch.device(device)
        if device == self.device:
            return self
        moved = {k: (v.to(device) if hasattr(v, "to") and not isinstance(v, np.ndarray) else v)
                 for k, v in self.__dict__.items()}
        return SplitTensors(**moved)


def split_tensors(data: "TransitionData", episodes: np.ndarray) -> SplitTensors:
    """Select the transitions of the given episodes (kept in data order) as CPU tensors."""
    import torch

    episodes = np.sort(np.asarray(episodes, dtype=np.int64))
    mask = np.isin(data.episode, episodes)
    ep_global = data.episode[mask]
    local = np.searchsorted(episodes, ep_global)
    n = int(mask.sum())
    idx = np.arange(n, dtype=np.int64)
    first = np.r_[True, local[1:] != local[:-1]] if n else np.zeros(0, bool)
    last = np.r_[local[1:] != local[:-1], True] if n else np.zeros(0, bool)
    start_of = idx[first][np.cumsum(first) - 1]
    end_positions = idx[last]
    end_of = end_positions[np.cumsum(first) - 1]
    table = np.concatenate([data.embeddings, data.outcome_goals], axis=0)
    t = torch.from_numpy
    return SplitTensors(
        goal_table=t(np.ascontiguousarray(table, dtype=np.float32)),
        num_texts=int(data.embeddings.shape[0]),
        state=t(data.state[mask].copy()),
        thought=t(data.thought[mask].copy()),
        next_state=t(data.next_state[mask].copy()),
        episode=t(local.astype(np.int64)),
        terminal=t(data.terminal[mask].astype(np.float32)),
        episode_start=t(start_of.astype(np.int64)),
        episode_end=t(end_of.astype(np.int64)),
        outcome_labels=t(np.ascontiguousarray(data.outcome_labels[episodes], dtype=np.float32)),
        outcome_decided=t(np.ascontiguousarray(data.outcome_decided[mask], dtype=np.float32)),
        success=t(np.ascontiguousarray(data.success[episodes], dtype=np.float32)),
        episode_ids=episodes,
    )


def check_mixture(split: SplitTensors, mixture: GoalMixture, where: str) -> None:
    """Raise when the mixture asks for goals the split cannot provide."""
    if mixture.other_episode > 0 and split.num_episodes < 2:
        raise ValueError(
            f"{where}: goal_mixture.other_episode = {mixture.other_episode} needs at least 2 episodes, "
            f"the split has {split.num_episodes}; add episodes or set it to 0"
        )
    if mixture.outcome > 0 and split.num_outcome_goals == 0:
        raise ValueError(
            f"{where}: goal_mixture.outcome = {mixture.outcome} but the data has no outcome goals; "
            "set it to 0 or annotate outcome goals"
        )


def _kind_thresholds(mixture: GoalMixture) -> list[float]:
    """Cumulative bounds between the four kinds; a bound with only empty kinds above it is inf."""
    probs = mixture.as_tuple()
    out = []
    for i in range(3):
        out.append(float(sum(probs[: i + 1])) if sum(probs[i + 1:]) > 0 else float("inf"))
    return out


def sample_goals(
    split: SplitTensors,
    index: "Tensor",
    mixture: GoalMixture,
    discount: float,
    goal_match_threshold: float,
    generator: "torch.Generator",
) -> dict[str, "Tensor"]:
    """Relabel the transitions `index` (int64 [B] on split.device) with goals drawn from `mixture`.

    Returns kind [B] (FUTURE/FINAL/OTHER_EPISODE/OUTCOME), goal_row [B] (row of split.goal_table),
    goal_transition [B] (the split transition whose next state is the goal; meaningless for outcome
    goals), reward [B] (0/1 for state goals, the outcome label once it is settled for outcome
    goals), discount [B], terminal [B] (the episode's end for state goals, the outcome settled for
    outcome goals), and the embeddings goal [B, D] and next_state [B, D].
    """
    import torch

    device = split.device
    b = index.shape[0]
    u = torch.rand(4, b, generator=generator, device=device)
    kind = torch.zeros(b, dtype=torch.long, device=device)
    for threshold in _kind_thresholds(mixture):  # Python floats: no host-to-device copy per batch
        kind += (u[0] >= threshold).long()

    ep = split.episode[index]
    start = split.episode_start[index]
    end = split.episode_end[index]
    # future: k >= 1 geometric in the discount; transition j = i + k - 1 has next state s_{t+k}
    if discount > 0:
        k = 1 + torch.floor(torch.log1p(-u[1].clamp(max=1 - 1e-7)) / np.log(discount)).long()
    else:
        k = torch.ones(b, dtype=torch.long, device=device)
    future_j = torch.minimum(index + k - 1, end)
    # other episode: uniform over the transitions outside [start, end]
    ep_len = end - start + 1
    n_other = (split.num_transitions - ep_len).clamp(min=1)
    draw = torch.floor(u[2] * n_other).long().clamp(max=split.num_transitions - 1)
    other_j = torch.where(draw >= start, draw + ep_len, draw).clamp(max=split.num_transitions - 1)
    goal_j = torch.where(kind == FUTURE, future_j, torch.where(kind == FINAL, end, other_j))
    k_out = torch.floor(u[3] * max(split.num_outcome_goals, 1)).long().clamp(max=max(split.num_outcome_goals - 1, 0))

    is_outcome = kind == OUTCOME
    goal_row = torch.where(is_outcome, split.num_texts + k_out, split.next_state[goal_j])

    next_emb = split.goal_table[split.next_state[index]]
    goal_emb = split.goal_table[goal_row]
    cosine = (next_emb * goal_emb).sum(-1)
    same_index = (goal_j == index) & (kind != OTHER_EPISODE)
    state_reward = (same_index | (cosine >= goal_match_threshold)).float()
    terminal = split.terminal[index]
    if split.num_outcome_goals:
        settled = split.outcome_decided[index, k_out]
        outcome_reward = split.outcome_labels[ep, k_out] * settled
        terminal = torch.where(is_outcome, settled, terminal)
    else:
        outcome_reward = torch.zeros(b, device=device)
    reward = torch.where(is_outcome, outcome_reward, state_reward)
    disc = torch.where(is_outcome, torch.ones_like(reward), torch.full_like(reward, discount))
    # what happened to an outcome goal by the episode's end: its Monte-Carlo return (discount 1)
    outcome_label = split.outcome_labels[ep, k_out] if split.num_outcome_goals else torch.zeros(b, device=device)
    return {"kind": kind, "goal_row": goal_row, "goal_transition": goal_j, "reward": reward,
            "discount": disc, "terminal": terminal, "goal": goal_emb, "next_state": next_emb,
            "outcome_label": outcome_label, "is_outcome": is_outcome.float()}


def relabeled_batch(
    split: SplitTensors,
    index: "Tensor",
    mixture: GoalMixture,
    discount: float,
    goal_match_threshold: float,
    goal_conditioned: bool,
    generator: "torch.Generator",
    every_outcome: bool = False,
) -> dict[str, "Tensor"]:
    """A training batch for `index`: state, thought, next_state, goal (if goal-conditioned)
    embeddings, reward, terminal and per-sample discount; mc_target and mc_mask give the Monte-Carlo
    return of the rows that ask about an outcome (an outcome goal's label at the episode's end; for
    the scalar critic, every row: the episode's success). every_outcome (goal-conditioned, outcome
    goals present) adds outcome_goals [K, D], the K outcome sentences' embeddings, and
    mc_every_target [B, K], every outcome's label at the end of each row's episode. None of this
    draws from `generator`, so the batch is otherwise the same."""
    import torch

    table = split.goal_table
    batch = {"state": table[split.state[index]], "thought": table[split.thought[index]],
             "terminal": split.terminal[index]}
    if goal_conditioned:
        goals = sample_goals(split, index, mixture, discount, goal_match_threshold, generator)
        batch.update(next_state=goals["next_state"], goal=goals["goal"], reward=goals["reward"],
                     discount=goals["discount"], terminal=goals["terminal"], mc_target=goals["outcome_label"],
                     mc_mask=goals["is_outcome"])
        if every_outcome and split.num_outcome_goals:
            batch.update(outcome_goals=table[split.num_texts:],
                         mc_every_target=split.outcome_labels[split.episode[index]])
    else:
        batch["next_state"] = table[split.next_state[index]]
        batch["reward"] = split.success[split.episode[index]] * batch["terminal"]
        batch["discount"] = torch.ones_like(batch["reward"])
        batch["mc_target"] = split.success[split.episode[index]]
        batch["mc_mask"] = torch.ones_like(batch["reward"])
    return batch
