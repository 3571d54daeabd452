"""What the persuasion environment asks of a donor it does not simulate itself (an LLM donor,
built outside the environment so that it depends on no LLM code).

A donor turn ends in a decision line `DONATION: $x.xx` or in none yet; `read_reply` interprets a
raw reply the same way for every donor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Protocol

from pnlc.envs.persuasion.donation import parse_donation
from pnlc.envs.persuasion.summary import strip_donation_line


@dataclass(frozen=True)
class DonorReply:
    """One donor turn. `text` is what the persuader sees (no DONATION line)."""

    text: str
    decided: bool
    donation: float
    parse_failure: bool = False
    reasked: bool = False


def read_reply(raw: str, must_decide: bool) -> DonorReply | None:
    """Interpret a reply; None when it needs a re-ask (malformed, out of range, or missing at the end)."""
    parsed = parse_donation(raw)
    body = strip_donation_line(raw)
    if parsed.ok:
        return DonorReply(body, True, float(parsed.amount or 0.0))
    if parsed.status == "missing" and not must_decide:
        return DonorReply(body, False, 0.0)
    return None


class Donor(Protocol):
    """An external donor for one episode; its usage counts go into the episode's outcome."""

    prompt_hash: str
    calls: int
    input_tokens: int
    output_tokens: int
    cost_usd: float

    def respond(self, text: str, turn: int, max_turns: int) -> DonorReply: ...


DonorBuilder = Callable[[str], Donor]
"""Builds the donor of one episode from its persona text."""
