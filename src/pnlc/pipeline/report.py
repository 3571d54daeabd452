"""Report: tables, figures, a metrics summary for DVC and an episode viewer per evaluation file."""

from __future__ import annotations

import csv
import io
import json
import logging
from pathlib import Path
from typing import Any, Mapping, Sequence

from pnlc.config import Params
from pnlc.data import atomic_write_text, episode_from_dict, read_jsonl

log = logging.getLogger(__name__)


def summary_rows(metrics_list: Sequence[dict]) -> list[dict[str, Any]]:
    """One row per (env, method, task metric): the flat view DVC metrics and plots read."""
    rows = []
    for m in metrics_list:
        for method in m["method_order"]:
            for key, stat in m["methods"][method]["task_metrics"].items():
                rows.append({
                    "env": m["env"], "backend": m["backend"], "method": method, "metric": key,
                    "value": stat["mean"], "lo": stat["lo"], "hi": stat["hi"],
                })
    return rows


def write_summary(rows: list[dict[str, Any]], summary_path: Path, plot_path: Path) -> None:
    nested: dict[str, Any] = {}
    for r in rows:
        nested.setdefault(r["env"], {}).setdefault(r["method"], {})[r["metric"]] = round(float(r["value"]), 4)
    atomic_write_text(summary_path, json.dumps(nested, indent=2, sort_keys=True) + "\n")
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=["method", "env", "metric", "value", "lo", "hi", "backend"])
    writer.writeheader()
    for r in rows:
        writer.writerow({**r, "method": f"{r['method']} ({r['env']} {r['metric']})"})
    atomic_write_text(plot_path, buf.getvalue())


def calibration_curves(critic_docs: Mapping[Path, dict]) -> dict[str, dict]:
    """Pooled outcome-goal reliability curves of the goal-conditioned critics, labelled env/variant/seed
    (critic_docs: metrics.json path -> its contents)."""
    curves = {}
    for path, data in critic_docs.items():
        rel = data.get("outcome_goals", {}).get("pooled", {}).get("reliability")
        if not data.get("goal_conditioned") or not rel:
            continue
        env, _backend, variant, seed = Path(path).parts[-5:-1]
        counts = [int(c) for c in rel["count"]]
        curves[f"{env}/{variant}/{seed}"] = {
            "mean_predicted": [float(p) if c else 0.0 for p, c in zip(rel["mean_prediction"], counts)],
            "observed_frequency": [float(o) if c else 0.0 for o, c in zip(rel["mean_label"], counts)],
            "count": counts,
        }
    return curves


def critic_documents(
    critic_docs: Mapping[Path, dict], ceilings: Sequence[Path], variant: str
) -> tuple[dict[str, list[dict]], dict[str, list[dict]]]:
    """env -> metrics.json documents of `variant`, and env -> ceiling documents, by their paths
    (results/critic/{env}/{backend}/{variant}/seed{s}/metrics.json, .../ceiling/seed{s}.json)."""
    critics: dict[str, list[dict]] = {}
    for path, data in critic_docs.items():
        env, _backend, var, _seed = Path(path).parts[-5:-1]
        if var == variant:
            critics.setdefault(env, []).append(data)
    bounds: dict[str, list[dict]] = {}
    for path in ceilings:
        env = Path(path).parts[-4]
        bounds.setdefault(env, []).append(json.loads(Path(path).read_text(encoding="utf-8")))
    return critics, bounds


def pnlc_loop_methods(params: Params) -> dict[str, Any]:
    """The evaluated methods that run the PNLC loop, each with its CriticSpec (pnlc included)."""
    from pnlc.pipeline.factory import critic_spec

    specs = {m: critic_spec(params, m) for m in params.run.methods}
    return {m: spec for m, spec in specs.items() if spec is not None and spec.loop == "pnlc"}


