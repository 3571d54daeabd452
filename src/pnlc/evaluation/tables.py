"""Result tables from eval metrics dicts, each written as CSV, Markdown and LaTeX.

A `Table` is plain text cells plus a title and footnotes; the three renderers share it, so the
three files always say the same thing. Whenever a metrics dict comes from the simulated backend the
title, a column and a footnote say so: simulated numbers are never the paper's.
"""

from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from pnlc.data.jsonl import atomic_write_text
from pnlc.evaluation.labels import method_label, order_methods
from pnlc.evaluation.metrics import ENV_ORDER, TASK_METRICS, MetricsError, tokens_label

MISSING = "–"
REWARD_MARK = "†"
PRIVILEGED_MARK = "‡"
SIMULATED_NOTE = (
    "SIMULATED: backend 'sim' (offline heuristic agents, no LLM). These numbers test the pipeline; "
    "they are not the paper's numbers and not comparable to them."
)


@dataclass(frozen=True)
class Table:
    """A rendered result table: header, rows of text cells, and footnotes."""

    name: str  # file stem, e.g. "main_sim"
    title: str
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    notes: tuple[str, ...] = ()
    align: str = ""  # one "l" or "r" per column; empty = first column left, the rest right

    def __post_init__(self) -> None:
        if not self.align:
            object.__setattr__(self, "align", "l" + "r" * (len(self.columns) - 1))
        if len(self.align) != len(self.columns) or set(self.align) - {"l", "r"}:
            raise ValueError(f"table {self.name}: align {self.align!r} needs one l/r per column")
        for i, row in enumerate(self.rows):
            if len(row) != len(self.columns):
                raise ValueError(f"table {self.name}: row {i} has {len(row)} cells, header has {len(self.columns)}")

    def to_csv(self) -> str:
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(self.columns)
        writer.writerows(self.rows)
        return buf.getvalue()

    def to_markdown(self) -> str:
        def cell(text: str) -> str:
            return text.replace("|", "\\|").replace("\n", " ")

        lines = [f"**{cell(self.title)}**", ""]
        lines.append("| " + " | ".join(cell(c) for c in self.columns) + " |")
        lines.append("|" + "|".join("---" if a == "l" else "---:" for a in self.align) + "|")
        lines += ["| " + " | ".join(cell(c) for c in row) + " |" for row in self.rows]
        if self.notes:
            lines.append("")
            lines += [f"{note}  " for note in self.notes]
        return "\n".join(lines) + "\n"

    def to_latex(self) -> str:
        spec = self.align
        label = re.sub(r"[^A-Za-z0-9_:-]", "-", self.name)
        lines = [
            "% Needs \\usepackage{booktabs}.",
            "\\begin{table}[t]",
            "\\centering",
            f"\\caption{{{latex_escape(self.title)}}}",
            f"\\label{{tab:{label}}}",
            "\\small",
            f"\\begin{{tabular}}{{{spec}}}",
            "\\toprule",
            " & ".join(latex_escape(c) for c in self.columns) + " \\\\",
            "\\midrule",
        ]
        lines += [" & ".join(latex_escape(c) for c in row) + " \\\\" for row in self.rows]
        lines += ["\\bottomrule", "\\end{tabular}"]
        if self.notes:
            lines.append("\\par\\smallskip\\footnotesize")
            lines += [latex_escape(note) + "\\\\" for note in self.notes]
        lines.append("\\end{table}")
        return "\n".join(lines) + "\n"


_LATEX_SPECIAL = {
    "\\": "\\textbackslash{}",
    "&": "\\&",
    "%": "\\%",
    "$": "\\$",
    "#": "\\#",
    "_": "\\_",
    "{": "\\{",
    "}": "\\}",
    "~": "\\textasciitilde{}",
    "^": "\\textasciicircum{}",
    "–": "--",
    "—": "---",
    "†": "\\textdagger{}",
    "‡": "\\textdaggerdbl{}",
    "Δ": "$\\Delta$",
    "≥": "$\\geq$",
    "×": "$\\times$",
}


