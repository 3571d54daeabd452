"""A simulated player's fallible beliefs about where the game stands, read from its own observation.

What Merlin sees: the evil seats, the public record and its own conduct. What it does not see, and
so can only believe: how much the Assassin has read from its words (`exposure`), how far the
servants are from finding evil on their own (`danger`), and so how much saying more would cost
(`stakes`). The beliefs come from the public record through the player's folk view of each move
(`repertoire.FOLK`), misread by a per-episode error whose size is a knob; the same beliefs serve
every role the policy plays.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pnlc.agents.sim.avalon import seats
from pnlc.agents.sim.avalon.repertoire import FOLK, Folk, folk
from pnlc.agents.sim.avalon.seats import View
from pnlc.envs.avalon.speech import ACCUSE, DEFEND, ENDORSE, STRONG, parse_claims


@dataclass(frozen=True)
class Misreading:
    """One episode's errors in reading the game: log-factor on exposure, shift on danger."""

    exposure_log: float
    danger_shift: float


@dataclass(frozen=True)
class Beliefs:
    """danger   in [0, 1]: how likely the player thinks its side loses the quests
    exposure    >= 0: how much it thinks its conduct has shown that it knows the evil team
    stakes      > 0: how much it thinks revealing more would cost its side"""

    danger: float
    exposure: float
    stakes: float

    def utility(self, belief: Folk) -> float:
        """What a move is worth to the player: help where it fears for the quests, minus what
        revealing costs where it fears for its cover."""
        return self.danger * belief.helps - self.stakes * belief.reveals


def own_record(view: View) -> float:
    """How much the player's own words and teams revealed, in its folk view of the moves."""
    mine = seats.me(view)
    against = set(seats.suspects(view))
    total = 0.0
    for st in view.get("statements", []):
        if int(st["speaker"]) - 1 != mine:
            continue
        for c in parse_claims(st["text"]):
            hits = set(c.targets) & against
            if c.kind == ACCUSE:
                total += (FOLK["accuse"] if c.strength >= STRONG else FOLK["hint"]).reveals if hits else (
                    FOLK["misdirect"].reveals
                )
            elif c.kind == DEFEND:
                total += FOLK["befriend"].reveals if hits else FOLK["vouch"].reveals
            elif c.kind == ENDORSE and not hits:
                total += FOLK["steer"].reveals
    for p in view.get("proposals", []):
        if int(p["leader"]) - 1 == mine:
            dirty = bool({s - 1 for s in p["team"]} & against)
            total += FOLK["include_evil"].reveals if dirty else FOLK["clean_team"].reveals
    return total


def read_beliefs(view: View, misreading: Misreading, lessons: tuple[float, float] = (0.0, 0.0)) -> Beliefs:
    """The player's beliefs at this decision; `lessons` = (fear for the quests, fear for its cover)
    carried from earlier trials, each a fraction of the way to the extreme."""
    wins, losses = int(view.get("successes", 0)), int(view.get("failures", 0))
    if view.get("side") == "evil":
        wins, losses = losses, wins
    danger = min(1.0, max(0.0, 0.3 + 0.2 * losses - 0.1 * wins + misreading.danger_shift))
    danger += lessons[0] * (1.0 - danger)
    exposure = max(0.0, own_record(view)) * math.exp(misreading.exposure_log)
    if view.get("role") == "Merlin":  # only Merlin's cover decides the game
        stakes = (0.5 + 0.25 * wins) * (1.0 + exposure)
    else:
        stakes = 0.25
    stakes *= 1.0 + lessons[1]
    return Beliefs(danger=danger, exposure=exposure, stakes=stakes)


def move_belief(view: View, move: str) -> Folk:
    """The folk belief about `move` at this decision (a vote's depends on the team)."""
    return folk(move, seats.team_has_suspect(view)) if view.get("decision") == "vote" else folk(move)
