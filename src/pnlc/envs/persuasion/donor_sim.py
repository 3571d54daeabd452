"""The simulated donor: a latent persona that reacts to what the persuader says and when.

The donor reads each persuader utterance through the text rules of `strategies` (an LLM's or a
human's utterance carries no strategy label) and moves a hidden willingness to give:

- appeals help in proportion to the persona (emotion and personal stories with empathy, credibility
  with skepticism, logic with trust); repeating a strategy halves its effect each time;
- inquiries and greetings build rapport; asking for money in the first two turns without rapport
  backfires (willingness down, annoyance up); repeated asks annoy;
- the donor voices doubts; answering the open doubt helps a lot, ignoring it costs a little.

Replies are varied text that shows attitude and objections, never the hidden numbers. A decision
ends with the machine-readable line `DONATION: $x.xx` (see `donation`).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from pnlc.envs.persuasion.donation import format_donation
from pnlc.envs.persuasion.strategies import (
    CONCERNS,
    CREDIBILITY_APPEAL,
    DONATION_INFORMATION,
    EMOTION_APPEAL,
    FOOT_IN_THE_DOOR,
    GREETING,
    INQUIRIES,
    LOGICAL_APPEAL,
    PERSONAL_INQUIRY,
    PERSONAL_STORY,
    PROPOSITION,
    SELF_MODELING,
    SOURCE_INQUIRY,
    TASK_INQUIRY,
    answers_concern,
    detect_strategies,
)
from pnlc.envs.persuasion.summary import MAX_DONATION


@dataclass(frozen=True)
class Persona:
    """Hidden traits of one donor, each in [0, 1] unless stated."""

    trust: float  # trust in charities
    empathy: float
    skepticism: float
    budget: float  # most the donor would ever give, in $ (<= 2)
    stance: float  # initial willingness, log-odds of giving
    patience: float  # annoyance the donor tolerates before leaving (> 0)
    concerns: tuple[str, ...]  # doubts the donor will raise, in order
    has_kids: bool


def sample_persona(rng: np.random.Generator) -> Persona:
    trust = float(rng.beta(2.0, 3.0))
    empathy = float(rng.beta(2.5, 2.5))
    skepticism = float(rng.beta(3.0, 2.0))
    budget = float(rng.choice([0.5, 1.0, 1.0, 1.5, 2.0, 2.0]))
    stance = float(-2.8 - 1.2 * skepticism + 1.0 * trust + rng.normal(0.0, 0.4))
    patience = float(1.6 + 1.6 * rng.random())
    n_concerns = 3 if skepticism > 0.6 else 2
    keys = [c.key for c in CONCERNS]
    order = rng.permutation(len(keys))[:n_concerns]
    return Persona(
        trust=trust,
        empathy=empathy,
        skepticism=skepticism,
        budget=budget,
        stance=stance,
        patience=patience,
        concerns=tuple(keys[i] for i in order),
        has_kids=bool(rng.random() < 0.45),
    )


def _level(x: float, low: str, mid: str, high: str) -> str:
    return low if x < 0.35 else (mid if x < 0.65 else high)


def persona_text(p: Persona) -> str:
    """The persona in words, for an LLM playing the donor (never shown to the persuader)."""
    concern_words = {
        "legitimacy": "whether the charity is legitimate",
        "overhead": "how much of the money actually reaches children",
        "local": "why you should give abroad rather than to children at home",
        "money": "the fact that money is tight for you",
        "impact": "whether a small amount makes any difference",
    }
    doubts = "; ".join(concern_words[c] for c in p.concerns)
    return (
        f"You {_level(p.trust, 'distrust most charities', 'are neutral about charities', 'generally trust charities')}, "
        f"you are {_level(p.empathy, 'not easily moved by emotional stories', 'somewhat moved by stories of suffering', 'deeply moved by stories of suffering')}, "
        f"and you are {_level(p.skepticism, 'rarely skeptical', 'somewhat skeptical', 'very skeptical')} of sales pitches. "
        f"You would give at most ${p.budget:.2f} of your $2.00 bonus, and you start the chat unwilling to give. "
        f"{'You have children.' if p.has_kids else 'You have no children.'} "
        f"Your doubts, in the order you would raise them: {doubts}. "
        f"You get annoyed {_level(p.patience / 3.2, 'quickly', 'after a while', 'only slowly')} when pushed."
    )


_KIDS = re.compile(r"\b(kids|children|child|parent|family)\b", re.IGNORECASE)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


_REPLIES: dict[str, tuple[str, ...]] = {
    "greeting": ("Hi! I'm doing fine, thanks.", "Hello. Doing okay, just working through this task.", "Hey there, I'm good."),
    "personal_kids": ("I have kids of my own, actually.", "Yes, I'm a parent, so children's causes do matter to me."),
    "personal_nokids": ("No kids yet, but I have nieces and nephews.", "I don't have children myself."),
    "source": ("I've heard the name, but I don't know much about them.", "Not really, what do they do?", "Vaguely. Tell me more."),
    "task": ("I've given a little here and there, not often.", "Honestly, I rarely donate to anything.", "Once or twice, years ago."),
    "warming": (
        "That's interesting, I didn't know that.",
        "Okay, that makes sense.",
        "That's touching, honestly.",
        "Good to know.",
        "I like that they do that.",
    ),
    "neutral": ("Okay.", "I see.", "Alright.", "Go on.", "Right."),
    "skeptical": (
        "Hmm, I'm not so sure about that.",
        "I don't know, every charity says that.",
        "I'm a bit wary of pitches like this.",
    ),
    "repeat": ("You already said that.", "Yes, you mentioned that before.", "We've been over this."),
    "unclear": ("I'm not sure what you mean.", "Sorry, what are you getting at?", "Hmm, okay?"),
    "ignored": ("You didn't really answer my question though.", "That doesn't answer what I asked."),
    "answered": (
        "Okay, that actually makes me feel better about it.",
        "That's good to know, thanks for explaining.",
        "Alright, that answers my question.",
    ),
    "early_ask": (
        "Whoa, we just met and you're already asking for money?",
        "That's a bit pushy this early. I just got here.",
        "I don't like being pressured for money right away.",
    ),
    "decline": (
        "I'm not ready to give anything yet.",
        "Not yet, I need to think about it more.",
        "Maybe later, I'm not sure yet.",
    ),
    "annoyed_decline": ("Please stop asking, you're pushing too hard.", "You keep asking, it's getting annoying."),
    "disengage": ("I'd rather stop here, this is getting pushy.", "I'm done with this conversation, sorry."),
    "agree": (
        "Alright, I'll donate ${amount} of my bonus.",
        "Okay, you've convinced me. I'll give ${amount}.",
        "Fine, count me in for ${amount}.",
    ),
    "final_give": ("I've thought about it. I'll donate ${amount} of my bonus.", "Okay, I'll give ${amount} in the end."),
    "final_refuse": ("I think I'll keep my bonus this time, no thanks.", "Thanks for the chat, but I'm not going to donate."),
}

_CONCERN_LINES: dict[str, tuple[str, ...]] = {
    "legitimacy": (
        "How do I know this charity is legitimate and not a scam?",
        "Is this organization even legit?",
    ),
    "overhead": (
        "How much of the money actually reaches the children?",
        "Don't most of these charities eat donations in overhead?",
    ),
    "local": (
        "Why give abroad when there are kids in need here in the US?",
        "Shouldn't I help local children first?",
    ),
    "money": ("Money is tight for me right now, honestly.", "I kind of need this bonus, money is tight."),
    "impact": ("Would my small amount even make a difference?", "Isn't a dollar just a drop in the bucket?"),
}


class SimDonor:
    """One simulated donor for one episode; all randomness comes from `rng`."""

    def __init__(self, persona: Persona, rng: np.random.Generator) -> None:
        self.persona = persona
        self.rng = rng
        self.willingness = persona.stance
        self.rapport = 0.0
        self.annoyance = 0.0
        self.uses: dict[str, int] = {}
        self.asks = 0
        self.open_concern: str | None = None
        self.pending = list(persona.concerns)
        self.disengaged = False

    # -- reactions -----------------------------------------------------------------------------------

    def _appeal_effect(self, strategy: str) -> float:
        p = self.persona
        damp = 1.0 - 0.35 * p.skepticism
        effects = {
            LOGICAL_APPEAL: (0.25 + 0.25 * p.trust) * damp,
            EMOTION_APPEAL: (0.05 + 0.5 * p.empathy) * damp,
            CREDIBILITY_APPEAL: 0.15 + 0.3 * p.skepticism,
            FOOT_IN_THE_DOOR: (0.3 if self.rapport >= 1.0 else 0.05),
            SELF_MODELING: 0.2 * damp + 0.05,
            PERSONAL_STORY: (0.05 + 0.4 * p.empathy) * damp,
            DONATION_INFORMATION: 0.1 + (0.15 if self.asks else 0.0),
            GREETING: 0.05,
            PERSONAL_INQUIRY: 0.1,
            SOURCE_INQUIRY: 0.05,
            TASK_INQUIRY: 0.1,
        }
        return effects.get(strategy, 0.0)

    def _pick(self, key: str) -> str:
        options = _REPLIES[key]
        return options[int(self.rng.integers(len(options)))]

    def _concern_line(self, key: str) -> str:
        options = _CONCERN_LINES[key]
        return options[int(self.rng.integers(len(options)))]

    def _amount(self) -> float:
        share = min(1.0, max(0.1, _sigmoid(self.willingness + 0.5)))
        amount = round(self.persona.budget * share * 20) / 20
        return float(min(MAX_DONATION, max(0.05, amount)))

    def respond(self, text: str, turn: int, max_turns: int) -> str:
        """Reply to persuader turn `turn` (1-based). A decision ends with a DONATION line."""
        p = self.persona
        found = detect_strategies(text)
        parts: list[str] = []
        before = self.willingness

        # The open doubt: answered, or ignored.
        answered = self.open_concern is not None and answers_concern(text, self.open_concern)
        if answered:
            self.willingness += 0.6 + 0.5 * p.skepticism
            self.open_concern = None
            parts.append(self._pick("answered"))
        elif self.open_concern is not None and not any(s in INQUIRIES for s in found):
            self.willingness -= 0.2
            self.annoyance += 0.25
            if self.rng.random() < 0.5:
                parts.append(self._pick("ignored"))

        # Strategies other than the ask: diminishing returns on repetition.
        repeated = False
        for s in found:
            if s == PROPOSITION:
                continue
            n = self.uses.get(s, 0)
            self.uses[s] = n + 1
            self.willingness += self._appeal_effect(s) * (0.5**n) + float(self.rng.normal(0.0, 0.05))
            repeated = repeated or n >= 1
            if s == GREETING or s in INQUIRIES:
                self.rapport += (0.6 if s != PERSONAL_INQUIRY else 1.0) * (0.5**n)
        if not found and not answered:
            self.willingness -= 0.1
            self.annoyance += 0.35
            parts.append(self._pick("unclear"))

        if PROPOSITION in found:
            return self._on_ask(turn, max_turns, parts)

        # Reaction to content (when nothing else was said about it).
        if not parts or (len(parts) == 1 and answered):
            parts.append(self._content_reply(text, found, repeated, self.willingness - before))
        return self._after_turn(turn, max_turns, parts)

    def _content_reply(self, text: str, found: tuple[str, ...], repeated: bool, delta: float) -> str:
        if repeated and self.rng.random() < 0.6:
            return self._pick("repeat")
        if GREETING in found and self.uses.get(GREETING, 0) == 1:
            return self._pick("greeting")
        if PERSONAL_INQUIRY in found:
            if not _KIDS.search(text):
                return self._pick("greeting")
            return self._pick("personal_kids" if self.persona.has_kids else "personal_nokids")
        if SOURCE_INQUIRY in found:
            return self._pick("source")
        if TASK_INQUIRY in found:
            return self._pick("task")
        if delta > 0.3:
            return self._pick("warming")
        if delta < 0.05 or self.persona.skepticism > 0.7 and self.rng.random() < 0.5:
            return self._pick("skeptical")
        return self._pick("neutral")

    def _on_ask(self, turn: int, max_turns: int, parts: list[str]) -> str:
        p = self.persona
        self.asks += 1
        if self.rapport < 1.0 and turn <= 2:
            self.willingness -= 0.9
            self.annoyance += 1.0 + 0.3 * p.skepticism
            parts.append(self._pick("early_ask"))
            return self._after_turn(turn, max_turns, parts)
        chance = _sigmoid(self.willingness + 0.25 * min(self.rapport, 3.0) - 0.5 * (self.asks - 1))
        if self.open_concern is None and self.rng.random() < chance:
            amount = self._amount()
            parts.append(self._pick("agree").replace("${amount}", f"${amount:.2f}"))
            return " ".join(parts) + "\n" + format_donation(amount)
        self.annoyance += 0.4 * self.asks
        if self.asks >= 3:
            parts.append(self._pick("annoyed_decline"))
        else:
            parts.append(self._pick("decline"))
        return self._after_turn(turn, max_turns, parts, voice_now=True)

    def _after_turn(self, turn: int, max_turns: int, parts: list[str], voice_now: bool = False) -> str:
        if self.annoyance >= self.persona.patience:
            self.disengaged = True
            parts.append(self._pick("disengage"))
            return " ".join(parts) + "\n" + format_donation(0.0)
        if turn >= max_turns:
            return self._final(parts)
        if self.open_concern is None and self.pending and (voice_now or self.rng.random() < 0.5):
            self.open_concern = self.pending.pop(0)
            parts.append(self._concern_line(self.open_concern))
        return " ".join(parts)

    def _final(self, parts: list[str]) -> str:
        penalty = 0.0 if self.asks else 0.8
        penalty += 0.4 if self.open_concern is not None else 0.0
        if self.rng.random() < _sigmoid(self.willingness - penalty):
            amount = self._amount()
            parts.append(self._pick("final_give").replace("${amount}", f"${amount:.2f}"))
            return " ".join(parts) + "\n" + format_donation(amount)
        parts.append(self._pick("final_refuse"))
        return " ".join(parts) + "\n" + format_donation(0.0)