def goal_mean_aucs(critic_docs: Mapping[Path, dict], seed: int) -> dict[tuple[str, str], float | None]:
    """(env, variant) -> held-out AUC of critic seed `seed` averaged over its outcome goals (metrics.json
    paths results/critic/{env}/{backend}/{variant}/seed{s}/metrics.json). Not the pooled AUC: pooling
    the goals also rewards telling their base rates apart, which a critic that knows nothing about
    states does as well."""
    out = {}
    for path, data in critic_docs.items():
        env, _backend, variant, seed_dir = Path(path).parts[-5:-1]
        if seed_dir == f"seed{seed}":
            out[(env, variant)] = (data.get("outcome_goals") or {}).get("auc_mean")
    return out


def write_critic_matters(params: Params, metrics_list: Sequence[dict], critic_docs: Mapping[Path, dict],
                         out_dir: Path) -> None:
    """The controls table and figure (PNLC − null critics) and the dose-response table and figure."""
    from pnlc.evaluation import controls, tables
    from pnlc.pipeline.train import train_config

    backend, simulated = params.backend, tables.is_simulated(metrics_list)
    loops = pnlc_loop_methods(params)
    seed = params.raw["evaluate"]["critic_seed"]
    others = [m for m in loops if m != controls.PNLC]
    aucs = goal_mean_aucs(critic_docs, seed)
    envs = {env for env, _variant in aucs}
    control_aucs = {(env, m): aucs.get((env, loops[m].variant)) for env in envs for m in others
                    if loops[m].transform == "none"}
    tables.write_table(controls.controls_table(metrics_list, others, f"controls_{backend}", control_aucs),
                       out_dir / "tables")
    controls.plot_controls(metrics_list, others, out_dir / "figures" / f"controls_{backend}.png")
    dosed = {}
    for method, spec in loops.items():
        cfg = train_config(params, spec.variant, seed)
        if spec.transform == "none" and not cfg.shuffle_outcomes:
            dosed[method] = (spec.variant, cfg.train_episode_fraction)
    points = controls.dose_points(metrics_list, dosed, aucs)
    name = f"critic_quality_vs_agent_{backend}"
    tables.write_table(controls.dose_response_table(points, simulated, name=name), out_dir / "tables")
    controls.plot_dose_response(points, simulated, out_dir / "figures" / f"{name}.png")


def report(
    params: Params,
    metrics_paths: Sequence[Path],
    critic_metrics: Sequence[Path],
    evals: Sequence[Path],
    out_dir: Path,
    ceilings: Sequence[Path] = (),
    timings: Sequence[Path] = (),
    timing_dir: Path | None = None,
    viewers: Sequence[Path] = (),
    cost_estimate: Path | None = None,
    trajectories: Sequence[Path] = (),
    annotation_usage: Sequence[Path] = (),
) -> None:
    """Tables and figures under `out_dir`, the wall-clock table under `timing_dir`, and one episode
    viewer per evaluation file (`viewers[i]` shows `evals[i]`). With `cost_estimate` (a `pnlc
    estimate --out` file), also the estimated-vs-actual LLM use of this run's `trajectories`,
    `annotation_usage` files and `evals` (tables/cost_estimate.*)."""
    from pnlc.evaluation import figures, tables, viewer
    from pnlc.evaluation.metrics import read_metrics_json
    from pnlc.evaluation.paper import comparison_table

    metrics_list = [read_metrics_json(p) for p in metrics_paths]
    backend = params.backend
    tdir, fdir = out_dir / "tables", out_dir / "figures"
    tables.write_table(tables.main_table(metrics_list, name=f"main_{backend}"), tdir)
    tables.write_table(tables.cost_table(metrics_list, name=f"cost_{backend}"), tdir)
    tables.write_table(tables.differences_table(metrics_list, name=f"differences_{backend}"), tdir)
    tables.write_table(comparison_table(metrics_list, name=f"paper_comparison_{backend}"), tdir)
    figures.plot_task_metrics(metrics_list, fdir / f"metric_{backend}.png")
    figures.plot_paired_differences(metrics_list, fdir / f"differences_{backend}.png")
    figures.plot_cost_vs_performance(metrics_list, fdir / f"cost_{backend}.png")
    critic_docs = {Path(p): json.loads(Path(p).read_text(encoding="utf-8")) for p in critic_metrics}
    curves = calibration_curves(critic_docs)
    if not curves:
        raise ValueError("report: no goal-conditioned critic metrics among --critic-metrics; train one (train.variants)")
    figures.plot_calibration(
        curves, fdir / f"critic_calibration_{backend}.png",
        title="Critic calibration on held-out episodes (outcome goals)", simulated=backend == "sim",
    )
    variant = params.raw["evaluate"]["critics"]["pnlc"]["variant"]
    critics, bounds = critic_documents(critic_docs, ceilings, variant)
    if not critics:
        raise ValueError(
            f"report: no metrics of critic variant {variant!r} (evaluate.critics.pnlc.variant) among --critic-metrics"
        )
    tables.write_table(
        tables.critic_table(critics, bounds, backend == "sim", variant, name=f"critic_{backend}"), tdir
    )
    write_critic_matters(params, metrics_list, critic_docs, out_dir)
    write_summary(summary_rows(metrics_list), out_dir / "summary.json", out_dir / "plots" / "methods.csv")
    if cost_estimate is not None:
        from pnlc.pipeline.estimate import write_cost_estimate

        write_cost_estimate(cost_estimate, backend, trajectories, evals, annotation_usage, params.run.methods, tdir)
    if timing_dir is not None:
        docs = [json.loads(Path(p).read_text(encoding="utf-8")) for p in timings]
        tables.write_table(tables.decision_time_table(docs, name=f"decision_time_{backend}"), timing_dir)
    if len(viewers) != len(evals):
        raise ValueError(f"report: {len(evals)} --evals but {len(viewers)} --viewers; give one viewer per file")
    shown = params.section("report").viewer_episodes
    for path, page in zip(evals, viewers):
        episodes = read_jsonl(path, episode_from_dict)[:shown]
        first = episodes[0] if episodes else None
        title = f"{first.env} — {first.policy} ({first.backend})" if first else Path(path).name
        viewer.write_viewer(Path(page), episodes, title=title)
    log.info("report written under %s", out_dir)


