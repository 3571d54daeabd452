"""The natural-language critic at inference: a trained value model plus its embedder.

One decision's critic work is one embed call (state, thoughts and goals together) and one batched
forward over every (thought, goal) pair; the numbers are shown to the policy as text through
`pnlc.critic.render.render_value`.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import TYPE_CHECKING, Protocol, Sequence, runtime_checkable

import numpy as np

from pnlc.critic.render import render_value

if TYPE_CHECKING:  # the agents layer sits above the critic; only the type is needed here
    from pnlc.agents.roles import GoalSet
    from pnlc.embed.base import Embedder

log = logging.getLogger(__name__)

SCALAR_GOAL = "The task ends successfully."
"""The one line the scalar (goal-free) critic's value is rendered under, as a positive outcome."""


class CriticError(ValueError):
    """The critic cannot answer: mismatched encoder, wrong critic variant, bad input shapes."""


@runtime_checkable
class ValueModel(Protocol):
    """What the critic needs from a trained value model (see `pnlc.value`)."""

    embedder_id: str
    goal_conditioned: bool

    def q(self, state_emb: np.ndarray, thought_emb: np.ndarray, goal_emb: np.ndarray) -> np.ndarray:
        """P(goal happens | state, thought) for each row; arrays [B, D] in, [B] out."""


class Critic:
    """Scores thoughts against outcome goals and renders the natural-language value.

    `last_ms` is the wall time of the latest `score`/`score_scalar` call in milliseconds (embedding
    plus forward); `total_ms` and `calls` accumulate over the critic's life.
    """

    def __init__(self, model: ValueModel, embedder: "Embedder") -> None:
        model_id = getattr(embedder, "model_id", None)
        expected = getattr(model, "embedder_id", None)
        if model_id != expected:
            raise CriticError(
                f"encoder mismatch: the critic checkpoint was trained on embeddings from "
                f"{expected!r} but the embedder given is {model_id!r}; load the critic with the "
                f"encoder it was trained with, or retrain the critic (`pnlc annotate` then "
                f"`pnlc train`) with this encoder"
            )
        self.model = model
        self.embedder = embedder
        self.goal_conditioned = bool(getattr(model, "goal_conditioned", True))
        self.last_ms = 0.0
        self.total_ms = 0.0
        self.calls = 0
        self._recent: dict[str, np.ndarray] = {}

    @classmethod
    def load(cls, path: str | Path, embedder: "Embedder", state_text: str | None = None) -> "Critic":
        """Load a trained critic from `path`, refusing a checkpoint trained with another encoder or
        (given `state_text`) on another kind of state text."""
        from pnlc.value.checkpoint import load_critic

        model = load_critic(path, expected_embedder_id=embedder.model_id, expected_state_text=state_text)
        return cls(model, embedder)

    @property
    def embedder_id(self) -> str:
        return str(self.model.embedder_id)

    def _clock(self, start: float) -> None:
        self.last_ms = (time.perf_counter() - start) * 1000.0
        self.total_ms += self.last_ms
        self.calls += 1

    def _embed(self, texts: Sequence[str]) -> tuple[np.ndarray, dict[str, int]]:
        """Embed the distinct texts in one call; returns the matrix and a text -> row map.

        Texts of the previous call are reused (the state and a refined thought recur between the
        rounds of one decision), so a round embeds only what is new.
        """
        rows: dict[str, int] = {}
        for t in texts:
            rows.setdefault(t, len(rows))
        new = [t for t in rows if t not in self._recent]
        fresh = np.zeros((0, 0), dtype=np.float32)
        if new:
            fresh = np.asarray(self.embedder.embed(new), dtype=np.float32)
            if fresh.ndim != 2 or fresh.shape[0] != len(new):
                raise CriticError(
                    f"embedder {self.embedder_id!r} returned shape {fresh.shape} for {len(new)} texts; "
                    f"expected ({len(new)}, dim)"
                )
        fresh_row = {t: i for i, t in enumerate(new)}
        emb = np.stack([fresh[fresh_row[t]] if t in fresh_row else self._recent[t] for t in rows])
        self._recent = {t: emb[i] for t, i in rows.items()}
        return emb, rows

    def _forward(self, state: np.ndarray, thought: np.ndarray, goal: np.ndarray) -> np.ndarray:
        probs = np.asarray(self.model.q(state, thought, goal), dtype=np.float64).reshape(-1)
        if probs.shape[0] != state.shape[0]:
            raise CriticError(f"value model returned {probs.shape[0]} values for {state.shape[0]} rows")
        return probs

    def score(self, state_summary: str, thoughts: Sequence[str], goals: Sequence[str]) -> np.ndarray:
        """P(goal | state, thought) for every pair: array [len(thoughts), len(goals)]."""
        if not self.goal_conditioned:
            raise CriticError(
                "score() needs a goal-conditioned critic but this checkpoint is the scalar variant; "
                "use score_scalar() (method scalar_critic) or load a goal-conditioned checkpoint"
            )
        if not thoughts or not goals:
            raise CriticError(f"score() needs at least one thought and one goal, got {len(thoughts)} and {len(goals)}")
        start = time.perf_counter()
        emb, rows = self._embed([state_summary, *thoughts, *goals])
        n_t, n_g = len(thoughts), len(goals)
        t_idx = np.repeat([rows[t] for t in thoughts], n_g)
        g_idx = np.tile([rows[g] for g in goals], n_t)
        s_idx = np.full(n_t * n_g, rows[state_summary])
        probs = self._forward(emb[s_idx], emb[t_idx], emb[g_idx]).reshape(n_t, n_g)
        self._clock(start)
        return probs

    def score_scalar(self, state_summary: str, thoughts: Sequence[str]) -> np.ndarray:
        """The scalar critic's value (probability of a good ending) per thought: array [len(thoughts)]."""
        if self.goal_conditioned:
            raise CriticError(
                "score_scalar() needs the scalar (goal-free) critic variant but this checkpoint is "
                "goal-conditioned; load the scalar variant's checkpoint for method scalar_critic"
            )
        if not thoughts:
            raise CriticError("score_scalar() needs at least one thought")
        start = time.perf_counter()
        emb, rows = self._embed([state_summary, *thoughts])
        t_idx = np.array([rows[t] for t in thoughts])
        s_idx = np.full(len(thoughts), rows[state_summary])
        goal = np.zeros((len(thoughts), emb.shape[1]), dtype=np.float32)  # ignored by the scalar model
        probs = self._forward(emb[s_idx], emb[t_idx], goal)
        self._clock(start)
        return probs

    def render(self, goalset: "GoalSet", probabilities: Sequence[float] | np.ndarray) -> str:
        """The value text for one thought: `probabilities` follow goalset.all (positive first)."""
        return render_value(goalset.positive, goalset.negative, [float(p) for p in np.asarray(probabilities).reshape(-1)])


def render_scalar(probability: float) -> str:
    """The scalar critic's value as text: one positive line, e.g. `0.42: The task ends successfully.`"""
    return render_value([SCALAR_GOAL], [], [probability])

