"""Agent roles: the five things a policy does, for an LLM or a simulated player alike.

A planning method (react, pnlc, best_of_n, lats, ...) is built from these roles; it never looks
inside the policy. Every role sees a `DecisionContext`: only what an LLM in the seat would see.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, Sequence, runtime_checkable

from pnlc.envs.base import Observation


@dataclass(frozen=True)
class DecisionContext:
    env: str
    observation: Observation
    summary: str  # outcome-style summary of the state (what the critic embeds as the state)
    history: tuple[tuple[str, str], ...] = ()  # the agent's own earlier (thought, action) pairs
    notes: tuple[str, ...] = ()  # reflections carried between trials (reflexion)


@dataclass(frozen=True)
class Draft:
    """A thought written earlier in the same decision, with the value text the policy was shown for it."""

    thought: str
    value_text: str


@dataclass(frozen=True)
class GoalSet:
    positive: tuple[str, ...]
    negative: tuple[str, ...]

    @property
    def all(self) -> tuple[str, ...]:
        return self.positive + self.negative


@runtime_checkable
class Policy(Protocol):
    """Roles of the acting LLM. Simulated policies are seeded by `begin_episode`."""

    name: str

    def begin_episode(self, task_id: str, seed: int) -> None:
        """Reset per-episode state and seed all randomness of the policy from `seed`."""

    def propose_thought(self, ctx: DecisionContext) -> str:
        """A high-level strategy for this decision, in natural language."""

    def act(self, ctx: DecisionContext, thought: str) -> str:
        """The environment action that carries out `thought` (an utterance, search[...], a vote)."""

    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        """Imagined outcomes of following `thought`: n_pos good ones and n_neg bad ones, one line each."""

    def refine(
        self, ctx: DecisionContext, thought: str, value_text: str, drafts: Sequence[Draft] = (), final: bool = False
    ) -> str | None:
        """Read the rendered value of `thought` (lines `0.58: <goal>`) next to the earlier drafts of this
        decision and their values; return None to accept `thought`, the text of an earlier draft to go
        back to it, or a new thought (to be scored in the next round). On the `final` round no new
        draft will be scored: the policy accepts or goes back."""

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals: Sequence[str]) -> list[float]:
        """The policy's own probabilities for `goals` after `thought` (self-critique ablation)."""

    def estimate_value(self, ctx: DecisionContext) -> float:
        """The policy's own estimate in [0, 1] of how well the task will end from here (LATS value)."""

    def reflect(self, conduct: str, result: str) -> str:
        """A short lesson from a finished trial, carried to the next trial as a note (reflexion):
        `conduct` is the policy's own moves and what it saw before its last one, `result` whether
        the trial succeeded (never the hidden state a finished game reveals)."""


@dataclass
class RoleCall:
    role: str
    prompt_chars: int
    output_chars: int
    extra: Mapping[str, Any] = field(default_factory=dict)