def latex_escape(text: str) -> str:
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def write_table(table: Table, out_dir: str | os.PathLike[str]) -> list[Path]:
    """Write `<out_dir>/<name>.csv`, `.md` and `.tex` atomically; return the three paths."""
    out = Path(out_dir)
    paths = [out / f"{table.name}.csv", out / f"{table.name}.md", out / f"{table.name}.tex"]
    for path, text in zip(paths, (table.to_csv(), table.to_markdown(), table.to_latex())):
        atomic_write_text(path, text)
    return paths


# ----------------------------------------------------------------------------- helpers


def format_interval(stat: Mapping[str, Any] | None, decimals: int, signed: bool = False) -> str:
    """"47.0 [40.1, 53.9]" from {"mean", "lo", "hi"}; "–" when absent."""
    if not stat or stat.get("mean") is None:
        return MISSING
    sign = "+" if signed else ""
    return f"{stat['mean']:{sign}.{decimals}f} [{stat['lo']:{sign}.{decimals}f}, {stat['hi']:{sign}.{decimals}f}]"


def format_number(value: float | None, decimals: int) -> str:
    return MISSING if value is None else f"{value:.{decimals}f}"


def index_by_env(metrics_list: Sequence[Mapping[str, Any]]) -> dict[str, Mapping[str, Any]]:
    """Metrics dicts keyed by env; one per env, all from one backend."""
    if not metrics_list:
        raise MetricsError("no metrics given; run `pnlc evaluate` for at least one environment")
    by_env: dict[str, Mapping[str, Any]] = {}
    for m in metrics_list:
        env = m.get("env")
        if env not in TASK_METRICS:
            raise MetricsError(f"metrics dict has env {env!r}; expected one of {', '.join(sorted(TASK_METRICS))}")
        if env in by_env:
            raise MetricsError(f"two metrics dicts for env {env!r}; give one per environment")
        by_env[env] = m
    backends = sorted({str(m.get("backend")) for m in by_env.values()})
    if len(backends) > 1:
        raise MetricsError(f"metrics from different backends {backends}; make one table per backend")
    return by_env


def is_simulated(metrics_list: Sequence[Mapping[str, Any]]) -> bool:
    return any(bool(m.get("simulated")) or m.get("backend") == "sim" for m in metrics_list)


def backend_cell(metrics: Mapping[str, Any]) -> str:
    backend = str(metrics.get("backend"))
    return f"{backend} (simulated)" if is_simulated([metrics]) else backend


def marked_label(summaries: Sequence[Mapping[str, Any]], method: str) -> str:
    """Method label with † when it reads the env reward at test time, ‡ when privileged."""
    label = method_label(method)
    if any(s.get("reads_env_reward") for s in summaries):
        label += " " + REWARD_MARK
    if any(s.get("privileged") for s in summaries):
        label += " " + PRIVILEGED_MARK
    return label


def _mark_notes(by_env: Mapping[str, Mapping[str, Any]]) -> tuple[str, ...]:
    """Footnotes for the marks that appear in a table built from these metrics."""
    summaries = [s for m in by_env.values() for s in m["methods"].values()]
    notes = []
    if any(s.get("reads_env_reward") for s in summaries):
        notes.append(f"{REWARD_MARK} reads the environment's reward or outcome at test time (search / retry).")
    if any(s.get("privileged") for s in summaries):
        notes.append(
            f"{PRIVILEGED_MARK} uses privileged information (hidden state): an upper bound, not a fair competitor."
        )
    return tuple(notes)


def _methods(by_env: Mapping[str, Mapping[str, Any]]) -> list[str]:
    return order_methods(m for metrics in by_env.values() for m in metrics["methods"])


# ----------------------------------------------------------------------------- tables


