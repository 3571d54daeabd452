"""The goal-conditioned IQL critic as a LightningModule (manual optimization)."""

from __future__ import annotations

import copy
from typing import Callable

import lightning as L
import torch
from torch import Tensor

from pnlc.value.config import TrainConfig
from pnlc.value.losses import masked_log_loss, masked_squared_error, polyak_update, q_loss, td_target, value_loss
from pnlc.value.networks import TwinQ, ValueNet

OPTIMIZERS_PER_UPDATE = 2  # Lightning counts every optimizer.step() as a global step
VAL_LOSS = "val/loss"  # what early stopping watches: the held-out prediction loss (below)


def build_networks(dim: int, cfg: TrainConfig) -> tuple[ValueNet, TwinQ]:
    """V and twin Q, initialised from the config seed without touching the global RNG."""
    from pnlc.value.datamodule import STREAM_INIT, stream_seed

    goal_dim = dim if cfg.goal_conditioned else 0
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(stream_seed(cfg.seed, STREAM_INIT))
        value = ValueNet(dim, goal_dim, cfg.hidden_sizes)
        q = TwinQ(dim, goal_dim, cfg.hidden_sizes)
    return value, q


class IQLCritic(L.LightningModule):
    """Goal-conditioned IQL (PAPER.md §4). Each training batch runs, in this order:

    1. V step:      minimise E[L_expectile(Q_target(s, a, g) - V(s, g))] (Q_target = min of the twin
                    target networks);
    2. Q step:      minimise E[(r + discount (1 - r)(1 - terminal) V(s', g) - Q_i(s, a, g))^2] for both
                    twin heads, with V(s', g) from the V just updated in step 1; with
                    outcome_mc_weight w > 0, plus w E_outcome[(label - Q_i(s, a, g))^2] over the rows
                    whose goal is an outcome sentence (its Monte-Carlo return; outcome_mc_loss "log":
                    its log loss instead); with outcome_mc_goals "every", over those rows and every
                    outcome sentence g_k, not only the sampled one;
    3. target step: Q_target <- (1 - target_update_rate) Q_target + target_update_rate Q.

    All outputs are sigmoid-bounded, so V and Q read as probabilities. With goal_conditioned = False
    the goal input is absent (scalar critic of the episode's success).
    """

    def __init__(self, dim: int, cfg: TrainConfig, input_stats: tuple[Tensor, Tensor] | None = None) -> None:
        """input_stats: (mean, std) of the embedding dimensions; required when cfg.standardize_inputs."""
        super().__init__()
        self.automatic_optimization = False
        self.cfg = cfg
        self.dim = dim
        self.value, self.q = build_networks(dim, cfg)
        if cfg.standardize_inputs:
            if input_stats is None:
                raise ValueError("IQLCritic: standardize_inputs is true; pass input_stats=(mean, std)")
            mean, std = (torch.as_tensor(x, dtype=torch.float32) for x in input_stats)
            for net in (self.value, self.q.q1, self.q.q2):
                net.inputs.set(mean, std)
        self.q_target = copy.deepcopy(self.q)
        self.q_target.requires_grad_(False)
        self.train_history: list[tuple[int, Tensor, Tensor]] = []
        self.val_history: list[tuple[int, float, float, float]] = []  # (update, V, Q, prediction loss)
        self._val_sums: list[Tensor] = []
        # the weights of the lowest held-out loss so far (what an early-stopped run keeps)
        self.best_val_loss = float("inf")
        self.best_update = 0
        self.best_state: dict[str, Tensor] | None = None

    # -- the update, usable with or without a Trainer ------------------------------------------
    def losses(self, batch: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """(v_loss, q_loss) of a batch without updating anything (validation)."""
        goal = batch.get("goal")
        with torch.no_grad():
            q_t = self.q_target(batch["state"], batch["thought"], goal)
            v = self.value(batch["state"], goal)
            v_next = self.value(batch["next_state"], goal)
            target = td_target(batch["reward"], batch["terminal"], batch["discount"], v_next)
            q1, q2 = self.q.both(batch["state"], batch["thought"], goal)
            lv = value_loss(q_t, v, self.cfg.expectile, "mean")
            lq = q_loss(q1, target, "mean") + q_loss(q2, target, "mean")
        return lv, lq

    def iql_update(
        self,
        batch: dict[str, Tensor],
        value_optimizer: torch.optim.Optimizer,
        q_optimizer: torch.optim.Optimizer,
        backward: Callable[[Tensor], None],
    ) -> tuple[Tensor, Tensor]:
        """One update in the documented order (V, then Q, then target); returns detached losses."""
        goal = batch.get("goal")
        state, thought = batch["state"], batch["thought"]
        # 1. V
        with torch.no_grad():
            q_t = self.q_target(state, thought, goal)
        lv = value_loss(q_t, self.value(state, goal), self.cfg.expectile, "mean")
        value_optimizer.zero_grad(set_to_none=True)
        backward(lv)
        value_optimizer.step()
        # 2. Q, bootstrapping from the freshly updated V
        with torch.no_grad():
            v_next = self.value(batch["next_state"], goal)
            target = td_target(batch["reward"], batch["terminal"], batch["discount"], v_next)
        q1, q2 = self.q.both(state, thought, goal)
        lq = q_loss(q1, target, "mean") + q_loss(q2, target, "mean")
        mc_error = masked_log_loss if self.cfg.outcome_mc_loss == "log" else masked_squared_error
        if self.cfg.outcome_mc_weight > 0 and "outcome_goals" in batch:
            mc, mask = batch["mc_every_target"], batch["mc_mask"][:, None].expand_as(batch["mc_every_target"])
            e1, e2 = self.q.both_every_goal(state, thought, batch["outcome_goals"])
            lq = lq + self.cfg.outcome_mc_weight * (mc_error(e1, mc, mask) + mc_error(e2, mc, mask))
        elif self.cfg.outcome_mc_weight > 0:
            mc, mask = batch["mc_target"], batch["mc_mask"]
            lq = lq + self.cfg.outcome_mc_weight * (mc_error(q1, mc, mask) + mc_error(q2, mc, mask))
        q_optimizer.zero_grad(set_to_none=True)
        backward(lq)
        q_optimizer.step()
        # 3. target
        polyak_update(self.q_target, self.q, self.cfg.target_update_rate)
        return lv.detach(), lq.detach()

    # -- Lightning hooks -----------------------------------------------------------------------
    def on_save_checkpoint(self, checkpoint: dict) -> None:
        """What a resumed run needs besides weights and optimizers: the loss histories and the best
        validation's weights (value/resume.py)."""
        checkpoint["pnlc_history"] = {
            "train": [(int(s), lv.detach().cpu(), lq.detach().cpu()) for s, lv, lq in self.train_history],
            "val": [tuple(row) for row in self.val_history],
            "best_val_loss": self.best_val_loss,
            "best_update": self.best_update,
            "best_state": None if self.best_state is None else {k: v.cpu() for k, v in self.best_state.items()},
        }

    def on_load_checkpoint(self, checkpoint: dict) -> None:
        saved = checkpoint.get("pnlc_history")
        if saved is None:
            return
        device = self.device
        self.train_history = [(int(s), lv.to(device), lq.to(device)) for s, lv, lq in saved["train"]]
        self.val_history = [(int(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in saved["val"]]
        self.best_val_loss, self.best_update = float(saved["best_val_loss"]), int(saved["best_update"])
        best = saved["best_state"]
        self.best_state = None if best is None else {k: v.to(device) for k, v in best.items()}

    def configure_optimizers(self) -> list[torch.optim.Optimizer]:
        kw = dict(lr=self.cfg.learning_rate, weight_decay=self.cfg.weight_decay)
        return [torch.optim.AdamW(self.value.parameters(), **kw), torch.optim.AdamW(self.q.parameters(), **kw)]

    def training_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        value_optimizer, q_optimizer = self.optimizers()
        lv, lq = self.iql_update(batch, value_optimizer, q_optimizer, self.manual_backward)
        # Lightning writes logged values when (batch_idx + 1) % log_every_n_steps == 0; logging only
        # then keeps self.log out of the hot loop and stale values out of the CSV
        if (batch_idx + 1) % self.cfg.log_every_n_steps == 0:
            self.train_history.append((batch_idx + 1, lv, lq))
            self.log_dict({"train/v_loss": lv, "train/q_loss": lq}, on_step=True, on_epoch=False,
                          batch_size=self.cfg.batch_size)

    def on_validation_epoch_start(self) -> None:
        self._val_sums = []
        self._pred_sums: list[Tensor] = []

    def validation_step(self, batch: dict[str, Tensor], batch_idx: int) -> None:
        if "target" in batch:  # an outcome question: log loss of Q against what happened
            with torch.no_grad():
                p = self.q(batch["state"], batch["thought"], batch.get("goal")).clamp(1e-6, 1 - 1e-6)
                loss = torch.nn.functional.binary_cross_entropy(p, batch["target"], reduction="sum")
            self._pred_sums.append(torch.stack([loss, torch.tensor(float(p.shape[0]), device=p.device)]))
            return
        lv, lq = self.losses(batch)
        n = batch["reward"].shape[0]
        self._val_sums.append(torch.stack([lv * n, lq * n, torch.tensor(float(n), device=lv.device)]))

    def on_validation_epoch_end(self) -> None:
        """Held-out V and Q losses for the curves; the held-out prediction loss (mean log loss of
        Q(s, a, g) against the outcome labels of the held-out episodes, or of Q(s, a) against their
        success for the scalar critic) is what early stopping and the kept weights go by: it has no
        bootstrapped target, so it falls only when the critic's answers get better."""
        if not self._val_sums:
            return
        total = torch.stack(self._val_sums).sum(0)
        v_loss, q_loss_, _ = (total / total[2]).tolist()
        pred = torch.stack(self._pred_sums).sum(0) if self._pred_sums else None
        loss = float(pred[0] / pred[1]) if pred is not None else v_loss + q_loss_
        step = self.trainer.global_step // OPTIMIZERS_PER_UPDATE if self._trainer is not None else 0
        self.val_history.append((step, v_loss, q_loss_, loss))
        if loss < self.best_val_loss:
            self.best_val_loss, self.best_update = loss, step
            self.best_state = {k: v.detach().clone() for k, v in self.state_dict().items()}
        self.log_dict({"val/v_loss": v_loss, "val/q_loss": q_loss_, VAL_LOSS: loss}, on_step=False, on_epoch=True)
