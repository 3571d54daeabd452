"""How a shopper reads public text: the instruction, result titles, prices and item pages.

Everything here works on what an LLM in the seat would see (the instruction and the page); nothing
reads the task's hidden goal.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

_STOP = frozenset(
    """i im i'm am looking for find me need want to buy a an the that is which with and of in it my some
    get would like please are be this has have also can you product products item items its one
    price lower than dollars under less""".split()
)
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_PRICE = re.compile(r"price lower than ([\d.]+) dollars")
_OPTION_TAIL = re.compile(r" with ((?:[a-z]+(?: [a-z]+){0,2}): .*)$")
_MONEY = re.compile(r"\$([\d,]+(?:\.\d+)?)")
_LEAD = re.compile(r"^(?:find me|i am looking for|i'm looking for|im looking for|i need|i want to buy|i want)\s+")


def stem(tok: str) -> str:
    """Crude plural stemming ("bars" -> "bar", "glass" stays)."""
    return tok[:-1] if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss") else tok


def words(text: str) -> list[str]:
    return [stem(t) for t in _TOKEN.findall(text.lower())]


@dataclass(frozen=True)
class Request:
    """What the instruction asks for, read from its public text."""

    core: str
    keywords: tuple[str, ...]  # content words of the core, in order
    options: tuple[tuple[str, str], ...]  # explicit "name: value" pairs
    price_limit: float | None


def parse_instruction(instruction: str) -> Request:
    text = instruction.strip().lower()
    m = _PRICE.search(text)
    limit = float(m.group(1)) if m else None
    text = _PRICE.sub("", text).rstrip(" ,").removesuffix(", and").removesuffix(" and").strip()
    options: list[tuple[str, str]] = []
    mo = _OPTION_TAIL.search(text)
    if mo:
        for part in mo.group(1).split(", and "):
            if ": " in part:
                k, v = part.split(": ", 1)
                options.append((k.strip(), v.strip().rstrip(",")))
        text = text[: mo.start()]
    seen: list[str] = []
    for tok in _TOKEN.findall(text):
        if tok not in _STOP and tok not in seen:
            seen.append(tok)
    return Request(core=text.strip(), keywords=tuple(seen), options=tuple(options), price_limit=limit)


def overlap(keywords: Sequence[str], title: str) -> float:
    """Share of the instruction's keywords found in a title."""
    if not keywords:
        return 0.0
    tw = set(words(title))
    return sum(stem(k) in tw for k in keywords) / len(keywords)


def attribute_phrases(req: Request) -> list[str]:
    """Requested attribute phrases read from the instruction (comma / 'and' / 'with' pieces)."""
    core = _LEAD.sub("", req.core)
    pieces = re.split(r",\s*|\s+and\s+|\s+with\s+|\s+that is\s+|\s+which is\s+|\s+for\s+", core)
    return [p.strip() for p in pieces if 1 <= len(p.split()) <= 3 and p.strip() and p.strip() not in _STOP][:4]


def wanted_value(req: Request, instruction: str, name: str, values: Sequence[str]) -> str | None:
    """The value of option group `name` that the shopper reads the instruction as asking for."""
    lower = {v.lower(): v for v in values}
    for k, v in req.options:
        if k == name.lower() and v in lower:
            return lower[v]
    for k, v in req.options:
        if v in lower:
            return lower[v]
    text = instruction.lower()
    squashed = text.replace(" ", "")
    for v in sorted(values, key=len, reverse=True):
        lv = v.lower()
        if len(lv) < 2:
            continue
        if re.search(rf"(?<![a-z0-9]){re.escape(lv)}(?![a-z0-9])", text) or (
            len(lv) >= 4 and lv.replace(" ", "") in squashed
        ):
            return v
    return None


def wanted_options(view: Mapping[str, Any], req: Request) -> list[tuple[str, str]]:
    """(group, value) pairs the shopper believes are requested and not yet selected on this item."""
    selected = view.get("selected", {})
    out = []
    for name, values in view.get("options", {}).items():
        want = wanted_value(req, str(view.get("instruction", "")), name, values)
        if want is not None and selected.get(name) != want:
            out.append((name, want))
    return out


def price_low(tag: str) -> float | None:
    """The lowest dollar amount in a price tag ("$12.99 to $15.0" -> 12.99)."""
    m = _MONEY.search(tag or "")
    return float(m.group(1).replace(",", "")) if m else None


def over_limit(req: Request, tag: str) -> bool:
    price = price_low(tag)
    return req.price_limit is not None and price is not None and price > req.price_limit


def missing_attributes(req: Request, page_text: str) -> list[str]:
    """Requested attribute phrases the shopper does not find in what it read."""
    text = page_text.lower()
    return [a for a in attribute_phrases(req) if a not in text]


def reading_noise(seed: int, task_id: str, text: str) -> float:
    """A standard normal draw fixed per (episode, text): how this shopper misjudges this text every
    time it reads it (a model reading the same title twice judges it the same)."""
    key = [int(seed), zlib.crc32(task_id.encode("utf-8")), zlib.crc32(text.encode("utf-8"))]
    return float(np.random.default_rng(key).normal())