def main_table(metrics_list: Sequence[Mapping[str, Any]], name: str | None = None) -> Table:
    """Rows = methods, columns = every task metric of the three tasks as "mean [lo, hi]"."""
    by_env = index_by_env(metrics_list)
    simulated = is_simulated(list(by_env.values()))
    backend = str(next(iter(by_env.values()))["backend"])
    cis = sorted({float(m["ci"]) for m in by_env.values()})
    ci_text = "/".join(f"{100 * c:g} %" for c in cis)
    columns = ["Method"]
    for env in ENV_ORDER:
        columns += [spec.label for spec in TASK_METRICS[env]]
    columns.append("Backend")
    rows = []
    for method in _methods(by_env):
        summaries = [m["methods"][method] for m in by_env.values() if method in m["methods"]]
        row = [marked_label(summaries, method)]
        for env in ENV_ORDER:
            summary = by_env[env]["methods"].get(method) if env in by_env else None
            for spec in TASK_METRICS[env]:
                stat = summary["task_metrics"].get(spec.key) if summary else None
                row.append(format_interval(stat, spec.decimals))
        cell = backend_cell(next(iter(by_env.values())))
        models = sorted({str(s.get("base_model")) for s in summaries if s.get("base_model")})
        row.append(cell if simulated or not models else f"{cell}: {', '.join(models)}")
        rows.append(tuple(row))
    n_text = ", ".join(
        f"{env} n = {'/'.join(str(n) for n in sorted({s['n_episodes'] for s in by_env[env]['methods'].values()}))}"
        for env in ENV_ORDER
        if env in by_env
    )
    title = f"Task performance by method: mean [{ci_text} bootstrap CI]"
    if simulated:
        title += " (SIMULATED, backend sim: not the paper's numbers)"
    else:
        models = sorted({str(s.get("base_model")) for m in by_env.values() for s in m["methods"].values()
                         if s.get("base_model")})
        title += f" (backend {backend}, model {', '.join(models) or 'unknown'})"
    notes = [
        f"Percentile bootstrap over episodes; episodes per method: {n_text}. {MISSING} = not evaluated.",
        "Persuasion $ is the mean donation in dollars; % columns are rates over episodes; "
        "WebShop score = 100 × mean reward.",
        *_mark_notes(by_env),
    ]
    if simulated:
        notes.insert(0, SIMULATED_NOTE)
    align = "l" + "r" * (len(columns) - 2) + "l"
    return Table(name or f"main_{backend}", title, tuple(columns), tuple(rows), tuple(notes), align=align)


def cost_table(metrics_list: Sequence[Mapping[str, Any]], name: str | None = None) -> Table:
    """Rows = (env, method); columns = cost per decision and what the method may read."""
    by_env = index_by_env(metrics_list)
    simulated = is_simulated(list(by_env.values()))
    backend = str(next(iter(by_env.values()))["backend"])
    tok = tokens_label(simulated)
    columns = (
        "Env",
        "Method",
        "Policy calls/decision",
        f"Input {tok}/decision",
        f"Output {tok}/decision",
        "Reads env reward",
        "Uses critic",
        "Base model",
        "Backend",
    )
    rows = []
    for env in ENV_ORDER:
        if env not in by_env:
            continue
        metrics = by_env[env]
        for method in order_methods(metrics["methods"]):
            s = metrics["methods"][method]
            c = s["cost"]
            rows.append(
                (
                    env,
                    marked_label([s], method),
                    format_number(c.get("policy_calls"), 2),
                    format_number(c.get("input_tokens"), 0),
                    format_number(c.get("output_tokens"), 0),
                    "yes" if s.get("reads_env_reward") else "no",
                    "yes" if s.get("uses_critic") else "no",
                    str(s.get("base_model", MISSING)),
                    backend_cell(metrics),
                )
            )
    title = "Cost per decision by method (means over all decisions)"
    if simulated:
        title += " (SIMULATED, backend sim: not the paper's numbers)"
    notes = [
        "Policy calls count the policy role's calls for one decision (thought, goals, refinements, action). "
        "Wall-clock seconds and critic milliseconds are measured, so they are in results/timing/.",
        *_mark_notes(by_env),
    ]
    if simulated:
        notes.insert(
            0,
            SIMULATED_NOTE + " Simulated policies have no tokenizer: tokens are whitespace-separated words.",
        )
    return Table(name or f"cost_{backend}", title, columns, tuple(rows), tuple(notes), align="ll" + "r" * 3 + "llll")


