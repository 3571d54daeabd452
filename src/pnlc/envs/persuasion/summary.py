"""Public state of a persuasion dialogue and its outcome-style summary.

`DialogueTracker` reads the dialogue turn by turn (text only, through the rules in `strategies`) and
keeps what anyone reading the chat could tell: the strategies used, when money was first asked for,
which doubt the donor voiced and whether it was answered, how the donor sounds. `summary()` writes
that as the sentence the critic embeds as the state, e.g. "After 3 persuader turns, the persuader
greeted the donor and vouched for the charity's credibility; the donor asked whether the money
reaches children and has not agreed to donate."
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pnlc.envs.persuasion.strategies import (
    CONCERN_BY_KEY,
    GREETING,
    INQUIRIES,
    PROPOSITION,
    STRATEGY_PHRASES,
    answers_concern,
    detect_attitude,
    detect_concern,
    detect_strategies,
)

MAX_DONATION = 2.0

# Outcome sentences: what the simulated policy proposes as goals and what a finished episode is
# checked against. The final summary of an episode uses the same sentences.
AGREES = "The donor agrees to donate."
AT_LEAST_ONE = "The donor donates at least $1."
DOUBTS_ANSWERED = "The donor's doubts about the charity are answered."
WARMS_UP = "The donor warms up to Save the Children."
REFUSES = "The donor refuses to donate."
DISENGAGES = "The donor becomes annoyed and disengages."
PRESSURED = "The donor feels pressured by an early request for money."
STAYS_SKEPTICAL = "The donor stays skeptical about where the money goes."

POSITIVE_GOALS: tuple[str, ...] = (AGREES, AT_LEAST_ONE, DOUBTS_ANSWERED, WARMS_UP)
NEGATIVE_GOALS: tuple[str, ...] = (REFUSES, DISENGAGES, PRESSURED, STAYS_SKEPTICAL)
# Exactly one of a pair holds when a dialogue ends (complements): a donation is either above $0 or
# none. The others overlap or can fail together (a donor may donate $0.50: neither "at least $1" nor
# a refusal; doubts can be answered or never voiced).
COMPLEMENTARY_OUTCOMES: tuple[tuple[str, str], ...] = ((AGREES, REFUSES),)

_DONATION_LINE = re.compile(r"^[ \t]*DONATION\b.*$", re.IGNORECASE | re.MULTILINE)

_INTENT_PHRASES = {"agreed": "said they will donate", "refused": "said they will not donate"}
_ATTITUDE_PHRASES = {
    "annoyed": "is getting annoyed",
    "declined": "declined to give for now",
    "warming": "sounds interested",
    "skeptical": "remains skeptical",
    "neutral": "",
}


@dataclass(frozen=True)
class Decision:
    """How a finished dialogue ended. kind: 'agreed', 'refused', 'disengaged' or 'parse_failure'."""

    donation: float
    kind: str

    def sentence(self) -> str:
        if self.kind == "disengaged":
            return DISENGAGES
        if self.donation > 0:
            return f"The donor agrees to donate ${self.donation:.2f}."
        if self.kind == "parse_failure":
            return "The donor gave no valid answer, so no donation is recorded."
        return REFUSES


def strip_donation_line(text: str) -> str:
    """Donor reply without its machine-readable DONATION line(s)."""
    return _DONATION_LINE.sub("", text).strip()


class DialogueTracker:
    """Incremental public reading of a dialogue; feed persuader and donor turns in order."""

    def __init__(self) -> None:
        self.persuader_turns = 0
        self.strategy_order: list[str] = []  # distinct strategies, by first use
        self.strategy_counts: dict[str, int] = {}
        self.asks = 0
        self.first_ask_turn: int | None = None
        self.early_ask = False  # money asked for before any rapport, in the first two turns
        self.rapport_turns = 0
        self.open_concern: str | None = None
        self.voiced: list[str] = []
        self.answered: list[str] = []
        self.attitude = "neutral"
        self.intent: str | None = None  # "agreed" / "refused": the donor's latest stated intention
        self.last_donor = ""
        self.last_strategies: tuple[str, ...] = ()
        self.last_answered_concern = False

    def persuader(self, text: str) -> tuple[str, ...]:
        """Record a persuader turn; returns the strategies detected in it."""
        self.persuader_turns += 1
        found = detect_strategies(text)
        self.last_strategies = found
        for s in found:
            if s not in self.strategy_counts:
                self.strategy_order.append(s)
            self.strategy_counts[s] = self.strategy_counts.get(s, 0) + 1
        if PROPOSITION in found:
            self.asks += 1
            if self.first_ask_turn is None:
                self.first_ask_turn = self.persuader_turns
                self.early_ask = self.persuader_turns <= 2 and self.rapport_turns == 0
        if GREETING in found or any(s in INQUIRIES for s in found):
            self.rapport_turns += 1
        self.last_answered_concern = False
        if self.open_concern is not None and answers_concern(text, self.open_concern):
            self.answered.append(self.open_concern)
            self.open_concern = None
            self.last_answered_concern = True
        return found

    def donor(self, text: str) -> None:
        """Record a donor reply (its DONATION line, if any, is ignored)."""
        body = strip_donation_line(text)
        self.last_donor = body
        concern = detect_concern(body)
        if concern is not None:
            self.open_concern = concern
            if concern not in self.voiced:
                self.voiced.append(concern)
        self.attitude = detect_attitude(body)
        if self.attitude in ("agreed", "refused"):
            self.intent = self.attitude

    def summary(self, decision: Decision | None = None) -> str:
        n = self.persuader_turns
        if n == 0:
            return "The conversation has not started; the donor has not agreed to donate."
        recent = self.strategy_order[-4:]
        acts = [STRATEGY_PHRASES[s] for s in recent if s != PROPOSITION]
        if self.asks:
            if self.early_ask:
                acts.append("asked for money before building rapport")
            elif self.asks == 1:
                acts.append("asked for a donation")
            else:
                acts.append(f"asked for a donation {self.asks} times")
        persuader = _join(acts) if acts else "chatted without a clear strategy"
        donor_bits: list[str] = []
        if self.open_concern is not None:
            donor_bits.append(CONCERN_BY_KEY[self.open_concern].summary[len("the donor "):])
        elif self.answered:
            donor_bits.append("had their doubt answered")
        if self.intent is not None:
            donor_bits.append(_INTENT_PHRASES[self.intent])
        elif decision is None and _ATTITUDE_PHRASES.get(self.attitude):
            donor_bits.append(_ATTITUDE_PHRASES[self.attitude])
        turns = "turn" if n == 1 else "turns"
        text = f"After {n} persuader {turns}, the persuader {persuader}"
        if decision is None:
            donor_bits.append("has not given yet" if self.intent == "agreed" else "has not agreed to donate")
            return f"{text}; the donor {_join(donor_bits)}."
        if donor_bits:
            text += f"; the donor {_join(donor_bits)}"
        return f"{text}. {decision.sentence()}"


def _join(parts: list[str]) -> str:
    if len(parts) == 1:
        return parts[0]
    return ", ".join(parts[:-1]) + " and " + parts[-1]
