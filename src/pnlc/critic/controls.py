"""Null critics: the trained critic's checkpoint answered in ways that carry no knowledge of the state.

`evaluate.critics.<method>.transform` picks one:

- `none`      the trained critic as it is;
- `base_rate` knows the odds, not the state: every goal gets its rate in the critic's training
  episodes, whatever the state and thought. An outcome sentence of the environment gets its own
  rate; any other goal text gets the rate of the outcome sentence nearest to it in the encoder's
  space (cosine), which is how the trained critic itself reads a goal it never saw: through its
  embedding. The scalar critic's base rate is the training episodes' mean success;
- `inverted`  the trained critic's probabilities turned around (1 - p): informative, but wrong way up.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

import numpy as np

from pnlc.critic.critic import Critic, CriticError, ValueModel

if TYPE_CHECKING:
    from pnlc.embed.base import Embedder

log = logging.getLogger(__name__)

TRANSFORMS = ("none", "base_rate", "inverted")


class InvertedCritic(Critic):
    """The trained critic with every probability replaced by 1 - p."""

    def _forward(self, state: np.ndarray, thought: np.ndarray, goal: np.ndarray) -> np.ndarray:
        return 1.0 - super()._forward(state, thought, goal)


class BaseRateCritic(Critic):
    """Answers every goal with its base rate in the critic's training episodes (state-independent).

    It embeds no state and no thought (they cannot change its answer), only a goal text that is not
    one of the outcome sentences, to find the outcome nearest to it."""

    def __init__(self, model: ValueModel, embedder: "Embedder") -> None:
        super().__init__(model, embedder)
        rates = getattr(model, "base_rates", None)
        if rates is None:
            raise CriticError(
                "the base-rate control needs the training episodes' outcome rates, which this checkpoint "
                "does not store (it predates them); retrain the critic (`pnlc train`)"
            )
        texts = tuple(getattr(model, "outcome_goal_texts", ()))
        if self.goal_conditioned and (not texts or len(texts) != len(rates.outcomes)):
            raise CriticError(
                f"the base-rate control needs one rate per outcome goal; the checkpoint has {len(texts)} "
                f"outcome goals and {len(rates.outcomes)} rates; retrain the critic"
            )
        self.outcome_goal_texts = texts
        self.success_rate = float(rates.success)
        self._rate = {t: float(r) for t, r in zip(texts, rates.outcomes)}
        self._outcome_emb: np.ndarray | None = None

    def _unit(self, texts: Sequence[str]) -> np.ndarray:
        emb = np.asarray(self.embedder.embed(list(texts)), dtype=np.float64)
        return emb / np.linalg.norm(emb, axis=1, keepdims=True).clip(min=1e-12)

    def goal_rates(self, goals: Sequence[str]) -> np.ndarray:
        """The base rate of each goal: its own as an outcome sentence, else its nearest outcome's."""
        unknown = [g for g in dict.fromkeys(goals) if g not in self._rate]
        if unknown:
            if self._outcome_emb is None:
                self._outcome_emb = self._unit(self.outcome_goal_texts)
            nearest = np.argmax(self._unit(unknown) @ self._outcome_emb.T, axis=1)
            for goal, k in zip(unknown, nearest):
                self._rate[goal] = self._rate[self.outcome_goal_texts[int(k)]]
                log.info("base-rate critic: goal %r reads the rate of %r", goal, self.outcome_goal_texts[int(k)])
        return np.array([self._rate[g] for g in goals], dtype=np.float64)

    def score(self, state_summary: str, thoughts: Sequence[str], goals: Sequence[str]) -> np.ndarray:
        if not self.goal_conditioned or not thoughts or not goals:
            return super().score(state_summary, thoughts, goals)  # raises the trained critic's error
        start = time.perf_counter()
        probs = np.tile(self.goal_rates(goals), (len(thoughts), 1))
        self._clock(start)
        return probs

    def score_scalar(self, state_summary: str, thoughts: Sequence[str]) -> np.ndarray:
        if self.goal_conditioned or not thoughts:
            return super().score_scalar(state_summary, thoughts)  # raises the trained critic's error
        start = time.perf_counter()
        probs = np.full(len(thoughts), self.success_rate)
        self._clock(start)
        return probs


def load_critic(path: str | Path, embedder: "Embedder", transform: str, state_text: str | None = None) -> Critic:
    """The critic in `path` answered through `transform` (one of TRANSFORMS); with `state_text`, one
    trained on another kind of state text is refused."""
    classes = {"none": Critic, "base_rate": BaseRateCritic, "inverted": InvertedCritic}
    if transform not in classes:
        raise CriticError(f"unknown critic transform {transform!r}; use one of {', '.join(TRANSFORMS)}")
    critic = classes[transform].load(path, embedder, state_text)
    if transform != "none":
        log.info("critic %s answered through the %s control", path, transform)
    return critic
