"""Simulated persuaders for the persuasion task: the fallible prior player and the scripted oracle.

`make_sim_policy(cfg, kind, params)` is what the pipeline calls: kind "prior" gives the
`PersuasionPlayer`, kind "oracle" the `PersuasionOracle`. Both see only the dialogue.
"""

from __future__ import annotations

from pnlc.agents.sim.persuasion.oracle import PersuasionOracle
from pnlc.agents.sim.persuasion.params import PersuasionSimParams
from pnlc.agents.sim.persuasion.player import PersuasionPlayer
from pnlc.agents.sim.persuasion.repertoire import (
    ADDRESS,
    MOVES,
    THOUGHTS,
    all_thoughts,
    parse_thought,
    thought_for,
)
from pnlc.envs.persuasion.config import PersuasionConfig

PARAMS_TYPE = PersuasionSimParams  # built from params.yaml agents.sim.persuasion
KINDS = {"prior": PersuasionPlayer, "oracle": PersuasionOracle}


def make_sim_policy(cfg: PersuasionConfig, kind: str, params: PersuasionSimParams) -> PersuasionPlayer:
    """The simulated persuader of `kind`: "prior" (the fallible player) or "oracle" (the scripted expert)."""
    if kind not in KINDS:
        raise ValueError(f"make_sim_policy kind: unknown {kind!r}; use one of {', '.join(KINDS)}")
    return KINDS[kind](cfg, params)


__all__ = [
    "ADDRESS",
    "KINDS",
    "MOVES",
    "PARAMS_TYPE",
    "PersuasionOracle",
    "PersuasionPlayer",
    "PersuasionSimParams",
    "THOUGHTS",
    "all_thoughts",
    "make_sim_policy",
    "parse_thought",
    "thought_for",
]
