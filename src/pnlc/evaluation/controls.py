"""Does the critic matter? PNLC against its null critics, and PNLC's metric against critic quality.

Two readings of one run:

- `controls_table` / `plot_controls`: the paired difference PNLC − control (same tasks and seeds)
  for every method that runs the PNLC loop with another critic (base-rate, shuffled-outcome,
  inverted, less data). If the critic's state-dependent estimates are what helps, PNLC beats the
  null critics with intervals above zero.
- `dose_response_table` / `plot_dose_response`: PNLC's metric with critics of increasing held-out
  AUC (trained on 10 %, 30 %, 100 % of the episodes). The mechanism predicts a metric that does not
  fall as the critic improves.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from pnlc.evaluation.figures import _new_figure, _save, _title
from pnlc.evaluation.labels import method_label, order_methods
from pnlc.evaluation.metrics import ENV_ORDER, TASK_METRICS
from pnlc.evaluation.tables import (
    MISSING,
    SIMULATED_NOTE,
    Table,
    format_interval,
    format_number,
    index_by_env,
    is_simulated,
)

log = logging.getLogger(__name__)

PNLC = "pnlc"


def verdict(diff: Mapping[str, Any]) -> str:
    """How a paired interval of PNLC − other reads."""
    if diff["lo"] > 0:
        return "PNLC better"
    if diff["hi"] < 0:
        return "PNLC worse"
    return "no difference shown"


def _pnlc_vs(metrics: Mapping[str, Any], method: str) -> Mapping[str, Any] | None:
    return (metrics.get("pnlc_vs") or {}).get(method)


def controls_table(
    metrics_list: Sequence[Mapping[str, Any]],
    controls: Sequence[str],
    name: str,
    critic_auc: Mapping[tuple[str, str], float | None],
) -> Table:
    """Rows = (env, control, metric): PNLC, the control, and PNLC − control with its paired interval,
    and the held-out AUC of the control's trained critic, averaged over its outcome goals (critic_auc:
    (env, method) -> AUC;
    absent for transformed critics, whose answers are not the trained critic's).

    The notes say, per environment and primary metric, which controls PNLC beats: read from the run.
    """
    by_env = index_by_env(metrics_list)
    simulated = is_simulated(list(by_env.values()))
    rows = []
    findings = []
    for env in [e for e in ENV_ORDER if e in by_env]:
        metrics = by_env[env]
        present = [c for c in order_methods(controls) if c in metrics["methods"]]
        if PNLC not in metrics["methods"] or not present:
            findings.append(f"{env}: {'PNLC' if PNLC not in metrics['methods'] else 'no control'} was not evaluated.")
            continue
        primary = TASK_METRICS[env][0]
        beaten, not_beaten = [], []
        for control in present:
            for spec in TASK_METRICS[env]:
                diff = (_pnlc_vs(metrics, control) or {}).get(spec.key)
                ours = metrics["methods"][PNLC]["task_metrics"].get(spec.key)
                theirs = metrics["methods"][control]["task_metrics"].get(spec.key)
                rows.append((
                    env, method_label(control), spec.label,
                    format_interval(ours, spec.decimals), format_interval(theirs, spec.decimals),
                    format_interval(diff, spec.decimals, signed=True),
                    str(diff["n"]) if diff else MISSING, verdict(diff) if diff else MISSING,
                    format_number(critic_auc.get((env, control)), 3),
                ))
                if spec is primary and diff:
                    text = f"{method_label(control)} {format_interval(diff, spec.decimals, signed=True)}"
                    (beaten if diff["lo"] > 0 else not_beaten).append(text)
        finding = f"{env} ({primary.label}, PNLC − control): PNLC beats {len(beaten)} of {len(beaten) + len(not_beaten)} controls"
        finding += f" with the paired interval above zero ({'; '.join(beaten)})" if beaten else ""
        finding += f"; not shown against {'; '.join(not_beaten)}" if not_beaten else ""
        findings.append(finding + ".")
    notes = [
        "Controls run the PNLC loop unchanged with a null critic: base-rate (each goal's rate in the critic's "
        "training episodes, whatever the state), shuffled (trained by the same code on outcomes permuted among "
        "the training episodes), inverted (1 - p), and critics trained on a share of the episodes.",
        "PNLC − control: mean over (task, seed) pairs with a percentile bootstrap interval; 'PNLC better' = "
        "the whole interval above zero. Control critic AUC: held-out AUC of the trained critic the control reads, "
        "averaged over the outcome goals (– for base-rate and inverted answers).",
        *findings,
    ]
    if simulated:
        notes.insert(0, SIMULATED_NOTE)
    title = "Does the critic matter? PNLC against the same loop with null critics"
    if simulated:
        title += " (SIMULATED)"
    columns = ("Env", "Control", "Metric", "PNLC", "Control", "PNLC − control [CI]", "Pairs", "Reading",
               "Control critic AUC")
    return Table(name, title, columns, tuple(rows), tuple(notes), align="lllrrrrlr")


def plot_controls(metrics_list: Sequence[Mapping[str, Any]], controls: Sequence[str], path: str | os.PathLike[str]) -> None:
    """Forest plot of PNLC − control per primary task metric, one panel per environment."""
    by_env = index_by_env(metrics_list)
    simulated = is_simulated(list(by_env.values()))
    envs = [e for e in ENV_ORDER if e in by_env]
    n = max([len([c for c in controls if c in by_env[e]["methods"]]) for e in envs] + [1])
    fig = _new_figure(max(4.4 * len(envs), 6.0), 0.4 * n + 1.8)
    axes = fig.subplots(1, len(envs), squeeze=False).ravel()
    for ax, env in zip(axes, envs):
        metrics, spec = by_env[env], TASK_METRICS[env][0]
        present = [c for c in order_methods(controls) if (_pnlc_vs(metrics, c) or {}).get(spec.key)][::-1]
        for y, control in enumerate(present):
            d = _pnlc_vs(metrics, control)[spec.key]
            color = "#2ca02c" if d["lo"] > 0 else "#d62728" if d["hi"] < 0 else "#7f7f7f"
            ax.errorbar(d["mean"], y, xerr=[[d["mean"] - d["lo"]], [d["hi"] - d["mean"]]],
                        fmt="o", color=color, capsize=3, markersize=4)
        if not present:
            ax.text(0.5, 0.5, "no control evaluated", ha="center", va="center", transform=ax.transAxes, fontsize=8)
        ax.axvline(0.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_yticks(range(len(present)), [method_label(c) for c in present], fontsize=7)
        ax.set_ylim(-0.7, max(len(present), 1) - 0.3)
        ax.set_xlabel(f"PNLC − control, Δ {spec.label}", fontsize=8)
        ax.set_title(env, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(_title("Does the critic matter?\nPNLC minus the same loop with a null critic (paired)", simulated),
                 fontsize=9)
    _save(fig, path)


@dataclass(frozen=True)
class DosePoint:
    """One critic of the dose-response: the PNLC-loop method reading it, how much data it saw,
    its held-out AUC averaged over the outcome goals, and the method's primary metric {"mean", "lo", "hi"}."""

    env: str
    method: str
    variant: str
    train_fraction: float
    auc: float | None
    metric: Mapping[str, Any]


