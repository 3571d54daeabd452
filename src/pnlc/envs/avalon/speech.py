"""What players say: structured claims, the templates bots speak with, and a parser for free text.

A statement carries claims that listeners act on: `accuse` (the targets are evil), `defend` (the
targets are loyal), `endorse` (the targets make a good team) and `reveal_merlin` (the speaker says it
is Merlin). Bots build claims directly and render them with varied templates; an agent's free text
is read back into claims by `parse_claims`, the same way for every seat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pnlc.envs.avalon.rules import N_PLAYERS, Immutable, player_name, players_text

ACCUSE, DEFEND, ENDORSE, REVEAL_MERLIN = "accuse", "defend", "endorse", "reveal_merlin"
STRONG, MILD = 1.0, 0.5


@dataclass(frozen=True)
class Claim(Immutable):
    kind: str
    targets: tuple[int, ...]  # seats (0-based)
    strength: float = STRONG


# Templates: {p} is one player ("Player 3"), {team} several ("Players 1, 2 and 4").
TEMPLATES: dict[tuple[str, float], tuple[str, ...]] = {
    (ACCUSE, STRONG): (
        "I'm convinced {p} is evil.",
        "{p} is a minion of Mordred, I'm sure of it.",
        "{p} has been sabotaging us; don't put them on a team.",
        "Mark my words, {p} is on the evil side.",
        "I'm certain {p} is a traitor.",
    ),
    (ACCUSE, MILD): (
        "I'm a bit suspicious of {p}.",
        "Something about {p} makes me wary.",
        "I have doubts about {p}.",
        "I'd rather keep {p} off the team for now.",
        "I don't fully trust {p} yet.",
    ),
    (DEFEND, STRONG): (
        "I'd vouch for {p}, they are loyal.",
        "I'm sure {p} is good.",
    ),
    (DEFEND, MILD): (
        "I trust {p}.",
        "{p} seems loyal to me.",
        "I believe {p} is good.",
        "{p} has played honestly so far.",
    ),
    (ENDORSE, MILD): (
        "I'd like a team of {team}.",
        "{team} would make a solid team.",
        "Let's go with {team} this time.",
        "I'd send {team} on this quest.",
        "A team with {team} feels right to me.",
    ),
}

NEUTRAL: tuple[str, ...] = (
    "I have no strong read yet.",
    "Let's think carefully before we vote.",
    "I'll wait to see how the votes go.",
    "Nothing stands out to me so far.",
    "We need three successes, so let's choose carefully.",
    "I'm loyal to Arthur; let's get this quest done.",
    "Hard to say who is who at this point.",
)


def render_claim(claim: Claim, rng: np.random.Generator) -> str:
    options = TEMPLATES[(claim.kind, claim.strength)]
    template = options[int(rng.integers(len(options)))]
    return template.format(p=player_name(claim.targets[0]), team=players_text(claim.targets))


def render_neutral(rng: np.random.Generator) -> str:
    return NEUTRAL[int(rng.integers(len(NEUTRAL)))]


_MENTION = re.compile(r"\bplayers?\s*#?\s*([1-9](?:\s*(?:,|and|&|or|/)\s*(?:players?\s*)?[1-9])*)", re.I)
_DIGIT = re.compile(r"[1-9]")
_CLAUSE = re.compile(r"[.;!?\n]+|\bbut\b|\bwhile\b|\bwhereas\b", re.I)
_REVEAL = re.compile(r"\b(i am|i'm|im)\s+merlin\b|\bas merlin\b|\bmerlin here\b", re.I)
_NOT_EVIL = re.compile(r"\b(not|isn'?t|aren'?t|never)\s+(evil|a traitor|a minion|the assassin|bad)\b", re.I)
_NEG_TRUST = re.compile(r"\b(don'?t|do not|doesn'?t|not|never|can'?t|cannot|won'?t)\s+(\w+\s+)?trust|\bdistrust|\bmistrust", re.I)
_STRONG_ACCUSE = re.compile(
    r"\bevil\b|\bminion|\bassassin\b|\btraitor|\bsabotag|\bliar\b|\blying\b|\bspy\b|\bmordred|\bbetray", re.I
)
_MILD_ACCUSE = re.compile(
    r"\bsuspic|\bsuspect|\bdoubt|\bwary\b|\buneasy\b|\bworr|\bshady\b|\bcareful with\b|\bkeep\b.*\b(off|out)\b"
    r"|\bleave\b.*\bout\b|\bsit\b.*\bout\b|\bexclude|\bwithout\b|\bnot on\b|\bdon'?t (want|like)\b|\bavoid\b",
    re.I,
)
_DEFEND = re.compile(
    r"\btrust|\bloyal\b|\bgood\b|\binnocent\b|\bvouch|\breliable\b|\bhonest|\bbelieve in\b|\bclean\b"
    r"|\bon our side\b|\bsafe\b",
    re.I,
)
_SURE = re.compile(r"\bvouch|\bsure\b|\bcertain|\bdefinitely\b|\bconvinced\b|\bno doubt\b", re.I)
_ENDORSE = re.compile(
    r"\bteam\b|\bgo with\b|\bsend\b|\btake\b|\bpick\b|\bpropose|\bchoose\b|\bselect\b|\bwant\b|\bbring\b", re.I
)


def mentioned_seats(text: str) -> tuple[int, ...]:
    """Seats named as 'Player N' / 'Players N, M and K' (numbers 1-5), in order of appearance."""
    out: list[int] = []
    for m in _MENTION.finditer(text):
        for d in _DIGIT.findall(m.group(1)):
            seat = int(d) - 1
            if seat < N_PLAYERS and seat not in out:
                out.append(seat)
    return tuple(out)


def parse_claims(text: str) -> tuple[Claim, ...]:
    """Read free text into claims, clause by clause; a clause without a named player claims nothing."""
    claims: list[Claim] = []
    if _REVEAL.search(text):
        claims.append(Claim(REVEAL_MERLIN, ()))
    for clause in _CLAUSE.split(text):
        seats = mentioned_seats(clause)
        if not seats:
            continue
        if _NOT_EVIL.search(clause):
            claims.append(Claim(DEFEND, seats, MILD))
        elif _NEG_TRUST.search(clause):
            claims.append(Claim(ACCUSE, seats, MILD))
        elif _STRONG_ACCUSE.search(clause):
            claims.append(Claim(ACCUSE, seats, STRONG))
        elif _MILD_ACCUSE.search(clause):
            claims.append(Claim(ACCUSE, seats, MILD))
        elif len(seats) >= 2 and _ENDORSE.search(clause):
            claims.append(Claim(ENDORSE, tuple(sorted(seats)), MILD))
        elif _DEFEND.search(clause):
            claims.append(Claim(DEFEND, seats, STRONG if _SURE.search(clause) else MILD))
        elif _ENDORSE.search(clause):
            claims.append(Claim(ENDORSE, tuple(sorted(seats)), MILD))
    return tuple(claims)
