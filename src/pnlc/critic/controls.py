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
from pathlib import Path
from typing import TYPE_CHECKING

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
    """Answers every goal with its base rate in the critic's training episodes (state-independent)."""

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
        self.outcome_rates = np.asarray(rates.outcomes, dtype=np.float64)
        self.success_rate = float(rates.success)
        self._outcome_emb: np.ndarray | None = None

    def _outcome_embeddings(self) -> np.ndarray:
        if self._outcome_emb is None:
            emb = np.asarray(self.embedder.embed(list(self.outcome_goal_texts)), dtype=np.float64)
            self._outcome_emb = emb / np.linalg.norm(emb, axis=1, keepdims=True).clip(min=1e-12)
        return self._outcome_emb

    def nearest_outcome(self, goal_emb: np.ndarray) -> np.ndarray:
        """Index of the outcome goal nearest (cosine) to each goal embedding row."""
        g = np.asarray(goal_emb, dtype=np.float64)
        g = g / np.linalg.norm(g, axis=1, keepdims=True).clip(min=1e-12)
        return np.argmax(g @ self._outcome_embeddings().T, axis=1)

    def _forward(self, state: np.ndarray, thought: np.ndarray, goal: np.ndarray) -> np.ndarray:
        if not self.goal_conditioned:
            return np.full(state.shape[0], self.success_rate)
        return self.outcome_rates[self.nearest_outcome(goal)]


def load_critic(path: str | Path, embedder: "Embedder", transform: str) -> Critic:
    """The critic in `path` answered through `transform` (one of TRANSFORMS)."""
    classes = {"none": Critic, "base_rate": BaseRateCritic, "inverted": InvertedCritic}
    if transform not in classes:
        raise CriticError(f"unknown critic transform {transform!r}; use one of {', '.join(TRANSFORMS)}")
    critic = classes[transform].load(path, embedder)
    if transform != "none":
        log.info("critic %s answered through the %s control", path, transform)
    return critic
