"""The moves a simulated Avalon player can think of, the words it thinks them in, and how a thought
is read back into its move.

Every decision offers a handful of moves, each written in several phrasings ("Openly accuse Player 3
of being evil.", "Vote against this team quietly."). `{e}` names a player the thinker means to act
against, `{g}` one it means to speak for. Moves are distinct in what they do at the table; none is
right everywhere (an open accusation steers the servants but marks Merlin for the Assassin; cover
hides Merlin but lets evil onto teams).

A vote is thought about the team it is cast on, as a player reasoning in words thinks it: "Approve
this team even with Player 3 on it" when a seat it acts against is on the team, "Approve this team;
nobody I suspect is on it" when none is. The thought carries what the player itself sees (for Merlin,
its own knowledge of the evil seats), never what the vote will lead to; without it, an approval of a
team with an evil player and one of a clean team were the same words, and a critic could tell them
apart only through the state text.

`FOLK` is what the player believes a move does, in two numbers: how much it `helps` its side win
the quests and how much it `reveals` that it knows who is evil. These are common-sense beliefs any
player of the game holds, the same for every role the policy plays (propose and revise alike); they
are not the simulator's rules, and how much each move really helps depends on the state.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Moves by decision; {e} is a player the thinker acts against, {g} one it speaks for.
THOUGHTS: dict[str, tuple[str, ...]] = {
    "accuse": (
        "Openly accuse Player {e} of being evil.",
        "Call out Player {e} as evil in front of everyone.",
        "Tell the table plainly that Player {e} is a traitor.",
    ),
    "hint": (
        "Hint that Player {e} seems suspicious, without claiming certainty.",
        "Voice a mild suspicion of Player {e}.",
    ),
    "steer": (
        "Quietly push for a team of players I trust without naming anyone.",
        "Back a clean team in words and keep my reasons to myself.",
    ),
    "blend": (
        "Stay vague and agree with the others to stay hidden.",
        "Say something noncommittal to keep a low profile.",
    ),
    "misdirect": (
        "Cast mild doubt on Player {g} to look uninformed.",
        "Cast some doubt on Player {g} so I seem to be guessing.",
    ),
    "vouch": (
        "Vouch for Player {g}, who I know is loyal.",
        "Defend Player {g} in the discussion.",
    ),
    "befriend": (
        "Act friendly toward Player {e} to hide my knowledge.",
        "Side with Player {e} for now so I do not look informed.",
    ),
    "clean_team": (
        "Propose a team of players I trust.",
        "Put together a team with no evil players on it.",
    ),
    "include_evil": (
        "Include Player {e} to avoid looking too informed.",
        "Include Player {e} on my team as cover.",
    ),
    "public_team": (
        "Propose myself and whoever looks reliable from the quest results so far.",
        "Pick a team based only on the public record.",
    ),
    "approve": (
        "Approve this team even with Player {e} on it, to look cooperative.",
        "Support the team though Player {e} is on it.",
        "Approve this team; nobody I suspect is on it.",
        "Support this team of players I trust.",
    ),
    "reject": (
        "Reject this team because Player {e} is on it.",
        "Vote against the team that has Player {e} on it.",
        "Reject this team even though nobody I suspect is on it.",
        "Vote against this team quietly.",
    ),
    "fail": ("Fail the quest to push evil toward victory.",),
    "succeed": ("Play success to keep my cover.",),
    "guess": ("Name Player {g}, who seemed best informed about the evil team.",),
}
MOVES_BY_DECISION: dict[str, tuple[str, ...]] = {
    "say": ("accuse", "hint", "steer", "blend", "misdirect", "vouch", "befriend"),
    "propose": ("clean_team", "include_evil", "public_team"),
    "vote": ("approve", "reject"),
    "quest": ("fail", "succeed"),
    "assassinate": ("guess",),
}
NEEDS_EVIL = frozenset({"accuse", "hint", "befriend", "include_evil"})  # need a player to act against
NEEDS_GOOD = frozenset({"misdirect", "vouch"})  # need a player to speak for
# A vote is thought about the team it is cast on: its phrasings name the suspect on the team ({e})
# or, without one, say that none is there; the two kinds never stand in for each other.
ABOUT_TEAM = frozenset({"approve", "reject"})


@dataclass(frozen=True)
class Folk:
    """What a player believes a move does: helps its side's quests (+) or evil's (-), and how much
    it reveals knowledge of the evil team (- hides it)."""

    helps: float
    reveals: float


# Vote beliefs depend on whether the team holds a player the voter acts against: see `folk`.
FOLK: dict[str, Folk] = {
    "accuse": Folk(helps=1.0, reveals=1.0),
    "hint": Folk(helps=0.5, reveals=0.5),
    "steer": Folk(helps=0.4, reveals=0.2),
    "blend": Folk(helps=0.0, reveals=0.0),
    "misdirect": Folk(helps=-0.3, reveals=-0.3),
    "vouch": Folk(helps=0.3, reveals=0.2),
    "befriend": Folk(helps=-0.6, reveals=-0.4),
    "clean_team": Folk(helps=1.0, reveals=0.3),
    "include_evil": Folk(helps=-1.0, reveals=-0.5),
    "public_team": Folk(helps=0.4, reveals=0.0),
    "fail": Folk(helps=1.0, reveals=0.5),
    "succeed": Folk(helps=-1.0, reveals=-0.5),
    "guess": Folk(helps=0.0, reveals=0.0),
}
_VOTE_FOLK = {  # (move, the team holds a suspect) -> belief
    ("approve", False): Folk(helps=0.5, reveals=0.0),
    ("approve", True): Folk(helps=-1.0, reveals=-0.2),
    ("reject", False): Folk(helps=-0.5, reveals=0.0),
    ("reject", True): Folk(helps=1.0, reveals=0.2),
}


def folk(move: str, team_has_suspect: bool = False) -> Folk:
    """The player's belief about `move`; a vote's belief depends on the team it is cast on."""
    if move in ("approve", "reject"):
        return _VOTE_FOLK[(move, team_has_suspect)]
    return FOLK[move]


# ---- reading thoughts back ----------------------------------------------------------------------
_PLAYER = re.compile(r"\bplayer\s*#?\s*([1-5])\b", re.I)
_SAY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("befriend", re.compile(r"\bfriendly\b|\bbefriend|\bside with\b|\bwarm up to\b", re.I)),
    ("misdirect", re.compile(r"\bcast\b.*\bdoubt\b|\buninformed\b|\bguessing\b|\bmisdirect", re.I)),
    ("vouch", re.compile(r"\bvouch|\bdefend\b|\bspeak up for\b", re.I)),
    ("steer", re.compile(r"\bsteer|\bwithout naming\b|\bquietly\b|\bclean team\b|\breasons to myself\b", re.I)),
    ("accuse", re.compile(r"\bopenly\b|\bcall out\b|\bplainly\b|\baccuse|\bexpose|\bsay who\b", re.I)),
    ("hint", re.compile(r"\bhint|\bsuspici|\bmild\b", re.I)),
    ("blend", re.compile(r"\bvague\b|\bnoncommittal\b|\blow profile\b|\bagree with\b|\bstay hidden\b", re.I)),
)
_PROPOSE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("include_evil", re.compile(r"\binclude\b|\bcover\b|\bput player\b", re.I)),
    ("public_team", re.compile(r"\bpublic\b|\breliable\b|\bresults\b|\brecord\b", re.I)),
    ("clean_team", re.compile(r"\btrust|\bclean\b|\bno evil\b|\bloyal\b|\bsteer\b|\baway from\b|\bwithout\b", re.I)),
)
_VOTE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reject", re.compile(r"\bagainst\b|\breject|\boppose\b|\bblock\b|\bvote no\b", re.I)),
    ("approve", re.compile(r"\bsupport|\bapprove|\bcooperative\b|\bback\b|\bfriendly\b|\binclude\b", re.I)),
)
_RULES = {"say": _SAY_RULES, "propose": _PROPOSE_RULES, "vote": _VOTE_RULES}


def thought_move(decision: str, thought: str) -> str | None:
    """The repertoire move a thought expresses for a decision kind (None: not recognised)."""
    if decision == "quest":
        return "fail" if re.search(r"\bfail", thought, re.I) else "succeed"
    if decision == "assassinate":
        return "guess"
    for name, pattern in _RULES.get(decision, ()):
        if pattern.search(thought):
            return name
    return None


def thought_player(thought: str) -> int | None:
    """Seat (0-based) of the first 'Player N' in a thought."""
    m = _PLAYER.search(thought)
    return int(m.group(1)) - 1 if m else None


def phrasings(move: str, e: int | None, g: int | None) -> list[str]:
    """The phrasings of `move` that can name the given seats (0-based; None: nobody suitable). A vote
    (`ABOUT_TEAM`) with `e` given is phrased only as naming that suspect on the team."""
    out = []
    for template in THOUGHTS[move]:
        if ("{e}" in template and e is None) or ("{g}" in template and g is None):
            continue
        if move in ABOUT_TEAM and e is not None and "{e}" not in template:
            continue
        out.append(template.format(e="" if e is None else e + 1, g="" if g is None else g + 1))
    return out
