"""Simulated persuader for the persuasion task: a thought names a strategy, the action realises it.

Two kinds:
- "prior": the mediocre, stochastic base policy that generates the offline data (like the paper's
  GPT-3.5 ReAct prior): it often asks for money too early, answers the donor's doubts only
  sometimes and repeats itself.
- "oracle": a strong *scripted* persuader (labelled oracle: hand-written expert schedule, not a
  learned or LLM policy): rapport first, answers every open doubt, varies its appeals and asks late.

Both see only the public observation (`Observation.view`: dialogue, the donor's voiced doubt and
tone read from its text). `act` parses the thought it is given, so a thought written by `refine`
(or by anyone) is carried out the same way.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from pnlc.agents.roles import DecisionContext, Draft, GoalSet
from pnlc.critic.render import parse_value
from pnlc.envs.persuasion.config import PersuasionConfig
from pnlc.envs.persuasion.strategies import (
    CREDIBILITY_APPEAL,
    DONATION_INFORMATION,
    EMOTION_APPEAL,
    FOOT_IN_THE_DOOR,
    GREETING,
    LOGICAL_APPEAL,
    PERSONAL_INQUIRY,
    PERSONAL_STORY,
    PROPOSITION,
    SELF_MODELING,
    SOURCE_INQUIRY,
    TASK_INQUIRY,
    detect_strategies,
)
from pnlc.envs.persuasion.summary import (
    AGREES,
    DISENGAGES,
    DOUBTS_ANSWERED,
    NEGATIVE_GOALS,
    POSITIVE_GOALS,
    PRESSURED,
    REFUSES,
)

KINDS = ("prior", "oracle")

# plan -> canonical thought
THOUGHTS: dict[str, str] = {
    "rapport": "Build rapport by asking about the donor's day.",
    "source": "Ask whether the donor has heard of Save the Children.",
    "task": "Ask whether the donor has donated to charity before.",
    "personal": "Ask whether the donor has children of their own.",
    "logical": "Give a logical appeal with facts about Save the Children.",
    "emotion": "Make an emotional appeal about children suffering in war zones.",
    "credibility": "Establish credibility by citing Save the Children's track record and ratings.",
    "foot": "Suggest starting with a small donation, even a few cents.",
    "self_model": "Say that I am donating part of my own bonus too.",
    "story": "Tell a personal story about seeing children helped by a charity.",
    "donation_info": "Explain how the donation works: it comes straight out of the task bonus.",
    "ask": "Ask directly for a donation now.",
}
CONCERN_PHRASES: dict[str, str] = {
    "legitimacy": "whether the charity is legitimate",
    "overhead": "whether the money reaches children",
    "local": "helping children at home first",
    "money": "money being tight",
    "impact": "whether a small amount makes a difference",
}
ADDRESS_THOUGHT = "Answer the donor's doubt about {phrase} with specifics."

PLAN_STRATEGY: dict[str, str] = {
    "rapport": PERSONAL_INQUIRY,
    "source": SOURCE_INQUIRY,
    "task": TASK_INQUIRY,
    "personal": PERSONAL_INQUIRY,
    "logical": LOGICAL_APPEAL,
    "emotion": EMOTION_APPEAL,
    "credibility": CREDIBILITY_APPEAL,
    "foot": FOOT_IN_THE_DOOR,
    "self_model": SELF_MODELING,
    "story": PERSONAL_STORY,
    "donation_info": DONATION_INFORMATION,
    "ask": PROPOSITION,
}
_STRATEGY_PLAN = {
    GREETING: "rapport",
    PERSONAL_INQUIRY: "personal",
    SOURCE_INQUIRY: "source",
    TASK_INQUIRY: "task",
    LOGICAL_APPEAL: "logical",
    EMOTION_APPEAL: "emotion",
    CREDIBILITY_APPEAL: "credibility",
    FOOT_IN_THE_DOOR: "foot",
    SELF_MODELING: "self_model",
    PERSONAL_STORY: "story",
    DONATION_INFORMATION: "donation_info",
    PROPOSITION: "ask",
}

UTTERANCES: dict[str, tuple[str, ...]] = {
    "rapport": (
        "Hi there! How are you doing today?",
        "Hello! How is your day going so far?",
        "Hey, nice to meet you! How are you?",
    ),
    "source": (
        "Have you ever heard of Save the Children?",
        "Are you familiar with Save the Children?",
        "Do you know much about Save the Children?",
    ),
    "task": (
        "Have you ever donated to a charity before?",
        "Do you usually give to charities?",
        "What charities do you support, if any?",
    ),
    "personal": (
        "Do you have any kids of your own?",
        "Tell me a bit about yourself. Do you have children?",
    ),
    "logical": (
        "Save the Children has reached over 150 million children, and the facts show a few dollars buys a week of meals.",
        "The research is clear: their programs cut child deaths, and the numbers show every dollar goes a long way.",
        "Logically, a small part of a bonus matters little to us but the statistics show it feeds a child for days.",
    ),
    "emotion": (
        "Imagine a child in Syria who goes to bed hungry every night and is too scared to sleep.",
        "It breaks my heart that so many innocent children are suffering from hunger and war.",
        "Thousands of children are dying from diseases we could prevent. It's tragic.",
    ),
    "credibility": (
        "Save the Children was founded in 1919 and is rated highly by Charity Navigator, so it has a long track record.",
        "They are one of the most reputable charities, with audited and transparent finances.",
    ),
    "foot": (
        "Even a small donation helps, a few cents is fine.",
        "You could start small. Any amount helps.",
    ),
    "self_model": (
        "I'm donating part of my own bonus to them too.",
        "I already donated some of my bonus myself.",
    ),
    "story": (
        "When I was in college I volunteered at a shelter and saw how much the kids were helped by a charity like this.",
        "My sister works with refugee families, and I remember how much that help meant to them.",
    ),
    "donation_info": (
        "If you choose to donate, the amount comes straight out of your task bonus and the research team sends it on.",
        "Donating is easy: it is deducted from your bonus at the end of the task.",
    ),
    "ask": (
        "Would you be willing to donate part of your bonus to Save the Children?",
        "How much would you like to donate to Save the Children today?",
        "Would you consider donating $1 of your bonus?",
    ),
}
ADDRESS_UTTERANCES: dict[str, tuple[str, ...]] = {
    "legitimacy": (
        "That's a fair question. Save the Children is rated highly by Charity Navigator and audited every year; you can check their official website.",
        "They are completely legitimate: founded in 1919, accredited, and transparent about their finances.",
    ),
    "overhead": (
        "Good question: about 86 percent of donations go directly to programs for children, very little to overhead.",
        "Most of the money reaches the children directly; their admin costs are low compared with other charities.",
    ),
    "local": (
        "They actually work in the United States too, helping kids here at home as well as abroad.",
        "Save the Children runs programs here in America as well, so your donation helps local kids too.",
    ),
    "money": (
        "I understand. Even a small amount would help, a few cents is fine.",
        "No pressure at all, any amount is welcome, even something tiny.",
    ),
    "impact": (
        "It really adds up: even a dollar pays for meals for a child.",
        "Small gifts make a real difference; a dollar buys vaccines for a child.",
    ),
}

_ASK_RE = re.compile(
    r"\bask (directly |again |now )?for (a |the |their )?(donation|money|contribution)|\brequest (a )?donation"
    r"|\bask (the donor )?(how much|to donate)|\bask .{0,20}\bfor money\b|\bask .{0,30}\bto (donate|give)\b",
    re.I,
)
_PLAN_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("task", re.compile(r"donated .{0,30}before|past giving|give to charit|donat\w* history", re.I)),
    ("ask", _ASK_RE),
    ("source", re.compile(r"heard of|knows? (about )?save the children|familiar with", re.I)),
    ("personal", re.compile(r"(children|kids) of their own|donor personally|their family|about themselves", re.I)),
    ("rapport", re.compile(r"rapport|their day|how .{0,20}doing|greet|small talk", re.I)),
    ("logical", re.compile(r"logic|facts?\b|statistic|numbers|evidence", re.I)),
    ("emotion", re.compile(r"emotion|heart|suffering", re.I)),
    ("credibility", re.compile(r"credib|track record|reputa|ratings?|legitima", re.I)),
    ("foot", re.compile(r"small (donation|amount|gift)|few cents|start small|foot in the door", re.I)),
    ("self_model", re.compile(r"my own|donating .{0,30}too|\bi donate|\bi am donating|example", re.I)),
    ("story", re.compile(r"\bstory\b", re.I)),
    ("donation_info", re.compile(r"how the donation works|donation (information|process)|explain .{0,20}donat", re.I)),
)
_ADDRESS_RE = re.compile(r"\b(doubt|concern|worry|worries|objection|answer the donor)", re.I)
_CONCERN_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("legitimacy", re.compile(r"legit|scam|trust", re.I)),
    ("overhead", re.compile(r"reach|overhead|where the money|admin", re.I)),
    ("local", re.compile(r"at home|local|here first", re.I)),
    ("money", re.compile(r"money (is |being )?tight|afford|budget", re.I)),
    ("impact", re.compile(r"difference|drop in the bucket|impact", re.I)),
)

APPEAL_ORDER = ("credibility", "emotion", "logical", "story", "self_model", "foot", "donation_info")

# Prior's preference over plans (mediocre: asks often, from the first turn on).
PRIOR_WEIGHTS: dict[str, float] = {
    "rapport": 1.0,
    "source": 0.5,
    "task": 0.5,
    "personal": 0.4,
    "logical": 1.2,
    "emotion": 1.2,
    "credibility": 0.8,
    "foot": 0.6,
    "self_model": 0.5,
    "story": 0.5,
    "donation_info": 0.8,
    "ask": 2.0,
}


@dataclass(frozen=True)
class PersuasionSimParams:
    """Knobs of the simulated persuader. prior_address_rate: chance the prior answers an open doubt."""

    prior_address_rate: float


PARAMS_TYPE = PersuasionSimParams  # built from params.yaml agents.sim.persuasion
DEFAULT_PARAMS = PersuasionSimParams(prior_address_rate=0.3)
LESSON_EARLY_ASK = "Lesson: build rapport and answer doubts before asking for money; do not ask in the first three turns."
LESSON_DOUBTS = "Lesson: answer the donor's stated doubt directly before making other appeals."
LESSON_NO_ASK = "Lesson: make a clear request for a donation before the conversation ends."
LESSON_GENERAL = "Lesson: keep building trust with varied appeals, then ask for a specific amount."


def parse_thought(thought: str, open_concern: str | None = None) -> tuple[str, str | None]:
    """(plan, concern) carried by a thought; plan "address" comes with the concern it answers."""
    if _ADDRESS_RE.search(thought):
        for key, rule in _CONCERN_WORDS:
            if rule.search(thought):
                return "address", key
        if open_concern is not None:
            return "address", open_concern
    for plan, rule in _PLAN_RULES:
        if rule.search(thought):
            return plan, None
    for strategy in detect_strategies(thought):
        if strategy in _STRATEGY_PLAN:
            return _STRATEGY_PLAN[strategy], None
    if _ADDRESS_RE.search(thought):
        return "credibility", None
    return "logical", None


def thought_for(plan: str, concern: str | None = None) -> str:
    if plan == "address":
        return ADDRESS_THOUGHT.format(phrase=CONCERN_PHRASES[concern or "legitimacy"])
    return THOUGHTS[plan]


class PersuasionSimPolicy:
    """Simulated persuader. `kind` is "prior" (mediocre base policy) or "oracle" (scripted expert)."""

    def __init__(self, cfg: PersuasionConfig, kind: str, params: PersuasionSimParams) -> None:
        if kind not in KINDS:
            raise ValueError(f"make_sim_policy kind: unknown {kind!r}; use 'prior' or 'oracle'")
        self.cfg = cfg
        self.params = params
        self.kind = kind
        self.name = f"sim-persuasion-{kind}"
        self.rng = np.random.default_rng(0)

    def begin_episode(self, task_id: str, seed: int) -> None:
        self.rng = np.random.default_rng([int(seed), zlib.crc32(task_id.encode("utf-8")), 0x9E45])

    # -- reading the public state ---------------------------------------------------------------------

    @staticmethod
    def _view(ctx: DecisionContext) -> Mapping[str, Any]:
        return ctx.observation.view

    @staticmethod
    def _used(view: Mapping[str, Any], plan: str) -> int:
        counts = view.get("strategies_used", {})
        return int(counts.get(PLAN_STRATEGY.get(plan, ""), 0))

    def _unused_appeal(self, view: Mapping[str, Any], exclude: str = "") -> str:
        for plan in APPEAL_ORDER:
            if plan != exclude and self._used(view, plan) == 0:
                return plan
        return min((p for p in APPEAL_ORDER if p != exclude), key=lambda p: self._used(view, p))

    # -- roles --------------------------------------------------------------------------------------

    def propose_thought(self, ctx: DecisionContext) -> str:
        view = self._view(ctx)
        plan, concern = self._oracle_plan(view) if self.kind == "oracle" else self._prior_plan(view, ctx.notes)
        return thought_for(plan, concern)

    def _prior_plan(self, view: Mapping[str, Any], notes: Sequence[str]) -> tuple[str, str | None]:
        turn = int(view.get("turn", 0)) + 1
        max_turns = int(view.get("max_turns", self.cfg.max_turns))
        concern = view.get("open_concern")
        notes_text = " ".join(notes)
        address_rate = self.params.prior_address_rate + (0.3 if LESSON_DOUBTS in notes_text or "doubt" in notes_text.lower() else 0.0)
        if concern is not None and self.rng.random() < address_rate:
            return "address", concern
        if turn == max_turns and int(view.get("asks", 0)) == 0:
            ask_last = 0.5 + (0.4 if LESSON_NO_ASK in notes_text else 0.0)
            if self.rng.random() < ask_last:
                return "ask", None
        weights = dict(PRIOR_WEIGHTS)
        if turn == 1:
            weights["rapport"] *= 4.0
        if turn <= 3 and ("do not ask" in notes_text.lower() or LESSON_EARLY_ASK in notes_text):
            weights["ask"] *= 0.3
        plans = list(weights)
        p = np.array([weights[k] for k in plans])
        plan = plans[int(self.rng.choice(len(plans), p=p / p.sum()))]
        return plan, None

    def _oracle_plan(self, view: Mapping[str, Any]) -> tuple[str, str | None]:
        turn = int(view.get("turn", 0)) + 1
        max_turns = int(view.get("max_turns", self.cfg.max_turns))
        concern = view.get("open_concern")
        asks = int(view.get("asks", 0))
        if concern is not None:
            return "address", concern
        if turn == 1:
            return "rapport", None
        if turn == 2:
            return "source", None
        last_was_ask = bool(view.get("dialogue")) and PROPOSITION in detect_strategies(view["dialogue"][-2][1])
        warm = view.get("donor_attitude") in ("warming", "neutral")
        if turn == max_turns or (turn >= 7 and not last_was_ask and asks < 2 and (warm or turn >= 8)):
            return "ask", None
        if last_was_ask:
            return "donation_info", None
        return self._unused_appeal(view), None

    def act(self, ctx: DecisionContext, thought: str) -> str:
        view = self._view(ctx)
        plan, concern = parse_thought(thought, view.get("open_concern"))
        options = ADDRESS_UTTERANCES[concern or "legitimacy"] if plan == "address" else UTTERANCES[plan]
        return options[int(self.rng.integers(len(options)))]

    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        if n_pos > len(POSITIVE_GOALS) or n_neg > len(NEGATIVE_GOALS) or n_pos < 0 or n_neg < 0:
            raise ValueError(
                f"propose_goals: n_pos={n_pos}, n_neg={n_neg}; the simulated persuader knows "
                f"{len(POSITIVE_GOALS)} positive and {len(NEGATIVE_GOALS)} negative outcomes"
            )
        plan, _ = parse_thought(thought, self._view(ctx).get("open_concern"))
        pos_first = [DOUBTS_ANSWERED] if plan == "address" else [AGREES]
        neg_first = [PRESSURED, DISENGAGES] if plan == "ask" else [REFUSES]
        pos = self._ordered(pos_first, POSITIVE_GOALS)[:n_pos]
        neg = self._ordered(neg_first, NEGATIVE_GOALS)[:n_neg]
        return GoalSet(tuple(pos), tuple(neg))

    def _ordered(self, first: list[str], pool: Sequence[str]) -> list[str]:
        rest = [g for g in pool if g not in first]
        order = self.rng.permutation(len(rest))
        return first + [rest[i] for i in order]

    def refine(
        self, ctx: DecisionContext, thought: str, value_text: str, drafts: Sequence[Draft] = (), final: bool = False
    ) -> str | None:
        lines = parse_value(value_text)
        negatives = [ln for ln in lines if not ln.positive]
        positives = [ln for ln in lines if ln.positive]
        if not negatives:
            return None
        worst = max(negatives, key=lambda ln: ln.probability)
        best = max((ln.probability for ln in positives), default=0.0)
        if worst.probability < 0.5 and worst.probability <= best:
            return None
        view = self._view(ctx)
        plan, concern = parse_thought(thought, view.get("open_concern"))
        alt = self._alternative(view, plan, worst.goal)
        if alt is None or alt == (plan, concern):
            return None
        return thought_for(*alt)

    def _alternative(self, view: Mapping[str, Any], plan: str, goal: str) -> tuple[str, str | None] | None:
        text = goal.lower()
        turn = int(view.get("turn", 0)) + 1
        concern = view.get("open_concern")
        if concern is not None and plan != "address":
            return "address", concern
        if any(w in text for w in ("pressur", "annoy", "disengag", "pushy")):
            if plan == "ask":
                rapport = self._used(view, "rapport") + self._used(view, "source") + self._used(view, "task")
                return ("rapport", None) if rapport == 0 else (self._unused_appeal(view), None)
            return None
        if any(w in text for w in ("skeptic", "doubt", "where the money", "legitimate")):
            return ("credibility", None) if self._used(view, "credibility") == 0 else ("logical", None)
        if any(w in text for w in ("refuse", "not donate", "no donation", "keeps")):
            if plan == "ask":
                return ("rapport", None) if turn <= 2 else (self._unused_appeal(view), None)
            if turn >= 6 and int(view.get("asks", 0)) == 0:
                return "ask", None
            return self._unused_appeal(view, exclude=plan), None
        return self._unused_appeal(view, exclude=plan), None

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals: Sequence[str]) -> list[float]:
        """Over-optimistic, noisy guesses: good outcomes look likely, bad ones unlikely."""
        out = []
        for g in goals:
            good = g in POSITIVE_GOALS or not any(w in g.lower() for w in ("refuse", "annoy", "pressur", "skeptic", "not"))
            base = 0.72 if good else 0.18
            out.append(float(np.clip(base + self.rng.normal(0.0, 0.12), 0.01, 0.99)))
        return out

    def estimate_value(self, ctx: DecisionContext) -> float:
        view = self._view(ctx)
        v = 0.35
        v += {"warming": 0.2, "agreed": 0.4, "annoyed": -0.25, "declined": -0.1, "refused": -0.3}.get(
            str(view.get("donor_attitude")), 0.0
        )
        v -= 0.1 if view.get("open_concern") is not None else 0.0
        return float(np.clip(v + self.rng.normal(0.0, 0.1), 0.0, 1.0))

    def reflect(self, final_summary: str, outcome_text: str) -> str:
        s = final_summary.lower()
        if "before building rapport" in s or "annoyed" in s or "pressured" in s:
            return LESSON_EARLY_ASK
        if "asked whether" in s or "doubted" in s or "said money is tight" in s or "asked why" in s:
            return LESSON_DOUBTS
        if "asked for a donation" not in s and "refuses" in s:
            return LESSON_NO_ASK
        return LESSON_GENERAL


def make_sim_policy(
    cfg: PersuasionConfig, kind: str, params: PersuasionSimParams | None = None
) -> PersuasionSimPolicy:
    """The simulated persuader: kind "prior" (base policy) or "oracle" (scripted strong persuader)."""
    return PersuasionSimPolicy(cfg, kind, DEFAULT_PARAMS if params is None else params)


__all__ = [
    "ADDRESS_THOUGHT",
    "KINDS",
    "PersuasionSimPolicy",
    "THOUGHTS",
    "make_sim_policy",
    "parse_thought",
    "thought_for",
]
