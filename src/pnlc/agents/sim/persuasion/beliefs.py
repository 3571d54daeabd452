"""What the simulated persuader believes about the dialogue, read from the visible text with noise.

The persuader sees the dialogue (its own words and the donor's), never the donor's persona or inner
state. It may miss the doubt the donor's words left open and may misread the donor's mood; how it
reads one dialogue is fixed by its seed and that dialogue, so every role it plays in one decision
(proposing, revising, estimating) works from the same beliefs.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from pnlc.agents.sim.persuasion.repertoire import MOVE_STRATEGY


@dataclass(frozen=True)
class Beliefs:
    """turn: the 1-based number of the message about to be written; doubt: the open doubt it noticed
    (None if it believes none); mood: the donor's mood as it reads it; used: moves already made."""

    turn: int
    max_turns: int
    doubt: str | None
    mood: str
    used: Mapping[str, int]
    asks: int

    @property
    def last_turn(self) -> bool:
        return self.turn >= self.max_turns


def read_beliefs(view: Mapping[str, Any], key: tuple[int, ...], notice_doubt: float, misread_mood: float) -> Beliefs:
    """The persuader's reading of the public `view`; `key` (its seed) fixes the noise per dialogue."""
    dialogue = view.get("dialogue", ())
    text = "\n".join(f"{who}: {words}" for who, words in dialogue)
    rng = np.random.default_rng([*key, len(dialogue), zlib.crc32(text.encode("utf-8"))])
    doubt = view.get("open_concern")
    noticed = doubt if doubt is not None and rng.random() < notice_doubt else None
    mood = str(view.get("donor_attitude", "neutral"))
    if rng.random() < misread_mood:
        mood = "neutral"
    counts = view.get("strategies_used", {})
    used = {move: int(counts.get(strategy, 0)) for move, strategy in MOVE_STRATEGY.items()}
    return Beliefs(
        turn=int(view.get("turn", 0)) + 1,
        max_turns=int(view.get("max_turns", 0)),
        doubt=noticed,
        mood=mood,
        used=used,
        asks=int(view.get("asks", 0)),
    )
