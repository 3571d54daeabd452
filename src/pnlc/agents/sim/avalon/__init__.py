"""Simulated Avalon players: the fallible prior (`AvalonPlayer`) and the privileged reference
Merlin (`AvalonOracle`), built from params.yaml `agents.sim.avalon`.

- `repertoire` — the moves, their phrasings, and the player's folk view of what each does;
- `seats` — whom a seat acts against and speaks for, from its own observation;
- `beliefs` — the player's fallible reading of where the game stands;
- `actions` — the environment action a thought implies;
- `player` — the fallible policy on `SimPolicyBase`; `oracle` — the scripted strong Merlin.
"""

from __future__ import annotations

from pnlc.agents.sim.avalon.knobs import AvalonSimParams
from pnlc.agents.sim.avalon.oracle import AvalonOracle
from pnlc.agents.sim.avalon.player import (
    LESSON_ASSASSINATED,
    LESSON_QUESTS_FAILED,
    LESSON_WON,
    AvalonPlayer,
)
from pnlc.agents.sim.avalon.repertoire import MOVES_BY_DECISION, THOUGHTS, thought_move
from pnlc.envs.avalon import AvalonConfig

PARAMS_TYPE = AvalonSimParams  # built from params.yaml agents.sim.avalon
KINDS = {"prior": AvalonPlayer, "oracle": AvalonOracle}


def make_sim_policy(cfg: AvalonConfig, kind: str, params: AvalonSimParams) -> AvalonPlayer:
    """The simulated Avalon policy for `kind`: "prior" (the fallible player) or "oracle" (the
    privileged reference Merlin)."""
    if kind not in KINDS:
        raise ValueError(f"make_sim_policy kind: unknown {kind!r}; use 'prior' or 'oracle'")
    return KINDS[kind](cfg, params)


__all__ = [
    "AvalonConfig",
    "AvalonOracle",
    "AvalonPlayer",
    "AvalonSimParams",
    "KINDS",
    "LESSON_ASSASSINATED",
    "LESSON_QUESTS_FAILED",
    "LESSON_WON",
    "MOVES_BY_DECISION",
    "PARAMS_TYPE",
    "THOUGHTS",
    "make_sim_policy",
    "thought_move",
]