def read_benchmark(path: Path) -> dict[str, float | None]:
    """Wall seconds and max RSS (MiB; None where the platform reports none) of one Snakemake benchmark file."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh, delimiter="\t"))
    if not rows or "s" not in rows[0]:
        raise ValueError(f"{path}: not a Snakemake benchmark file (no 's' column); rerun the job")

    def number(text: str | None) -> float | None:
        try:
            return float(text) if text not in (None, "", "-", "NA") else None
        except ValueError:
            return None

    wall = number(rows[-1]["s"])
    if wall is None:
        raise ValueError(f"{path}:2: wall seconds {rows[-1]['s']!r} is not a number")
    return {"wall_s": wall, "max_rss_mb": number(rows[-1].get("max_rss"))}


def pipeline_cost(
    benchmarks: Sequence[Path], root: Path, phase_of: Mapping[str, str], out_dir: Path, name: str
) -> list[dict[str, Any]]:
    """Sum the benchmark files under `root` (<root>/<rule>/...) into the pipeline-cost table."""
    from pnlc.evaluation import tables

    by_rule: dict[str, list[dict[str, float | None]]] = {}
    for path in benchmarks:
        rel = Path(path).resolve().relative_to(Path(root).resolve())
        by_rule.setdefault(rel.parts[0], []).append(read_benchmark(Path(path)))
    unknown = sorted(set(by_rule) - set(phase_of))
    if unknown:
        raise ValueError(f"pipeline-cost: no --phase-of for rule(s) {', '.join(unknown)}")
    rows = []
    for rule, phase in phase_of.items():
        if rule not in by_rule:
            continue
        jobs = by_rule[rule]
        rss = [j["max_rss_mb"] for j in jobs if j["max_rss_mb"] is not None]
        rows.append({
            "phase": phase, "rule": rule, "jobs": len(jobs),
            "wall_s": float(sum(j["wall_s"] or 0.0 for j in jobs)),
            "max_job_s": float(max(j["wall_s"] or 0.0 for j in jobs)),
            "max_rss_mb": max(rss) if rss else None,
        })
    tables.write_table(tables.pipeline_cost_table(rows, name), out_dir)
    log.info("pipeline cost of %d jobs written under %s", sum(r["jobs"] for r in rows), out_dir)
    return rows
