"""Critic networks: pure nn.Modules over concatenated embeddings, outputs in (0, 1)."""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor, nn


def mlp(in_dim: int, hidden_sizes: Sequence[int], out_dim: int = 1) -> nn.Sequential:
    """Fully connected ReLU network: in_dim -> hidden_sizes... -> out_dim (no output activation)."""
    layers: list[nn.Module] = []
    d = in_dim
    for h in hidden_sizes:
        layers += [nn.Linear(d, h), nn.ReLU()]
        d = h
    layers.append(nn.Linear(d, out_dim))
    return nn.Sequential(*layers)


class Standardize(nn.Module):
    """x -> (x - mean) / std per dimension, with mean and std fixed buffers (saved with the weights).

    Sentence embeddings share a large common direction (different game states often have cosine
    above 0.95), so the differences that matter are small next to it; centring and scaling each
    dimension puts them on the scale the first layer learns from. Identity until set().
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))

    def set(self, mean: Tensor, std: Tensor) -> None:
        self.mean.copy_(mean)
        self.std.copy_(std.clamp_min(1e-6))

    def forward(self, x: Tensor) -> Tensor:
        return (x - self.mean) / self.std


class ValueNet(nn.Module):
    """V(s, g) in (0, 1): probability of reaching g from s under the data's thoughts (upper expectile).

    With goal_dim = 0 (scalar critic) it is V(s) = expected episode success.
    """

    def __init__(self, dim: int, goal_dim: int, hidden_sizes: Sequence[int]) -> None:
        super().__init__()
        self.inputs = Standardize(dim)
        self.net = mlp(dim + goal_dim, hidden_sizes)

    def forward(self, state: Tensor, goal: Tensor | None = None) -> Tensor:
        x = self.inputs(state) if goal is None else torch.cat([self.inputs(state), self.inputs(goal)], dim=-1)
        return torch.sigmoid(self.net(x)).squeeze(-1)


class QNet(nn.Module):
    """Q(s, a, g) in (0, 1): probability that g is reached after following thought a in state s."""

    def __init__(self, dim: int, goal_dim: int, hidden_sizes: Sequence[int]) -> None:
        super().__init__()
        self.inputs = Standardize(dim)
        self.net = mlp(2 * dim + goal_dim, hidden_sizes)

    def forward(self, state: Tensor, thought: Tensor, goal: Tensor | None = None) -> Tensor:
        parts = [state, thought] if goal is None else [state, thought, goal]
        parts = [self.inputs(x) for x in parts]
        return torch.sigmoid(self.net(torch.cat(parts, dim=-1))).squeeze(-1)


class TwinQ(nn.Module):
    """Two independent Q networks; forward() is their minimum (pessimistic), both() returns both."""

    def __init__(self, dim: int, goal_dim: int, hidden_sizes: Sequence[int]) -> None:
        super().__init__()
        self.q1 = QNet(dim, goal_dim, hidden_sizes)
        self.q2 = QNet(dim, goal_dim, hidden_sizes)

    def both(self, state: Tensor, thought: Tensor, goal: Tensor | None = None) -> tuple[Tensor, Tensor]:
        return self.q1(state, thought, goal), self.q2(state, thought, goal)

    def forward(self, state: Tensor, thought: Tensor, goal: Tensor | None = None) -> Tensor:
        return torch.minimum(*self.both(state, thought, goal))
