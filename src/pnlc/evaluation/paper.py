"""The paper's reported numbers (PAPER.md §6) and a side-by-side table of ours against them.

Keys of `values` are "<env>.<metric key>" as in `pnlc.evaluation.metrics.TASK_METRICS`.
The paper reports no intervals; its rows are single numbers. Search budgets n = 30 and n = 5 are
separate rows. The ablation numbers come from one secondary source that lists three numbers per
ablation; they are read here as WebShop score / Avalon win % / Persuasion $ (one per task).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

from pnlc.evaluation.labels import order_methods
from pnlc.evaluation.metrics import TASK_METRICS
from pnlc.evaluation.tables import (
    MISSING,
    SIMULATED_NOTE,
    Table,
    format_interval,
    index_by_env,
    is_simulated,
    marked_label,
)


@dataclass(frozen=True)
class PaperRow:
    label: str  # as the paper names the method
    method: str | None  # our method name when we run the same method, else None
    values: Mapping[str, float] = field(default_factory=dict)
    source: str = "main table"


_WS, _SR, _AV, _PE = "webshop.score", "webshop.success_rate", "avalon.win_rate", "persuasion.donation"

PAPER_ROWS: tuple[PaperRow, ...] = (
    PaperRow("ArCHer (GPT-2, RL fine-tuned)", None, {_WS: 62.3, _SR: 32.0, _AV: 19.0, _PE: 0.36}),
    PaperRow("Offline ArCHer", None, {_WS: 57.3, _SR: 28.0, _AV: 18.0, _PE: 0.31}),
    PaperRow("ReAct", "react", {_WS: 55.1, _SR: 27.0, _AV: 21.0, _PE: 0.54}),
    PaperRow("Reflexion", "reflexion", {_WS: 60.8, _SR: 29.0, _AV: 26.0, _PE: 0.54}),
    PaperRow("LATS (n=30)", "lats_n30", {_WS: 74.9, _SR: 44.0, _AV: 38.0, _PE: 0.78}),
    PaperRow("LATS (n=5)", "lats_n5", {_WS: 53.9, _SR: 28.0, _AV: 22.0, _PE: 0.52}),
    PaperRow("Agent Q (n=30)", None, {_WS: 77.1, _SR: 48.0}),
    PaperRow("Agent Q (n=5)", None, {_WS: 63.2, _SR: 35.0}),
    PaperRow("Strategist (n=30)", None, {_AV: 42.0}),
    PaperRow("Strategist (n=5)", None, {_AV: 31.0}),
    PaperRow("GDP-Zero (n=30)", None, {_PE: 0.74}),
    PaperRow("GDP-Zero (n=5)", None, {_PE: 0.47}),
    PaperRow("PNLC", "pnlc", {_WS: 78.2, _SR: 48.0, _AV: 47.0, _PE: 0.87}),
    PaperRow("Scalar critic, no goals (ablation)", "scalar_critic", {_WS: 55.4, _AV: 25.0, _PE: 0.53}, "ablation"),
    PaperRow("Best-of-n, no refinement (ablation)", "best_of_n", {_WS: 55.6, _AV: 28.0, _PE: 0.61}, "ablation"),
    PaperRow("ReAct+Replan, LLM self-estimates (ablation)", "self_critique", {_WS: 59.1, _AV: 22.0, _PE: 0.62}, "ablation"),
)

# Seconds per decision reported by a secondary source (ranges).
PAPER_LATENCY_SECONDS: Mapping[str, tuple[float, float]] = {"pnlc": (5.0, 6.0), "search_n30": (46.0, 62.0)}

# The paper's headline columns, in its order: (env, metric key).
PAPER_COLUMNS: tuple[tuple[str, str], ...] = (
    ("webshop", "score"),
    ("webshop", "success_rate"),
    ("avalon", "win_rate"),
    ("persuasion", "donation"),
)


def paper_value(method: str, env: str, key: str) -> float | None:
    """The paper's number for one of our methods, or None when the paper has none."""
    for row in PAPER_ROWS:
        if row.method == method:
            return row.values.get(f"{env}.{key}")
    return None


def _spec(env: str, key: str):
    return next(s for s in TASK_METRICS[env] if s.key == key)


def comparison_table(metrics_list: Sequence[Mapping[str, Any]], name: str | None = None) -> Table:
    """Ours (mean [CI]) next to the paper's number for every headline metric; "–" where absent."""
    by_env = index_by_env(metrics_list)
    simulated = is_simulated(list(by_env.values()))
    first = next(iter(by_env.values()))
    backend = str(first["backend"])
    ours_tag = "ours, simulated" if simulated else f"ours, {backend}"
    columns = ["Method"]
    for env, key in PAPER_COLUMNS:
        label = _spec(env, key).label
        columns += [f"{label} ({ours_tag})", f"{label} (paper)"]
    columns.append("Paper source")

    rows: list[tuple[str, ...]] = []
    ours = order_methods(m for metrics in by_env.values() for m in metrics["methods"])
    paper_by_method = {row.method: row for row in PAPER_ROWS if row.method}
    for method in ours:
        summaries = [m["methods"][method] for m in by_env.values() if method in m["methods"]]
        prow = paper_by_method.get(method)
        cells = [marked_label(summaries, method)]
        for env, key in PAPER_COLUMNS:
            spec = _spec(env, key)
            summary = by_env[env]["methods"].get(method) if env in by_env else None
            cells.append(format_interval(summary["task_metrics"].get(key) if summary else None, spec.decimals))
            value = prow.values.get(f"{env}.{key}") if prow else None
            cells.append(MISSING if value is None else f"{value:.{spec.decimals}f}")
        cells.append(f"{prow.label} ({prow.source})" if prow else MISSING)
        rows.append(tuple(cells))
    for prow in PAPER_ROWS:
        if prow.method in ours:
            continue
        cells = [f"{prow.label} (paper only)"]
        for env, key in PAPER_COLUMNS:
            value = prow.values.get(f"{env}.{key}")
            cells += [MISSING, MISSING if value is None else f"{value:.{_spec(env, key).decimals}f}"]
        cells.append(prow.source)
        rows.append(tuple(cells))

    title = "Ours vs the paper (paper: GPT-4 base policy, no intervals reported)"
    if simulated:
        title = "Ours (SIMULATED, backend sim) vs the paper's reported numbers: not comparable"
    notes = [
        "Ours: mean [bootstrap CI] over test episodes. Paper: single numbers as reported (PNLC, Hong et al. 2025). "
        f"{MISSING} = not reported or not evaluated.",
        "Ablation rows come from one secondary source that gives three numbers per ablation, read here as "
        "WebShop score / Avalon win % / Persuasion $.",
        "The paper's search baselines (LATS, Agent Q, Strategist, GDP-Zero) read the environment's reward at test time.",
    ]
    if simulated:
        notes.insert(0, SIMULATED_NOTE)
    align = "l" + "r" * (len(columns) - 2) + "l"
    return Table(name or f"paper_comparison_{backend}", title, tuple(columns), tuple(rows), tuple(notes), align=align)
