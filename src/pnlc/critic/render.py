"""The natural-language value: how the critic's numbers are shown to the policy, and read back.

Format (one line per goal, probability with two decimals, positive and negative labelled):

    Positive outcomes:
    0.62: Good wins the game.
    Negative outcomes:
    0.58: Merlin is assassinated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

POSITIVE_HEADER = "Positive outcomes:"
NEGATIVE_HEADER = "Negative outcomes:"
_LINE = re.compile(r"^\s*([01](?:\.\d+)?)\s*:\s*(.+?)\s*$")


@dataclass(frozen=True)
class ValueLine:
    positive: bool
    probability: float
    goal: str


def render_value(positive: Sequence[str], negative: Sequence[str], probabilities: Sequence[float]) -> str:
    """Render probabilities (positive goals first, then negative, in order) as the value text."""
    goals = list(positive) + list(negative)
    if len(probabilities) != len(goals):
        raise ValueError(f"{len(goals)} goals but {len(probabilities)} probabilities")
    lines: list[str] = []
    if positive:
        lines.append(POSITIVE_HEADER)
        lines += [f"{float(p):.2f}: {g}" for g, p in zip(positive, probabilities[: len(positive)])]
    if negative:
        lines.append(NEGATIVE_HEADER)
        lines += [f"{float(p):.2f}: {g}" for g, p in zip(negative, probabilities[len(positive):])]
    return "\n".join(lines)


def parse_value(text: str) -> list[ValueLine]:
    """Read a rendered value back into lines; text outside the format is ignored."""
    out: list[ValueLine] = []
    positive = True
    for raw in text.splitlines():
        line = raw.strip()
        if line == POSITIVE_HEADER:
            positive = True
            continue
        if line == NEGATIVE_HEADER:
            positive = False
            continue
        m = _LINE.match(line)
        if m:
            out.append(ValueLine(positive, float(m.group(1)), m.group(2)))
    return out
