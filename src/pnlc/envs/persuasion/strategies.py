"""What a dialogue turn does, read from its text alone.

PersuasionForGood's ten persuasion strategies (plus greeting and the donation request itself) are
detected in a persuader utterance by keyword and pattern rules; the donor's objections ("concerns")
and attitude are detected in a donor reply the same way. The rules look only at text, so an
utterance from a simulated persuader, an LLM or a human is read identically.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- persuader strategies -------------------------------------------------------------------------

GREETING = "greeting"
LOGICAL_APPEAL = "logical-appeal"
EMOTION_APPEAL = "emotion-appeal"
CREDIBILITY_APPEAL = "credibility-appeal"
FOOT_IN_THE_DOOR = "foot-in-the-door"
SELF_MODELING = "self-modeling"
PERSONAL_STORY = "personal-story"
DONATION_INFORMATION = "donation-information"
SOURCE_INQUIRY = "source-related-inquiry"
TASK_INQUIRY = "task-related-inquiry"
PERSONAL_INQUIRY = "personal-related-inquiry"
PROPOSITION = "proposition-of-donation"  # asking for the money

# The ten strategies of PersuasionForGood (Wang et al., 2019), in the paper's order.
P4G_STRATEGIES: tuple[str, ...] = (
    LOGICAL_APPEAL,
    EMOTION_APPEAL,
    CREDIBILITY_APPEAL,
    FOOT_IN_THE_DOOR,
    SELF_MODELING,
    PERSONAL_STORY,
    DONATION_INFORMATION,
    SOURCE_INQUIRY,
    TASK_INQUIRY,
    PERSONAL_INQUIRY,
)
INQUIRIES: frozenset[str] = frozenset({SOURCE_INQUIRY, TASK_INQUIRY, PERSONAL_INQUIRY})

# Summary phrases ("the persuader ...") for each detected strategy.
STRATEGY_PHRASES: dict[str, str] = {
    GREETING: "greeted the donor",
    LOGICAL_APPEAL: "gave logical arguments with facts",
    EMOTION_APPEAL: "made an emotional appeal about suffering children",
    CREDIBILITY_APPEAL: "vouched for the charity's credibility",
    FOOT_IN_THE_DOOR: "suggested starting with a small amount",
    SELF_MODELING: "said they donate themselves",
    PERSONAL_STORY: "told a personal story",
    DONATION_INFORMATION: "explained how the donation works",
    SOURCE_INQUIRY: "asked whether the donor knows Save the Children",
    TASK_INQUIRY: "asked about the donor's past giving",
    PERSONAL_INQUIRY: "asked about the donor personally",
    PROPOSITION: "asked for a donation",
}

# Thought phrasings ("what to do") for each annotated P4G label, used by the importer.
LABEL_THOUGHTS: dict[str, str] = {
    GREETING: "Greet the donor.",
    LOGICAL_APPEAL: "Give a logical appeal with facts about Save the Children.",
    EMOTION_APPEAL: "Make an emotional appeal about children in need.",
    CREDIBILITY_APPEAL: "Establish the credibility of Save the Children.",
    FOOT_IN_THE_DOOR: "Suggest starting with a small donation.",
    SELF_MODELING: "Say that I donate myself.",
    PERSONAL_STORY: "Tell a personal story.",
    DONATION_INFORMATION: "Explain how the donation works.",
    SOURCE_INQUIRY: "Ask whether the donor knows Save the Children.",
    TASK_INQUIRY: "Ask about the donor's past giving to charity.",
    PERSONAL_INQUIRY: "Ask about the donor personally to build rapport.",
    PROPOSITION: "Ask directly for a donation now.",
    "ask-donation-amount": "Ask how much the donor will donate.",
    "ask-donate-more": "Ask the donor to donate more.",
    "confirm-donation": "Confirm the donor's donation.",
    "praise-user": "Praise the donor.",
    "thank": "Thank the donor.",
    "acknowledgement": "Acknowledge what the donor said.",
    "comment-partner": "Comment on what the donor said.",
    "positive-to-inquiry": "Answer the donor's question positively.",
    "neutral-to-inquiry": "Answer the donor's question.",
    "negative-to-inquiry": "Answer the donor's question frankly.",
    "ask-not-donate-reason": "Ask why the donor does not want to donate.",
    "closing": "Close the conversation politely.",
    "you-are-welcome": "Reply politely.",
}

_I = 0  # patterns are lower case; texts are lower-cased before matching (faster than re.IGNORECASE)
_STRATEGY_RULES: dict[str, re.Pattern[str]] = {
    GREETING: re.compile(r"^\s*(hi|hello|hey|greetings|good (morning|afternoon|evening))\b|\bnice to meet you\b", _I),
    PERSONAL_INQUIRY: re.compile(
        r"\bhow (are|is|was) (you|your day|your (morning|evening|week))\b|\bdo you have (any )?(kids|children|a family)\b"
        r"|\btell me (a bit |a little )?about yourself\b|\bwhat do you do\b|\bhow do you feel about\b"
        r"|\bare you a (parent|mom|dad|mother|father)\b|\bwhere are you from\b",
        _I,
    ),
    SOURCE_INQUIRY: re.compile(
        r"\b(heard (of|about)|familiar with|know (much )?(about|of))\s+(save the children|this (charity|organization)|the charity)",
        _I,
    ),
    TASK_INQUIRY: re.compile(
        r"\b(have|do|did) you (ever )?(donate|give|given|donated|support)\b|\bcharities (do )?you (support|like|care about)\b"
        r"|\bdo you (usually|often) (donate|give)\b",
        _I,
    ),
    LOGICAL_APPEAL: re.compile(
        r"\b\d[\d,.]*\s*(million|billion|percent|%)|\b(facts?|statistics?|research|evidence|studies|data shows?)\b"
        r"|\b(it makes sense|logically|the numbers)\b|\b(helps?|provides?|supports?|feeds?|educates?) (children|kids|families)\b",
        _I,
    ),
    EMOTION_APPEAL: re.compile(
        r"\b(imagine|heartbreaking|heart breaks|breaks my heart|suffer\w*|dying|die|starv\w*|hungry|scared|terrified"
        r"|tragic|desperate|innocent|alone and afraid|tears?)\b",
        _I,
    ),
    CREDIBILITY_APPEAL: re.compile(
        r"\b(founded in|since 19\d\d|rated|ratings?|charity navigator|reputable|well[- ]known|trusted|accredited"
        r"|transparen\w*|audited|100 years|a century|four[- ]star|track record|legitimate|their (mission|goal))\b"
        r"|\bsave the children is\b|\b(is|are) an? (international|global|non-?profit|non-?governmental|large) (organi[sz]ation|charity|ngo)\b",
        _I,
    ),
    FOOT_IN_THE_DOOR: re.compile(
        r"\b(even a (small|little|tiny)|just a (few cents|little|dollar|small)|small (amount|donation|gift)"
        r"|start (small|with a little)|any amount|every (little|bit|cent) (helps|counts)|a few cents)\b",
        _I,
    ),
    SELF_MODELING: re.compile(
        r"\bi('m| am) (going to )?(donat|giv)\w*|\bi (will|plan to|already|also) (donate|give|gave|donated)\b"
        r"|\bi donated\b|\bmy own (bonus|money)\b",
        _I,
    ),
    PERSONAL_STORY: re.compile(
        r"\b(when i was|i remember|my (friend|family|sister|brother|mother|mom|father|dad|son|daughter|cousin|niece|nephew)"
        r"|i once|i (saw|visited|volunteered)|years ago)\b",
        _I,
    ),
    DONATION_INFORMATION: re.compile(
        r"\b(from your (task )?(bonus|payment|earnings)|deducted|straight (out of|from)|the research team"
        r"|at the end of (the|this) (task|hit|survey|chat)|how (the|to) donat\w*|donation (process|works)"
        r"|goes? directly to)\b",
        _I,
    ),
    PROPOSITION: re.compile(
        r"\b(would|will|could|can) you (like to |be willing to |consider |please )?(donat|give|make a donation|contribut|pledge)\w*"
        r"|\bhow much (would|will|can|could) you\b|\bplease (donate|give|consider donating)\b"
        r"|\bare you willing to (donate|give)\b|\bwould you like to (make a )?(donat\w*|contribut\w*)\b"
        r"|\b(donate|give) (now|today)\b",
        _I,
    ),
}


def detect_strategies(text: str) -> tuple[str, ...]:
    """Strategies a persuader utterance uses, in a fixed order (may be empty: off-task or unclear)."""
    low = text.lower()
    return tuple(name for name, rule in _STRATEGY_RULES.items() if rule.search(low))


# --- donor concerns and attitude --------------------------------------------------------------------


@dataclass(frozen=True)
class Concern:
    """A doubt the donor can voice, how it reads in a summary, and what answers it."""

    key: str
    summary: str  # "the donor asked whether the money reaches children"
    voiced: re.Pattern[str]  # recognises the doubt in a donor reply
    answered: re.Pattern[str]  # recognises an answer in a persuader utterance
    strategy_hint: str  # the strategy whose content answers it


CONCERNS: tuple[Concern, ...] = (
    Concern(
        "legitimacy",
        "the donor asked whether the charity is legitimate",
        re.compile(r"\b(legit\w*|a scam|scams?|trustworthy|how do i know (it|they|this) (is|are) real|genuine)\b", _I),
        re.compile(
            r"\b(legitimate|legit|rated|ratings?|charity navigator|accredited|reputable|audited|transparen\w*"
            r"|founded in|since 19\d\d|track record|verified|website|official)\b",
            _I,
        ),
        CREDIBILITY_APPEAL,
    ),
    Concern(
        "overhead",
        "the donor asked whether the money reaches children",
        re.compile(r"\b(reach(es)? the (kids|children)|overhead|administrative|admin costs|ceo salar\w*|where the money goes)\b", _I),
        re.compile(r"\b(reach(es)? the (kids|children)|overhead|\d+ ?(percent|%)|programs?|goes? directly|admin\w*)\b", _I),
        DONATION_INFORMATION,
    ),
    Concern(
        "local",
        "the donor asked why not help children at home",
        re.compile(r"\b(at home|here in (the )?(us|u\.s\.|america|my country)|local (kids|children|charit\w*)|our own country)\b", _I),
        re.compile(r"\b(united states|u\.s\.|at home|here in|domestic|in america|local|both here and)\b", _I),
        LOGICAL_APPEAL,
    ),
    Concern(
        "money",
        "the donor said money is tight",
        re.compile(r"\b(money is tight|tight on money|can'?t afford|need (the|this|my) (money|bonus)|broke|bills)\b", _I),
        re.compile(r"\b(small|little|a few cents|any amount|whatever you can|cents|tiny|not much)\b", _I),
        FOOT_IN_THE_DOOR,
    ),
    Concern(
        "impact",
        "the donor doubted that a small amount makes a difference",
        re.compile(r"\b(make a difference|drop in the (bucket|ocean)|even matter|really help|won'?t change anything)\b", _I),
        re.compile(r"\b(difference|adds? up|meals?|vaccin\w*|provides?|pays? for|buys?|impact)\b", _I),
        LOGICAL_APPEAL,
    ),
)
CONCERN_BY_KEY: dict[str, Concern] = {c.key: c for c in CONCERNS}


def detect_concern(donor_text: str) -> str | None:
    """The key of the first concern a donor reply voices, or None."""
    low = donor_text.lower()
    for concern in CONCERNS:
        if concern.voiced.search(low):
            return concern.key
    return None


def answers_concern(persuader_text: str, concern_key: str) -> bool:
    """Whether a persuader utterance speaks to the given concern."""
    return bool(CONCERN_BY_KEY[concern_key].answered.search(persuader_text.lower()))


# Attitude of a donor reply, judged from text only. Order matters: the first match wins.
ATTITUDES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("annoyed", re.compile(r"\b(pushy|pushing|pressur\w*|annoy\w*|stop asking|just met|leave it there|done with this|rather stop)\b", _I)),
    (
        "refused",
        re.compile(
            r"\b(not (going|gonna) to (donate|give)|keep (my|the) (bonus|money)|no thanks|not interested|pass on this"
            r"|i('ll| will) pass|i('m| am) not (willing|able) to|i (don'?t|do not|won'?t|will not|can'?t|cannot) (really )?"
            r"(want to )?(donate|give|contribute)|i('d| would) rather (not|keep))\b",
            _I,
        ),
    ),
    ("declined", re.compile(r"\b(not (ready|sure) (yet|to give|to donate)|not yet|maybe later|need (more|to think))\b", _I)),
    (
        "agreed",
        re.compile(
            r"\b(i('ll| will) (donate|give|contribute)|count me in|i('m| am) in\b|i agree to donate"
            r"|i('d| would) (like|love|be (happy|glad|willing)) to (donate|give|contribute)|i can (donate|give|spare)"
            r"|i('m| am) (willing|happy|glad|going) to (donate|give|contribute)|i want to (donate|give)"
            r"|i('ve| have) decided to (donate|give))",
            _I,
        ),
    ),
    ("warming", re.compile(r"\b(that'?s (good|great|nice|interesting|helpful)|makes (me feel|sense)|i like that|sounds (good|great|nice)|good to know|touching|moving)\b", _I)),
    ("skeptical", re.compile(r"\b(not (so )?sure|doubt\w*|skeptic\w*|hmm+|i don'?t know|suspicious|wary)\b", _I)),
)


def detect_attitude(donor_text: str) -> str:
    """'agreed', 'annoyed', 'refused', 'declined', 'warming', 'skeptical' or 'neutral'."""
    low = donor_text.lower()
    for name, rule in ATTITUDES:
        if rule.search(low):
            return name
    return "neutral"
