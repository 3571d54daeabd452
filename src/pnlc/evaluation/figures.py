"""Result figures (PNG): task metrics, paired differences, cost vs performance, critic calibration.

Figures are drawn on matplotlib's Agg canvas without pyplot (no global figure state) and written
atomically. Any figure made from simulated runs says "SIMULATED" in its title.
"""

from __future__ import annotations

import logging
import math
import os
from typing import Any, Mapping, Sequence

from pnlc.data.jsonl import atomic_path
from pnlc.evaluation.labels import method_label, order_methods
from pnlc.evaluation.metrics import ENV_ORDER, TASK_METRICS, MetricsError
from pnlc.evaluation.tables import index_by_env, is_simulated

log = logging.getLogger(__name__)

DPI = 150
SIM_TAG = "SIMULATED (backend sim), not the paper's numbers"
_HIGHLIGHT = "#1f77b4"  # pnlc
_CONTROL = "#aec7e8"  # pnlc with a null or weaker critic
_BASE = "#9aa5b1"  # other methods
_SEARCH = "#e6a23c"  # reads env reward
_PRIVILEGED = "#6c757d"


def _new_figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig: Any, path: str | os.PathLike[str]) -> None:
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=DPI, metadata={"Software": None})


def _title(base: str, simulated: bool) -> str:
    return f"{base}\n{SIM_TAG}" if simulated else base


def _color(summary: Mapping[str, Any], method: str) -> str:
    if summary.get("privileged"):
        return _PRIVILEGED
    if method == "pnlc":
        return _HIGHLIGHT
    if method.startswith("pnlc_"):
        return _CONTROL
    if summary.get("reads_env_reward"):
        return _SEARCH
    return _BASE


def _panels(by_env: Mapping[str, Mapping[str, Any]]) -> list[tuple[str, Any]]:
    return [(env, spec) for env in ENV_ORDER if env in by_env for spec in TASK_METRICS[env]]


def _grid(n: int) -> tuple[int, int]:
    cols = min(n, 3)
    return math.ceil(n / cols), cols


