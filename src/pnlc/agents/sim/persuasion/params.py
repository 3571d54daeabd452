"""Knobs of the simulated persuader (params.yaml `agents.sim.persuasion`)."""

from __future__ import annotations

from dataclasses import dataclass

from pnlc.agents.sim.base import RefineKnobs


@dataclass(frozen=True)
class PersuasionSimParams:
    """How the simulated persuader reads the dialogue and chooses among its moves.

    notice_doubt      chance it notices the doubt the donor's words left open (else it believes none)
    misread_mood      chance it reads the donor's mood as neutral, whatever the words said
    address_weight    weight of answering a noticed doubt, against 1 for every other move
    ask_weight        weight of asking for the donation
    repeat_weight     factor on the weight of a move it has already made
    revise_tilt       factor on the weight of moves it believes counter the outcome it was warned of
    lesson_strength   how far a matching reflexion lesson moves the weights it names, in [0, 1)
    estimate_optimism self-estimates: added to good outcomes and taken from bad ones (twice for a
                      move it believes serves that outcome)
    estimate_noise    self-estimates: noise on each probability
    value_noise       LATS: noise on its own estimate of how well the dialogue will end
    refine            how it reads a rendered value (worry thresholds, min_gain)
    """

    notice_doubt: float
    misread_mood: float
    address_weight: float
    ask_weight: float
    repeat_weight: float
    revise_tilt: float
    lesson_strength: float
    estimate_optimism: float
    estimate_noise: float
    value_noise: float
    refine: RefineKnobs

    def __post_init__(self) -> None:
        for key in ("notice_doubt", "misread_mood"):
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"agents.sim.persuasion.{key}: {value!r} must be within [0, 1]")
        for key in ("address_weight", "ask_weight", "repeat_weight", "revise_tilt"):
            value = getattr(self, key)
            if not value > 0.0:
                raise ValueError(f"agents.sim.persuasion.{key}: {value!r} must be > 0 (a weight factor)")
        if not 0.0 <= self.lesson_strength < 1.0:
            raise ValueError(f"agents.sim.persuasion.lesson_strength: {self.lesson_strength!r} must be within [0, 1)")
        if not 0.0 <= self.estimate_optimism <= 0.5:
            raise ValueError(f"agents.sim.persuasion.estimate_optimism: {self.estimate_optimism!r} must be within [0, 0.5]")
        for key in ("estimate_noise", "value_noise"):
            value = getattr(self, key)
            if not value >= 0.0:
                raise ValueError(f"agents.sim.persuasion.{key}: {value!r} must be >= 0")
