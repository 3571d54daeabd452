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

    def every_goal(self, state: Tensor, thought: Tensor, goals: Tensor) -> Tensor:
        """Q(s_i, a_i, g_k) for every row i and every goal k of `goals` [K, D]: [B, K], the same values
        as forward() on the B * K concatenated rows. The first layer is linear in [s; a; g], so its
        state-and-thought part is computed once per row and its goal part once per goal."""
        first, rest = self.net[0], self.net[1:]
        d = state.shape[-1]
        w = first.weight
        rows = torch.cat([self.inputs(state), self.inputs(thought)], dim=-1) @ w[:, : 2 * d].T + first.bias
        per_goal = self.inputs(goals) @ w[:, 2 * d:].T
        return torch.sigmoid(rest(rows[:, None, :] + per_goal[None, :, :])).squeeze(-1)


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

    def both_every_goal(self, state: Tensor, thought: Tensor, goals: Tensor) -> tuple[Tensor, Tensor]:
        """Both heads' Q for every row and every goal of `goals` [K, D]: two [B, K]."""
        return self.q1.every_goal(state, thought, goals), self.q2.every_goal(state, thought, goals)