def dose_points(
    metrics_list: Sequence[Mapping[str, Any]],
    methods: Mapping[str, tuple[str, float]],
    goal_auc: Mapping[tuple[str, str], float | None],
) -> list[DosePoint]:
    """The dose-response points of every environment, by increasing training fraction.

    methods:    PNLC-loop method -> (critic variant, share of training episodes)
    goal_auc:   (env, variant) -> held-out AUC of the critic the method read, averaged over the outcome goals
    """
    by_env = index_by_env(metrics_list)
    points = []
    for env in [e for e in ENV_ORDER if e in by_env]:
        spec = TASK_METRICS[env][0]
        for method, (variant, fraction) in sorted(methods.items(), key=lambda kv: (kv[1][1], kv[0])):
            summary = by_env[env]["methods"].get(method)
            if summary is None:
                continue
            points.append(DosePoint(env, method, variant, fraction, goal_auc.get((env, variant)),
                                    summary["task_metrics"][spec.key]))
    return points


def _steps(points: Sequence[DosePoint]) -> dict[str, str]:
    """Per method: whether its metric lies within or above the interval of the previous critic
    (by increasing AUC), the dose-response's monotonicity criterion."""
    out: dict[str, str] = {}
    for env in {p.env for p in points}:
        ranked = sorted([p for p in points if p.env == env and p.auc is not None], key=lambda p: p.auc)
        for prev, cur in zip(ranked, ranked[1:]):
            m = cur.metric["mean"]
            out[cur.method + "@" + env] = (
                "above" if m > prev.metric["hi"] else "within" if m >= prev.metric["lo"] else "below"
            )
    return out


