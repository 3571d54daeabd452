"""The donor's machine-readable decision line: `DONATION: $x.xx`, an amount in [$0, $2]."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pnlc.envs.persuasion.summary import MAX_DONATION

_LINE = re.compile(r"^[ \t]*DONATION[ \t]*:?[ \t]*(.*?)[ \t]*$", re.IGNORECASE | re.MULTILINE)
_AMOUNT = re.compile(r"^\$?[ \t]*(\d+(?:\.\d{1,2})?)$")


@dataclass(frozen=True)
class DonationParse:
    """status: 'ok' (amount set), 'missing' (no DONATION line), 'malformed', 'out_of_range'."""

    status: str
    amount: float | None = None
    raw: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def parse_donation(text: str) -> DonationParse:
    """Read the last `DONATION:` line of a reply. Amounts outside [$0, $2] are not clipped."""
    lines = _LINE.findall(text)
    if not lines:
        return DonationParse("missing")
    raw = lines[-1]
    m = _AMOUNT.match(raw)
    if m is None:
        return DonationParse("malformed", raw=raw)
    amount = float(m.group(1))
    if amount > MAX_DONATION:
        return DonationParse("out_of_range", amount=amount, raw=raw)
    return DonationParse("ok", amount=round(amount, 2), raw=raw)


def format_donation(amount: float) -> str:
    return f"DONATION: ${amount:.2f}"