def decision_time_table(timings: Sequence[Mapping[str, Any]], name: str) -> Table:
    """Rows = (env, method); columns = measured wall-clock seconds per decision and critic milliseconds."""
    columns = ("Env", "Method", "Decisions", "Seconds/decision", "Critic ms (mean)", "Critic ms (p50)",
               "Critic ms (p95)")
    by_env = {t["env"]: t for t in timings}
    rows = []
    for env in ENV_ORDER:
        if env not in by_env:
            continue
        for method in order_methods(by_env[env]["methods"]):
            t = by_env[env]["methods"][method]
            rows.append((
                env, method_label(method), str(t.get("decisions", MISSING)),
                format_number(t.get("seconds"), 3), format_number(t.get("critic_ms"), 2),
                format_number(t.get("critic_ms_p50"), 2), format_number(t.get("critic_ms_p95"), 2),
            ))
    simulated = any(t.get("simulated") for t in timings)
    title = "Measured wall-clock time per decision (differs between runs and machines)"
    notes = ["Critic ms is the critic's own time (embedding, forward pass, rendering), 0 when unused."]
    if simulated:
        title += " (SIMULATED policies: the seconds are those of the heuristic agents, not of an LLM)"
    return Table(name, title, columns, tuple(rows), tuple(notes), align="ll" + "r" * 5)


def pipeline_cost_table(rows: Sequence[Mapping[str, Any]], name: str) -> Table:
    """Rows = rules grouped by phase, then one total per phase: jobs, wall seconds (sum and
    largest job) and the largest resident memory of any job (from Snakemake's benchmark files)."""
    columns = ("Phase", "Rule", "Jobs", "Wall s (sum)", "Wall s (max job)", "Max RSS MiB")
    out = []
    phases: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        phases.setdefault(str(row["phase"]), []).append(row)
    for phase, members in phases.items():
        for r in members:
            out.append((phase, str(r["rule"]), str(r["jobs"]), f"{r['wall_s']:.1f}", f"{r['max_job_s']:.1f}",
                        format_number(r["max_rss_mb"], 0)))
        rss = [r["max_rss_mb"] for r in members if r["max_rss_mb"] is not None]
        out.append((phase, "(phase total)", str(sum(r["jobs"] for r in members)),
                    f"{sum(r['wall_s'] for r in members):.1f}", f"{max(r['max_job_s'] for r in members):.1f}",
                    format_number(max(rss) if rss else None, 0)))
    notes = ["Wall seconds of every job as Snakemake's `benchmark:` files record them; jobs of one rule may "
             "run in parallel, so a phase's sum exceeds its elapsed time when they do."]
    return Table(name, "Pipeline cost per rule and phase (measured)", columns, tuple(out), tuple(notes),
                 align="ll" + "r" * 4)


def differences_table(metrics_list: Sequence[Mapping[str, Any]], name: str | None = None) -> Table:
    """Rows = (env, method, metric): paired difference against the reference with its interval."""
    by_env = index_by_env(metrics_list)
    simulated = is_simulated(list(by_env.values()))
    backend = str(next(iter(by_env.values()))["backend"])
    references = sorted({str(m["reference"]) for m in by_env.values()})
    reference_text = "/".join(method_label(r) for r in references)
    columns = ("Env", "Method", "Metric", f"Δ vs {reference_text} [CI]", "Pairs", "CI excludes 0")
    rows = []
    for env in ENV_ORDER:
        if env not in by_env:
            continue
        metrics = by_env[env]
        diffs = metrics["paired_differences"]
        for method in order_methods(diffs):
            for spec in TASK_METRICS[env]:
                d = diffs[method].get(spec.key)
                if d is None:
                    continue
                excludes = "above" if d["lo"] > 0 else "below" if d["hi"] < 0 else "no"
                rows.append(
                    (
                        env,
                        marked_label([metrics["methods"][method]], method),
                        spec.label,
                        format_interval(d, spec.decimals, signed=True),
                        str(d["n"]),
                        excludes,
                    )
                )
    title = "Paired differences against the reference method (same tasks and seeds)"
    if simulated:
        title += " (SIMULATED, backend sim: not the paper's numbers)"
    notes = [
        "Mean over (task, seed) pairs of method minus reference; percentile bootstrap over pairs. "
        "'above' = the whole interval is above zero.",
        *_mark_notes(by_env),
    ]
    if simulated:
        notes.insert(0, SIMULATED_NOTE)
    return Table(name or f"differences_{backend}", title, columns, tuple(rows), tuple(notes), align="lllrrl")