def dose_response_table(points: Sequence[DosePoint], simulated: bool, name: str) -> Table:
    """Rows = critics by environment and training share: held-out AUC and PNLC's metric."""
    steps = _steps(points)
    rows = []
    for p in points:
        spec = TASK_METRICS[p.env][0]
        rows.append((
            p.env, method_label(p.method), p.variant, f"{100 * p.train_fraction:g} %", format_number(p.auc, 3),
            spec.label, format_interval(p.metric, spec.decimals), steps.get(p.method + "@" + p.env, MISSING),
        ))
    findings = []
    for env in dict.fromkeys(p.env for p in points):
        falls = [p for p in points if p.env == env and steps.get(p.method + "@" + env) == "below"]
        ranked = [p for p in points if p.env == env and p.auc is not None]
        if len(ranked) < 2:
            findings.append(f"{env}: fewer than two critics with a held-out AUC; no dose-response to read.")
        elif falls:
            findings.append(f"{env}: PNLC's metric falls below the previous critic's interval at "
                            f"{', '.join(method_label(p.method) for p in falls)}.")
        else:
            findings.append(f"{env}: PNLC's metric does not fall below the previous interval as the critic's AUC rises.")
    notes = [
        "Critics trained by the same code on a seeded share of the training episodes (same held-out episodes); "
        "AUC = held-out AUC of the critic seed the method read, computed per outcome goal and averaged (a pooled AUC "
        "would also credit telling the goals' base rates apart, which a critic blind to the state does too).",
        "Step = the metric's mean against the interval of the critic with the next lower AUC: above, within or below.",
        *findings,
    ]
    if simulated:
        notes.insert(0, SIMULATED_NOTE)
    title = "Critic quality against PNLC's metric (dose-response)" + (" (SIMULATED)" if simulated else "")
    columns = ("Env", "Method", "Critic variant", "Training episodes", "Critic AUC (held-out, mean over goals)", "Metric",
               "PNLC metric [CI]", "Step")
    return Table(name, title, columns, tuple(rows), tuple(notes), align="lllrrlrl")


def plot_dose_response(points: Sequence[DosePoint], simulated: bool, path: str | os.PathLike[str]) -> None:
    """x: held-out AUC of each critic averaged over its outcome goals; y: PNLC's primary metric with its interval; one panel
    per environment, each point labelled with its share of training episodes."""
    envs = list(dict.fromkeys(p.env for p in points)) or ["(none)"]
    fig = _new_figure(max(4.4 * len(envs), 5.5), 4.0)
    axes = fig.subplots(1, len(envs), squeeze=False).ravel()
    for ax, env in zip(axes, envs):
        shown = sorted([p for p in points if p.env == env and p.auc is not None], key=lambda p: p.auc)
        if not shown:
            ax.text(0.5, 0.5, "no critic with a held-out AUC", ha="center", va="center", transform=ax.transAxes)
            continue
        spec = TASK_METRICS[env][0]
        xs = [p.auc for p in shown]
        ys = [p.metric["mean"] for p in shown]
        err = [[p.metric["mean"] - p.metric["lo"] for p in shown], [p.metric["hi"] - p.metric["mean"] for p in shown]]
        ax.errorbar(xs, ys, yerr=err, fmt="o-", color="#1f77b4", capsize=3, markersize=5)
        for p in shown:
            ax.annotate(f"{100 * p.train_fraction:g} %", (p.auc, p.metric["mean"]), textcoords="offset points",
                        xytext=(5, 4), fontsize=7)
        ax.set_xlabel("critic AUC (held-out, mean over outcome goals)", fontsize=8)
        ax.set_ylabel(f"PNLC {spec.label}", fontsize=8)
        ax.set_title(env, fontsize=9)
        ax.grid(alpha=0.3)
    fig.suptitle(_title("Critic quality vs PNLC's metric\n(critics trained on shares of the episodes)", simulated),
                 fontsize=9)
    _save(fig, path)
