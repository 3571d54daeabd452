"""The shopper's repertoire: every move a simulated shopper (prior, refinement or oracle) can
write as a thought, the text of each, and the action a thought implies.

A thought names its move and its target in words ("Open B0AB12CD34, 'Lumora Paraben Free
Shampoo...', the result whose title matches the most requested words."), so the critic reads what
will be done, and `action_for` reads the thought back into an environment action: the thought
causally decides the move, whoever wrote it.

No move is right everywhere: buying at once loses when an option is unselected or the item is the
wrong one; selecting, inspecting and going back cost steps that an episode capped at 15 actions
may not have; the top search result, the best-matching title and the cheapest match are different
products on some pages and the same on others; a longer query finds the exact item or misses it
for words that other products share.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from pnlc.agents.sim.webshop.reading import parse_instruction
from pnlc.envs.webshop import BACK_TO_SEARCH, BUY_NOW, NEXT_PAGE, PREV_PAGE

PAGE_MOVES: Mapping[str, tuple[str, ...]] = {
    "search": ("search_core", "search_options", "search_short"),
    "results": ("open_top", "open_match", "open_cheap", "next_page", "new_search"),
    "item": ("buy", "select", "inspect", "back"),
    "subpage": ("return_item", "new_search"),
}
MOVES = tuple(dict.fromkeys(m for moves in PAGE_MOVES.values() for m in moves))

TEMPLATES: Mapping[str, str] = {
    "search_core": "Search for '{q}': the product type and its requested attributes.",
    "search_options": "Search for '{q}': the type, the attributes and the requested options together.",
    "search_short": "Search for '{q}': just a few words, to see a broader range.",
    "open_top": "Open the top result {asin}, '{title}'.",
    "open_match": "Open {asin}, '{title}', the result whose title matches the most requested words.",
    "open_cheap": "Open {asin}, '{title}', the cheapest result that looks like the product.",
    "next_page": "Look at the next page of results.",
    "new_search": "Go back to search and try different words.",
    "buy": "Buy this item now.",
    "select": "Select {name} '{value}' before buying.",
    "inspect": "Check the features for '{attr}' before buying.",
    "back": "Go back to the results and open another item.",
    "return_item": "Go back to the item page.",
}

# the fixed phrase that identifies each move in a thought (checked in this order)
_MARKS: tuple[tuple[str, str], ...] = (
    ("search_core", "the product type and its requested attributes"),
    ("search_options", "and the requested options together"),
    ("search_short", "just a few words"),
    ("open_top", "open the top result"),
    ("open_match", "matches the most requested words"),
    ("open_cheap", "the cheapest result"),
    ("next_page", "next page"),
    ("new_search", "go back to search"),
    ("buy", "buy this item now"),
    ("select", "before buying."),
    ("inspect", "check the features"),
    ("back", "go back to the results"),
    ("return_item", "go back to the item page"),
)
_QUOTED = re.compile(r"'(.+?)'(?=[:,.\s]|$)")
_ASIN = re.compile(r"\b(B[0-9A-Z]{9})\b")
_SELECT = re.compile(r"^Select (.+?) '(.+)' before buying\.$")


def page_kind(view: Mapping[str, Any]) -> str:
    """search | results | item | subpage | done."""
    page = str(view.get("page"))
    return "subpage" if page in ("description", "features", "reviews") else page


def short_title(title: str, n_words: int = 8) -> str:
    parts = title.replace("'", "").split()
    return " ".join(parts[:n_words]) + ("..." if len(parts) > n_words else "")


def write(move: str, **slots: str) -> str:
    """The thought text of `move` with its slots filled."""
    return TEMPLATES[move].format(**slots)


def quoted(thought: str) -> str:
    """The first quoted text of a thought (a query, a title or an option value), or ""."""
    m = _QUOTED.search(thought)
    return m.group(1) if m else ""


def move_of(thought: str) -> str | None:
    """The repertoire move a thought names, or None for a thought outside the repertoire."""
    low = thought.lower()
    if low.startswith("select ") and low.endswith("before buying."):
        return "select"
    for move, mark in _MARKS:
        if mark in low and move != "select":
            return move
    return None


@dataclass
class Memory:
    """What the shopper remembers within an episode (an LLM would read it from its transcript)."""

    queries: list[str] = field(default_factory=list)
    opened: list[str] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)
    seen_missing: dict[str, tuple[str, ...]] = field(default_factory=dict)  # asin -> attributes not found

    def note(self, view: Mapping[str, Any], action: str, missing: Sequence[str] = ()) -> None:
        kind = page_kind(view)
        if action.startswith("search["):
            self.queries.append(action[len("search["):-1])
        elif kind == "results":
            m = _ASIN.search(action)
            if m:
                self.opened.append(m.group(1))
        elif kind == "item" and action in (f"click[{PREV_PAGE}]", f"click[{BACK_TO_SEARCH}]"):
            self.rejected.add(str(view.get("asin")))
        elif kind == "subpage":
            self.seen_missing[str(view.get("asin"))] = tuple(missing)
            if action == f"click[{BACK_TO_SEARCH}]":
                self.rejected.add(str(view.get("asin")))


def action_for(view: Mapping[str, Any], thought: str) -> str | None:
    """The environment action a thought implies on this page, or None when it implies none here."""
    move = move_of(thought)
    kind = page_kind(view)
    clickables = [str(c) for c in view.get("clickables", [])]
    if move is None or move not in PAGE_MOVES.get(kind, ()):
        return None
    if move.startswith("search_"):
        m = _QUOTED.search(thought)
        return f"search[{m.group(1)}]" if m and m.group(1).strip() else None
    if move.startswith("open_"):
        m = _ASIN.search(thought)
        return f"click[{m.group(1)}]" if m and m.group(1) in clickables else None
    if move == "next_page":
        return f"click[{NEXT_PAGE}]" if NEXT_PAGE in clickables else None
    if move == "new_search":
        return f"click[{BACK_TO_SEARCH}]"
    if move == "buy":
        return f"click[{BUY_NOW}]"
    if move == "select":
        m = _SELECT.match(thought.strip())
        if not m:
            return None
        values = view.get("options", {}).get(m.group(1), [])
        return f"click[{m.group(2)}]" if m.group(2) in values else None
    if move == "inspect":
        return "click[Features]"
    if move in ("back", "return_item"):
        return f"click[{PREV_PAGE}]"
    return None


def fallback_action(view: Mapping[str, Any]) -> str:
    """What a shopper does with a thought it cannot carry out here: the page's plainest step."""
    kind = page_kind(view)
    if kind == "search":
        req = parse_instruction(str(view.get("instruction", "")))
        return f"search[{' '.join(req.keywords) or req.core}]"
    if kind == "results":
        results = view.get("results", [])
        return f"click[{results[0]['asin']}]" if results else f"click[{BACK_TO_SEARCH}]"
    if kind == "item":
        return f"click[{BUY_NOW}]"
    return f"click[{PREV_PAGE}]"
