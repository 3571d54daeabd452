"""Knobs of the simulated Avalon players (params.yaml `agents.sim.avalon`)."""

from __future__ import annotations

from dataclasses import dataclass

from pnlc.agents.sim.base import RefineKnobs


@dataclass(frozen=True)
class AvalonSimParams:
    """skill            how strongly the player's beliefs shape which move it picks (0: any move alike)
    aim              how strongly a revision leans toward the moves the player believes counter the
                     outcome it was warned of
    exposure_noise   per-episode error (standard deviation of a log-factor) in reading how much its
                     own conduct has revealed
    danger_noise     per-episode error (standard deviation of a shift) in reading how close its side
                     is to losing the quests
    lesson_weight    how far a lesson from an earlier trial moves the matching belief (reflexion)
    self_estimate_optimism  self-critique: added to good outcomes, taken from bad ones
    self_estimate_noise     self-critique: noise on self-estimated probabilities
    value_noise      LATS: noise on the player's own value estimate
    refine           how the player reads a rendered value (see `RefineKnobs`)
    """

    skill: float
    aim: float
    exposure_noise: float
    danger_noise: float
    lesson_weight: float
    self_estimate_optimism: float
    self_estimate_noise: float
    value_noise: float
    refine: RefineKnobs

    def __post_init__(self) -> None:
        for key in ("skill", "aim", "exposure_noise", "danger_noise", "self_estimate_noise", "value_noise"):
            value = getattr(self, key)
            if not value >= 0.0:
                raise ValueError(f"agents.sim.avalon.{key}: {value!r} must be >= 0")
        for key in ("lesson_weight", "self_estimate_optimism"):
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"agents.sim.avalon.{key}: {value!r} must be within [0, 1]")
