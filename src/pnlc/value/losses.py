"""Pure IQL loss functions and the Polyak target update (explicit reduction everywhere)."""

from __future__ import annotations

from typing import Literal

import torch
from torch import Tensor, nn

Reduction = Literal["mean", "sum", "none"]


def _reduce(x: Tensor, reduction: Reduction) -> Tensor:
    if reduction == "mean":
        return x.mean()
    if reduction == "sum":
        return x.sum()
    if reduction == "none":
        return x
    raise ValueError(f"reduction {reduction!r}: use 'mean', 'sum' or 'none'")


def expectile_loss(diff: Tensor, expectile: float, reduction: Reduction) -> Tensor:
    """Asymmetric squared loss |e - 1(u < 0)| u^2 with u = diff = target - prediction.

    expectile 0.5 = half the mean squared error; expectile -> 1 pushes the prediction toward the
    maximum of the targets.
    """
    weight = torch.where(diff < 0, 1.0 - expectile, expectile)
    return _reduce(weight * diff.square(), reduction)


def td_target(reward: Tensor, terminal: Tensor, discount: Tensor | float, next_value: Tensor) -> Tensor:
    """r + discount (1 - r)(1 - terminal) V(s', g): reaching the goal or the episode's end stops the bootstrap."""
    return reward + discount * (1.0 - reward) * (1.0 - terminal) * next_value


def value_loss(q_target: Tensor, value: Tensor, expectile: float, reduction: Reduction) -> Tensor:
    """IQL V loss: expectile regression of V(s, g) on the target Q(s, a, g)."""
    return expectile_loss(q_target - value, expectile, reduction)


def q_loss(q_pred: Tensor, target: Tensor, reduction: Reduction) -> Tensor:
    """Squared TD error of one Q head."""
    return _reduce((target - q_pred).square(), reduction)


def masked_squared_error(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean of (target - pred)^2 over the rows where mask is 1 (0 when no row is)."""
    return (mask * (target - pred).square()).sum() / mask.sum().clamp_min(1.0)


def masked_log_loss(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Mean binary log loss of probabilities `pred` against `target` in [0, 1] over the rows where
    mask is 1 (0 when no row is). torch clamps each log at -100, so a saturated pred stays finite."""
    loss = torch.nn.functional.binary_cross_entropy(pred, target, reduction="none")
    return (mask * loss).sum() / mask.sum().clamp_min(1.0)


@torch.no_grad()
def polyak_update(target: nn.Module, online: nn.Module, target_update_rate: float) -> None:
    """target <- (1 - target_update_rate) * target + target_update_rate * online, parameter-wise."""
    for t, o in zip(target.parameters(), online.parameters(), strict=True):
        t.lerp_(o, target_update_rate)
