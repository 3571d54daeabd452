"""What a seat can tell from its own observation: whom to act against, whom to speak for.

Merlin knows the evil seats (that is Merlin's knowledge, shown to an LLM in the same words); a
servant only has the public record; an evil player knows its partner.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from pnlc.envs.avalon.rules import N_PLAYERS
from pnlc.envs.avalon.speech import ACCUSE, parse_claims

View = Mapping[str, Any]


def me(view: View) -> int:
    return int(view["player"]) - 1


def evil_side(view: View) -> set[int]:
    """The evil seats an evil player knows (itself and its partner); empty for a good player."""
    return {s - 1 for s in view.get("known_evil", [])} if view.get("side") == "evil" else set()


def public_blame(view: View) -> list[int]:
    """Seats (not mine) that sat on a failed quest, once per failed quest."""
    blamed: list[int] = []
    for q in view.get("quests", []):
        if not q["succeeded"]:
            blamed += [s - 1 for s in q["team"] if s - 1 != me(view)]
    return blamed


def suspects(view: View) -> list[int]:
    """Seats to speak and act against: for good, the known evil players or, without that knowledge,
    the two most implicated by failed quests; for evil, the good players."""
    if view.get("side") == "evil":
        evil = evil_side(view)
        return [s for s in range(N_PLAYERS) if s not in evil]
    known = [s - 1 for s in view.get("known_evil", []) if s - 1 != me(view)]
    if known:
        return known
    blame = np.zeros(N_PLAYERS)
    for q in view.get("quests", []):
        if not q["succeeded"]:
            for s in q["team"]:
                blame[s - 1] += 1.0 / len(q["team"])
    blame[me(view)] = -1.0
    order = sorted(range(N_PLAYERS), key=lambda s: (-blame[s], s))
    return order[:2] if blame.max() > 0 else []


def friends(view: View) -> list[int]:
    """Seats to speak for: for good, those not suspected; for evil, its partner."""
    if view.get("side") == "evil":
        return sorted(evil_side(view) - {me(view)})
    bad = set(suspects(view))
    return [s for s in range(N_PLAYERS) if s != me(view) and s not in bad]


def suspects_on_team(view: View) -> list[int]:
    """The seats this player acts against that sit on the team put to the vote."""
    team = {s - 1 for s in view.get("proposed_team", [])}
    return [s for s in suspects(view) if s in team]


def team_has_suspect(view: View) -> bool:
    """Whether the team put to the vote holds a seat this player acts against."""
    return bool(suspects_on_team(view))


def guess_merlin(view: View) -> int:
    """Evil's guess: the good player whose accusations hit the evil team most often."""
    bad = {s - 1 for s in view.get("known_evil", [])}
    goods = [s for s in range(N_PLAYERS) if s not in bad]
    score = {g: 0.0 for g in goods}
    for st in view.get("statements", []):
        speaker = int(st["speaker"]) - 1
        if speaker in score:
            for c in parse_claims(st["text"]):
                if c.kind == ACCUSE and set(c.targets) & bad:
                    score[speaker] += c.strength
    return max(goods, key=lambda g: (score[g], -g))
