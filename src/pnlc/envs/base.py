"""The protocol every environment implements.

Environments are pure Python, deterministic given (task_id, seed), and never put hidden state into
an observation. `Observation.text` is exactly what an LLM in the agent's seat would be shown;
`Observation.view` carries the same public information in structured form so that simulated agents
need not parse text. Nothing in `view` may be hidden from the seat.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Protocol, runtime_checkable


class EnvError(ValueError):
    """Bad environment input (unknown task, malformed data file, bad setup); the message names it."""


@dataclass(frozen=True)
class Observation:
    text: str
    view: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Transition:
    observation: Observation
    reward: float
    done: bool
    info: Mapping[str, Any] = field(default_factory=dict)  # includes "valid": bool


@runtime_checkable
class Env(Protocol):
    name: str

    def tasks(self, split: str) -> list[str]:
        """Task ids of a split ("train" or "test"); the two are disjoint."""

    def reset(self, task_id: str, seed: int) -> Observation:
        """Start task `task_id`; all randomness of the episode derives from `seed`."""

    def step(self, action: str) -> Transition:
        """Apply the agent's action. An illegal action never corrupts the state: it is answered
        with info["valid"] = False and (where the game needs a move) a recorded safe default.
        Optionally info["decided"] lists the outcome goals (goal_outcomes() keys) that this step
        settled for good, e.g. a quest's result; the critic learns them from that step on."""

    def describe(self) -> str:
        """Short outcome-style summary of what has happened so far (the sim annotator's summary)."""

    def outcome(self) -> Mapping[str, Any]:
        """Structured result of a finished episode (e.g. {"good_win": True, "assassinated": False})."""

    def metric(self) -> float:
        """The task's headline number for a finished episode (win 0/1, reward in [0,1], donation $)."""

    def goal_outcomes(self) -> Mapping[str, bool]:
        """For a finished episode: outcome-goal texts that matter for this task, each with whether it
        happened (e.g. {"Good wins the game.": True, "Merlin is assassinated.": False}). Used for the
        critic's per-goal diagnostics and by simulated goal proposals."""

    def clone(self) -> "Env":
        """Independent deep copy of the current state (search baselines only)."""


@runtime_checkable
class Reseedable(Protocol):
    """Optional: an environment whose remaining randomness can be drawn anew (Monte-Carlo rollouts
    from a clone, as the outcome ceiling does; every built-in environment has it)."""

    def reseed(self, seed: int) -> None:
        """Draw everything the environment decides from now on from `seed`. Raises EnvError where
        the rest of the episode cannot be re-randomised (e.g. an LLM counterpart)."""
