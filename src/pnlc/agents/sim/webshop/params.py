"""The simulated shopper's knobs (params.yaml `agents.sim.webshop`)."""

from __future__ import annotations

from dataclasses import dataclass

from pnlc.agents.sim.base import RefineKnobs


@dataclass(frozen=True)
class WebShopSimParams:
    """Knobs of the simulated shopper; every role (propose, refine, act) plays with the same ones.

    temperature: softness of the move choice (softmax over the shopper's appeal of each move); higher
        plays the repertoire more broadly, 0 would always play the move it believes best.
    reading_noise: standard deviation of the shopper's misjudgement of how well a title matches
        the instruction (fixed per episode and title).
    query_drop: chance to drop each keyword when writing a query.
    lesson_strength: how much a reflexion lesson raises the appeal of the moves it names (0..1).
    self_estimate_optimism / self_estimate_noise: bias and noise of self-estimated goal probabilities.
    value_noise: standard deviation of the noise on `estimate_value` (LATS).
    refine: how the shopper reads a rendered value (worry thresholds, min_gain to keep a new draft).
    """

    temperature: float
    reading_noise: float
    query_drop: float
    lesson_strength: float
    self_estimate_optimism: float
    self_estimate_noise: float
    value_noise: float
    refine: RefineKnobs

    def __post_init__(self) -> None:
        checks = {
            "temperature": self.temperature > 0,
            "reading_noise": self.reading_noise >= 0,
            "query_drop": 0 <= self.query_drop <= 1,
            "lesson_strength": 0 <= self.lesson_strength <= 1,
            "self_estimate_optimism": 0 <= self.self_estimate_optimism <= 0.5,
            "self_estimate_noise": self.self_estimate_noise >= 0,
            "value_noise": self.value_noise >= 0,
        }
        for key, ok in checks.items():
            if not ok:
                raise ValueError(f"agents.sim.webshop.{key}: {getattr(self, key)!r} is out of range")