def plot_task_metrics(metrics_list: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """One bar panel per task metric: mean per method with its bootstrap interval as error bar."""
    by_env = index_by_env(metrics_list)
    simulated = is_simulated(list(by_env.values()))
    panels = _panels(by_env)
    rows, cols = _grid(len(panels))
    fig = _new_figure(4.2 * cols, 3.6 * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (env, spec) in zip(axes, panels):
        metrics = by_env[env]
        methods = order_methods(metrics["methods"])
        stats = [metrics["methods"][m]["task_metrics"][spec.key] for m in methods]
        means = [s["mean"] for s in stats]
        err = [[s["mean"] - s["lo"] for s in stats], [s["hi"] - s["mean"] for s in stats]]
        colors = [_color(metrics["methods"][m], m) for m in methods]
        xs = list(range(len(methods)))
        ax.bar(xs, means, yerr=err, color=colors, capsize=3, edgecolor="black", linewidth=0.5)
        ax.set_xticks(xs, [method_label(m) for m in methods], rotation=40, ha="right", fontsize=7)
        ax.set_title(spec.label, fontsize=9)
        ax.set_ylabel(spec.label)
        ax.grid(axis="y", alpha=0.3)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    ci = max(float(m["ci"]) for m in by_env.values())
    fig.suptitle(_title(f"Task metrics by method (mean, {100 * ci:g} % bootstrap CI)", simulated), fontsize=10)
    _save(fig, path)


def plot_paired_differences(metrics_list: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """Forest plot: each method's paired difference to the reference, per task metric."""
    by_env = index_by_env(metrics_list)
    simulated = is_simulated(list(by_env.values()))
    panels = [(env, spec) for env, spec in _panels(by_env) if by_env[env]["paired_differences"]]
    if not panels:
        raise MetricsError("no paired differences to plot: evaluate at least one method besides the reference")
    rows, cols = _grid(len(panels))
    n_methods = max(len(by_env[env]["paired_differences"]) for env, _ in panels)
    fig = _new_figure(4.2 * cols, (0.35 * n_methods + 1.4) * rows)
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (env, spec) in zip(axes, panels):
        metrics = by_env[env]
        methods = order_methods(metrics["paired_differences"])[::-1]  # first method on top
        for y, m in enumerate(methods):
            d = metrics["paired_differences"][m][spec.key]
            color = "#2ca02c" if d["lo"] > 0 else "#d62728" if d["hi"] < 0 else "#7f7f7f"
            ax.errorbar(d["mean"], y, xerr=[[d["mean"] - d["lo"]], [d["hi"] - d["mean"]]],
                        fmt="o", color=color, capsize=3, markersize=4)
        ax.axvline(0.0, color="black", linewidth=0.8, linestyle="--")
        ax.set_yticks(range(len(methods)), [method_label(m) for m in methods], fontsize=7)
        ax.set_ylim(-0.7, len(methods) - 0.3)
        ax.set_xlabel(f"Δ {spec.label} vs {method_label(metrics['reference'])}", fontsize=8)
        ax.set_title(spec.label, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    for ax in axes[len(panels):]:
        ax.set_visible(False)
    fig.suptitle(_title("Paired differences against the reference (same tasks and seeds)", simulated), fontsize=10)
    _save(fig, path)


def plot_cost_vs_performance(metrics_list: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> None:
    """Primary task metric (with interval) against policy calls per decision (log x), per env."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    by_env = index_by_env(metrics_list)
    simulated = is_simulated(list(by_env.values()))
    envs = [env for env in ENV_ORDER if env in by_env]
    fig = _new_figure(4.4 * len(envs), 3.8)
    axes = fig.subplots(1, len(envs), squeeze=False).ravel()
    for ax, env in zip(axes, envs):
        metrics = by_env[env]
        spec = TASK_METRICS[env][0]
        xs: list[float] = []
        for m in order_methods(metrics["methods"]):
            s = metrics["methods"][m]
            calls = s["cost"].get("policy_calls")
            if calls is None or calls <= 0:
                log.warning("%s/%s: %r policy calls per decision cannot be shown on a log axis; skipped", env, m, calls)
                continue
            st = s["task_metrics"][spec.key]
            xs.append(calls)
            ax.errorbar(calls, st["mean"], yerr=[[st["mean"] - st["lo"]], [st["hi"] - st["mean"]]],
                        fmt="o", color=_color(s, m), capsize=3, markersize=6, markeredgecolor="black")
            ax.annotate(method_label(m), (calls, st["mean"]), textcoords="offset points", xytext=(5, 4), fontsize=7)
        ax.set_xscale("log")
        if xs:
            ax.set_xlim(min(xs) / 1.6, max(xs) * 2.5)  # room for the method labels
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:g}"))
        ax.xaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("policy calls per decision (log)")
        ax.set_ylabel(spec.label)
        ax.set_title(env, fontsize=9)
        ax.grid(alpha=0.3, which="both")
    fig.suptitle(_title("Cost vs performance (up and left is better)", simulated), fontsize=10)
    _save(fig, path)


def expected_calibration_error(bins: Mapping[str, Sequence[float]]) -> float:
    """Count-weighted mean |observed - predicted| over reliability bins."""
    counts = [float(c) for c in bins["count"]]
    total = sum(counts)
    if total <= 0:
        return float("nan")
    pairs = zip(bins["mean_predicted"], bins["observed_frequency"], counts)
    return sum(c * abs(float(o) - float(p)) for p, o, c in pairs if c > 0) / total


def _check_bins(label: str, bins: Mapping[str, Sequence[float]]) -> None:
    keys = ("mean_predicted", "observed_frequency", "count")
    missing = [k for k in keys if k not in bins]
    if missing:
        raise ValueError(f"calibration curve {label!r}: missing {', '.join(missing)} (needs {', '.join(keys)})")
    lengths = {k: len(bins[k]) for k in keys}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"calibration curve {label!r}: lists differ in length {lengths}")


def plot_calibration(
    curves: Mapping[str, Mapping[str, Sequence[float]]],
    path: str | os.PathLike[str],
    *,
    title: str,
    simulated: bool,
) -> None:
    """Reliability diagram: observed frequency against mean predicted probability, per curve.

    `curves` maps a label (e.g. "held-out, seed 0") to bins {"mean_predicted": [...],
    "observed_frequency": [...], "count": [...]}; empty bins (count 0) are not drawn. The lower
    panel shows how many predictions fall in each bin.
    """
    if not curves:
        raise ValueError("no calibration curves to plot")
    for label, bins in curves.items():
        _check_bins(label, bins)
    fig = _new_figure(4.8, 5.2)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot([0, 1], [0, 1], linestyle="--", color="black", linewidth=0.8, label="perfect calibration")
    for label, bins in curves.items():
        kept = [(float(p), float(o), float(c)) for p, o, c in
                zip(bins["mean_predicted"], bins["observed_frequency"], bins["count"]) if c > 0]
        if not kept:
            continue
        preds, obs, counts = zip(*kept)
        ece = expected_calibration_error(bins)
        line = top.plot(preds, obs, marker="o", markersize=4, label=f"{label} (ECE {ece:.3f})")[0]
        width = 0.8 / max(len(bins["count"]), 1)
        bottom.bar(preds, counts, width=width, alpha=0.5, color=line.get_color())
    top.set_xlim(0, 1)
    top.set_ylim(0, 1)
    top.set_ylabel("observed frequency")
    top.legend(fontsize=7, loc="upper left")
    top.grid(alpha=0.3)
    bottom.set_xlabel("mean predicted probability")
    bottom.set_ylabel("count")
    bottom.grid(alpha=0.3)
    fig.suptitle(_title(title, simulated), fontsize=10)
    _save(fig, path)