def _mean_of(values: Sequence[float | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return sum(present) / len(present) if present else None


def _goal_stats(docs: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Outcome goal -> AUC, late-third AUC, ECE, linear-probe AUC and text-reference AUCs, each averaged over the given metrics documents
    (critic seeds); "All outcome goals (pooled)" holds the pooled scores."""
    keys: dict[str, list[Mapping[str, Any]]] = {}
    for doc in docs:
        og = doc.get("outcome_goals") or {}
        for g in og.get("per_goal", []):
            keys.setdefault(g["goal"], []).append(g)
        if og.get("pooled"):
            keys.setdefault(POOLED_GOALS, []).append(og["pooled"])
    return {
        goal: {
            "auc": _mean_of([s.get("auc") for s in summaries]),
            "auc_late": _mean_of([(s.get("by_phase") or {}).get("late", {}).get("auc") for s in summaries]),
            "ece": _mean_of([s.get("ece") for s in summaries]),
            "probe": _mean_of([s.get("linear_probe_auc") for s in summaries]),
            **{ref: _mean_of([(s.get("text_reference_auc") or {}).get(ref) for s in summaries]) for ref in TEXT_REFERENCES},
        }
        for goal, summaries in keys.items()
    }


# metrics.json names of the text references (pnlc.value.references.REFERENCES) and their columns
TEXT_REFERENCES = {"tfidf_logreg": "TF-IDF LR AUC", "tfidf_svd_boosting": "Boosted trees AUC"}


POOLED_GOALS = "All outcome goals (pooled)"


def critic_table(
    critics: Mapping[str, Sequence[Mapping[str, Any]]],
    ceilings: Mapping[str, Sequence[Mapping[str, Any]]],
    simulated: bool,
    variant: str,
    name: str,
) -> Table:
    """Per environment and outcome goal: the critic's held-out AUC (all states, last third of the
    game) and ECE, the linear probe's AUC on the same embeddings, the text references' AUC on the
    same texts, and the Monte-Carlo ceiling's AUC
    on the same held-out episodes.

    critics:  env -> metrics.json documents of `variant` (one per critic seed)
    ceilings: env -> ceiling documents (one per critic seed; empty without simulated data)
    """
    rows = []
    for env in [e for e in ENV_ORDER if e in critics] + sorted(set(critics) - set(ENV_ORDER)):
        critic_stats = _goal_stats(critics[env])
        ceiling_stats = _goal_stats(ceilings.get(env, ()))
        goals = [g for g in critic_stats if g != POOLED_GOALS] + [POOLED_GOALS]
        for goal in goals:
            c, b = critic_stats.get(goal, {}), ceiling_stats.get(goal, {})
            rows.append((
                env, goal,
                format_number(c.get("auc"), 3), format_number(c.get("auc_late"), 3), format_number(c.get("ece"), 3),
                format_number(c.get("probe"), 3), *(format_number(c.get(ref), 3) for ref in TEXT_REFERENCES),
                format_number(b.get("auc"), 3), format_number(b.get("auc_late"), 3),
            ))
    notes = [
        f"Critic variant '{variant}', held-out episodes, mean over critic seeds. AUC ranks states by the critic's "
        "probability of the outcome against whether it happened; ECE over 10 bins; 'late' = last third of each game.",
        "Probe: a logistic regression on the same state and thought embeddings, fitted directly to the training "
        "episodes' outcomes; a critic well below it loses information in training, a probe near 0.5 means the "
        "embeddings do not carry the outcome.",
        "TF-IDF LR, Boosted trees: text references fitted the same way to the words the critic reads (state summary "
        "and thought): a TF-IDF n-gram logistic regression, and gradient-boosted trees on its SVD; – where the "
        "annotations carry no texts.",
        "Ceiling: the outcome's probability from Monte-Carlo rollouts of the full simulator state after the same "
        "thoughts (hidden roles and counterparts' beliefs included). No critic reading a summary can rank better "
        "in expectation; – where no simulator can replay the data.",
    ]
    if simulated:
        notes.append(SIMULATED_NOTE)
    title = "Critic quality per outcome goal: held-out AUC and calibration against the Monte-Carlo ceiling"
    if simulated:
        title += " (SIMULATED)"
    return Table(
        name=name,
        title=title,
        columns=("Env", "Outcome goal", "Critic AUC", "Critic AUC (late)", "Critic ECE", "Probe AUC",
                 *TEXT_REFERENCES.values(), "Ceiling AUC", "Ceiling AUC (late)"),
        rows=tuple(rows),
        notes=tuple(notes),
        align="llrrrr" + "r" * len(TEXT_REFERENCES) + "rr",
    )
