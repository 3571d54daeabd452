"""Display names and a fixed order for methods, shared by tables, figures and the viewer."""

from __future__ import annotations

import re
from typing import Iterable

# Prompting baselines first, then critic ablations, search, PNLC, and the privileged ceiling last.
METHOD_ORDER: tuple[str, ...] = (
    "react",
    "reflexion",
    "self_critique",
    "best_of_n",
    "scalar_critic",
    "lats_n5",
    "lats_n30",
    "pnlc",
    "oracle",
)

_LABELS = {
    "react": "ReAct",
    "reflexion": "Reflexion",
    "self_critique": "Self-critique (ReAct+Replan)",
    "best_of_n": "Best-of-n (critic selects)",
    "scalar_critic": "Scalar critic (no goals)",
    "pnlc": "PNLC",
    "pnlc_const": "PNLC, base-rate critic (control)",
    "pnlc_shuffled": "PNLC, shuffled-outcome critic (control)",
    "pnlc_inverted": "PNLC, inverted critic (control)",
    "pnlc_data10": "PNLC, critic of 10 % data",
    "pnlc_data30": "PNLC, critic of 30 % data",
    "oracle": "Oracle (privileged)",
}
# PNLC with another critic (controls, less data) sits right after PNLC, in this order.
_PNLC_VARIANTS = ("pnlc_const", "pnlc_shuffled", "pnlc_inverted", "pnlc_data10", "pnlc_data30")
_LATS = re.compile(r"^lats_n(\d+)$")


def method_label(method: str) -> str:
    """Human-readable name: "lats_n30" -> "LATS (n=30)"; unknown names are returned unchanged."""
    if method in _LABELS:
        return _LABELS[method]
    m = _LATS.match(method)
    if m:
        return f"LATS (n={m.group(1)})"
    return method


def _rank(method: str) -> tuple[int, int, str]:
    m = _LATS.match(method)
    if m:  # every LATS budget sits at the search slot, ordered by budget
        return (METHOD_ORDER.index("lats_n5"), int(m.group(1)), method)
    if method in METHOD_ORDER:
        return (METHOD_ORDER.index(method), 0, method)
    if method.startswith("pnlc_"):  # known variants in their order, others after them by name
        known = _PNLC_VARIANTS.index(method) if method in _PNLC_VARIANTS else len(_PNLC_VARIANTS)
        return (METHOD_ORDER.index("pnlc"), 1 + known, method)
    return (len(METHOD_ORDER), 0, method)


def order_methods(methods: Iterable[str]) -> list[str]:
    """Methods in the canonical order; unknown ones after the known, alphabetically."""
    return sorted(set(methods), key=_rank)
