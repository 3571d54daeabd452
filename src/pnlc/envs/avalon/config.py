"""Avalon configuration: every knob is a field the caller passes."""

from __future__ import annotations

from dataclasses import dataclass

from pnlc.envs.avalon.rules import N_PLAYERS, ROLES, Immutable
from pnlc.envs.base import EnvError

COUNTERPARTS = ("bots", "llm")


@dataclass(frozen=True)
class AvalonConfig(Immutable):
    """Avalon task settings.

    setup_file: AvalonBench set-up JSON (task i uses set-up i mod count; test tasks continue after
        the train ones) or None for a random role assignment per (task, seed).
    agent_role: the agent's role: Merlin (the paper), Servant, Minion or Assassin.
    agent_seat: the agent's player number 1-5, or None: with a setup file, the seat that holds
        `agent_role`; without one, a random seat per (task, seed).
    n_train_tasks / n_test_tasks: sizes of the two (disjoint) task lists.
    discussion: whether every proposal is preceded by a discussion round (AvalonBench: true).
    counterparts: who plays the four other seats: "bots" (the listening rule-based players,
        AvalonBench's setting) or "llm" (an external player per seat, built by the caller).
    """

    setup_file: str | None
    agent_role: str
    agent_seat: int | None
    n_train_tasks: int
    n_test_tasks: int
    discussion: bool
    counterparts: str = "bots"

    def __post_init__(self) -> None:
        if self.agent_role not in ROLES:
            raise EnvError(
                f"AvalonConfig.agent_role: unknown role {self.agent_role!r}; choose one of {', '.join(ROLES)}"
            )
        if self.agent_seat is not None and not 1 <= self.agent_seat <= N_PLAYERS:
            raise EnvError(f"AvalonConfig.agent_seat: {self.agent_seat!r} is not a player number 1-5 (or null)")
        if self.counterparts not in COUNTERPARTS:
            raise EnvError(
                f"AvalonConfig.counterparts must be one of {', '.join(COUNTERPARTS)}, got {self.counterparts!r}"
            )
        for key in ("n_train_tasks", "n_test_tasks"):
            if getattr(self, key) < 0:
                raise EnvError(f"AvalonConfig.{key} must be >= 0, got {getattr(self, key)}")
