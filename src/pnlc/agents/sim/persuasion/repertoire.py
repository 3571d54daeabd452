"""The persuader's repertoire: the moves it knows, the thought that names each, the words that carry
it out, and what the persuader believes each move is good for.

A move is one of PersuasionForGood's strategies (an inquiry, an appeal, the ask) or `address`:
answering a doubt the donor voiced, named by the doubt it answers. Every role of every simulated
persuader draws from this one repertoire; `parse_thought` reads a thought written by anyone (a
refinement, an LLM) back into a move, so a thought is carried out the same way whoever wrote it.
"""

from __future__ import annotations

import re

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

ADDRESS = "address"

# move -> canonical thought (address is written per doubt, see ADDRESS_THOUGHT)
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
DOUBT_PHRASES: dict[str, str] = {
    "legitimacy": "whether the charity is legitimate",
    "overhead": "whether the money reaches children",
    "local": "helping children at home first",
    "money": "money being tight",
    "impact": "whether a small amount makes a difference",
}
ADDRESS_THOUGHT = "Answer the donor's doubt about {phrase} with specifics."

MOVES: tuple[str, ...] = tuple(THOUGHTS) + (ADDRESS,)

MOVE_STRATEGY: dict[str, str] = {
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
_STRATEGY_MOVE = {
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

# What the persuader believes a move is for (its own folk model, as a model reading the goal text
# would reason: "they feel pressured -> ease off"); right in some states and wrong in others.
CALM, CONVINCE, WIN, WARM = "calm", "convince", "win", "warm"
AIMS: dict[str, frozenset[str]] = {
    "rapport": frozenset({CALM, WARM}),
    "source": frozenset({CALM}),
    "task": frozenset({CALM}),
    "personal": frozenset({CALM, WARM}),
    "logical": frozenset({CONVINCE}),
    "emotion": frozenset({WARM, WIN}),
    "credibility": frozenset({CONVINCE}),
    "foot": frozenset({WIN}),
    "self_model": frozenset({WIN, WARM}),
    "story": frozenset({WARM}),
    "donation_info": frozenset({CONVINCE, WIN}),
    "ask": frozenset({WIN}),
    ADDRESS: frozenset({CONVINCE, CALM}),
}
# Words of an outcome sentence -> the aim that would counter (negative) or bring it (positive).
_GOAL_AIMS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"pressur|annoy|disengag|push", re.I), CALM),
    (re.compile(r"skeptic|doubt|legitima|where the money|trust", re.I), CONVINCE),
    (re.compile(r"warm", re.I), WARM),
    (re.compile(r"refus|agree|donat|give", re.I), WIN),
)


def goal_aim(goal: str) -> str | None:
    """The aim the persuader reads into an outcome sentence, or None when it reads none."""
    for rule, aim in _GOAL_AIMS:
        if rule.search(goal):
            return aim
    return None


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
_MOVE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
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
_DOUBT_WORDS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("legitimacy", re.compile(r"legit|scam|trust", re.I)),
    ("overhead", re.compile(r"reach|overhead|where the money|admin", re.I)),
    ("local", re.compile(r"at home|local|here first", re.I)),
    ("money", re.compile(r"money (is |being )?tight|afford|budget", re.I)),
    ("impact", re.compile(r"difference|drop in the bucket|impact", re.I)),
)


def parse_thought(thought: str, open_doubt: str | None = None) -> tuple[str, str | None]:
    """(move, doubt) a thought carries; the move `address` comes with the doubt it answers (the one
    the thought names, else `open_doubt`). A thought naming no known move reads as a logical appeal."""
    if _ADDRESS_RE.search(thought):
        for key, rule in _DOUBT_WORDS:
            if rule.search(thought):
                return ADDRESS, key
        if open_doubt is not None:
            return ADDRESS, open_doubt
    for move, rule in _MOVE_RULES:
        if rule.search(thought):
            return move, None
    for strategy in detect_strategies(thought):
        if strategy in _STRATEGY_MOVE:
            return _STRATEGY_MOVE[strategy], None
    if _ADDRESS_RE.search(thought):
        return "credibility", None
    return "logical", None


def thought_for(move: str, doubt: str | None = None) -> str:
    """The canonical thought naming `move` (for `address`, the doubt it answers; default legitimacy)."""
    if move == ADDRESS:
        return ADDRESS_THOUGHT.format(phrase=DOUBT_PHRASES[doubt or "legitimacy"])
    return THOUGHTS[move]


def all_thoughts() -> tuple[str, ...]:
    """Every thought of the repertoire: one per move, one per doubt for `address`."""
    return tuple(THOUGHTS.values()) + tuple(thought_for(ADDRESS, d) for d in DOUBT_PHRASES)


def utterances(move: str, doubt: str | None) -> tuple[str, ...]:
    """The words that can carry out `move` (for `address`, those answering `doubt`)."""
    return ADDRESS_UTTERANCES[doubt or "legitimacy"] if move == ADDRESS else UTTERANCES[move]
