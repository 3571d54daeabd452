"""`pnlc plan`: what a run of another size will cost, from the jobs of a recorded run.

The jobs come from the workflow itself (`snakemake --dry-run --forceall` at the target size and at
the recorded size), so the plan lists exactly the jobs a run would make. Each target job's cost is
the recorded cost of the same rule (same method or critic variant) scaled by the work it does
(episodes, gradient steps, test tasks); a job whose environment has no recorded run borrows another
environment's figure, and the plan says so. Wall time is a list schedule (largest job first,
phase after phase) on the given cores; API calls and tokens are the recorded per-episode counts of
the simulated roles, which call the LLM exactly where an LLM backend would.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from pnlc.config import ConfigError, Params

PHASE_ORDER = ("generate", "annotate", "train", "evaluate", "report")
# The wildcard a recorded job must share with a target job for its cost to carry over.
KEY_WILDCARD = {"evaluate_method": "method", "train_critic": "variant"}
# Rules whose first output is a JSONL of episodes with recorded LLM usage.
EPISODE_RULES = frozenset({"generate_trajectories", "evaluate_method"})


@dataclass(frozen=True)
class Job:
    rule: str
    wildcards: Mapping[str, str]
    threads: int
    benchmark: str
    output: str


@dataclass
class Estimate:
    job: Job
    phase: str
    seconds: float
    source: str  # the recorded benchmark file the figure scales
    proxy: bool  # borrowed from another environment
    calls: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    api_seconds: float = 0.0


_RULE = re.compile(r"^(?:local)?rule (\w+):$")


def parse_dry_run(text: str) -> list[Job]:
    """Jobs with a benchmark file from `snakemake --dry-run` output (target rules have none)."""
    jobs, block = [], None
    for line in text.splitlines() + [""]:
        match = _RULE.match(line.strip())
        if match or not line.strip():
            if block and block.get("benchmark"):
                jobs.append(Job(block["rule"], block["wildcards"], int(block.get("threads", 1)), block["benchmark"],
                                block.get("output", "").split(", ")[0]))
            block = {"rule": match.group(1), "wildcards": {}} if match else None
            continue
        if block is None or ":" not in line:
            continue
        key, _, value = line.strip().partition(": ")
        if key == "wildcards":
            block["wildcards"] = dict(item.split("=", 1) for item in value.split(", ") if "=" in item)
        elif key in ("benchmark", "threads", "output"):
            block[key] = value.strip()
    return jobs


def dry_run(root: Path, size: str, envs: Sequence[str] | None, backend: str | None) -> list[Job]:
    """The jobs a from-scratch run of `size` makes (threads as declared: many cores offered)."""
    cmd = ["snakemake", "--dry-run", "--forceall", "--cores", "1024", "--config", f"size={size}"]
    if envs:
        cmd.append(f"envs=[{','.join(envs)}]")
    if backend:
        cmd.append(f"backend={backend}")
    out = subprocess.run(cmd, cwd=root, capture_output=True, text=True)
    if out.returncode != 0:
        raise ConfigError(f"plan: `{' '.join(cmd)}` failed in {root}:\n{(out.stdout + out.stderr)[-3000:]}")
    jobs = parse_dry_run(out.stdout + out.stderr)
    if not jobs:
        raise ConfigError(f"plan: `{' '.join(cmd)}` listed no jobs with a benchmark file")
    return jobs


def test_tasks(raw: Mapping[str, Any], run: Mapping[str, Any], env: str) -> int:
    split = {"avalon": ("avalon", "n_test_tasks"), "persuasion": ("persuasion", "n_test_tasks"),
             "webshop": ("webshop", "n_test_goals")}[env]
    return min(int(run["test_tasks"]), int(raw["env"][split[0]][split[1]]))


def work_units(rule: str, raw: Mapping[str, Any], size: str, env: str | None) -> float:
    """How much work one job of `rule` does at `size`, in the unit its cost scales with."""
    run = raw["sizes"][size]
    episodes = int(run["train_episodes"])
    if rule == "generate_trajectories":
        return math.ceil(episodes / int(run["shards"]))
    if rule in ("annotate_trajectories", "outcome_ceiling"):
        return episodes
    if rule == "train_critic":
        return int(run["critic_max_steps"])
    if rule == "evaluate_method":
        return test_tasks(raw, run, env or "avalon")
    if rule == "summarize_evaluation":
        return test_tasks(raw, run, env or "avalon") * len(run["methods"]) * len(run["eval_seeds"])
    return 1.0


def read_usage(path: Path) -> tuple[int, float, float, float]:
    """Episodes and mean policy calls, input and output words per episode of a recorded JSONL."""
    n = calls = tokens_in = tokens_out = 0
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                usage = json.loads(line).get("usage") or {}
                n += 1
                calls += usage.get("calls", 0)
                tokens_in += usage.get("input_tokens", 0)
                tokens_out += usage.get("output_tokens", 0)
    return n, calls / max(n, 1), tokens_in / max(n, 1), tokens_out / max(n, 1)


def match_recorded(job: Job, recorded: Sequence[Job], root: Path) -> tuple[Job, bool] | None:
    """A recorded job of the same rule (and method or variant) with a benchmark file, preferring
    the same environment."""
    key = KEY_WILDCARD.get(job.rule)
    same = [r for r in recorded if r.rule == job.rule and (root / r.benchmark).is_file()
            and (key is None or r.wildcards.get(key) == job.wildcards.get(key))]
    if not same:
        return None
    own = [r for r in same if r.wildcards.get("env") == job.wildcards.get("env")]
    return (own or same)[0], not own


def estimate(params: Params, root: Path, target: Sequence[Job], recorded: Sequence[Job], size: str,
             recorded_size: str, phase_of: Mapping[str, str], tokens_per_word: float, call_seconds: float,
             concurrency: int) -> list[Estimate]:
    from pnlc.pipeline.report import read_benchmark

    raw = params.raw
    estimates = []
    for job in target:
        found = match_recorded(job, recorded, root)
        if found is None:
            raise ConfigError(
                f"plan: no recorded benchmark for rule {job.rule} ({dict(job.wildcards)}) under "
                f"{root / 'results/timing/benchmarks'}; run the workflow at size {recorded_size} first"
            )
        rec, proxy = found
        env = job.wildcards.get("env")
        scale = work_units(job.rule, raw, size, env) / work_units(job.rule, raw, recorded_size, rec.wildcards.get("env"))
        seconds = float(read_benchmark(root / rec.benchmark)["wall_s"]) * scale
        est = Estimate(job, phase_of.get(job.rule, "report"), seconds, rec.benchmark, proxy)
        if job.rule in EPISODE_RULES and (root / rec.output).is_file():
            n, calls, words_in, words_out = read_usage(root / rec.output)
            episodes = n * scale
            est.calls = calls * episodes
            est.input_tokens = words_in * episodes * tokens_per_word
            est.output_tokens = words_out * episodes * tokens_per_word
            est.api_seconds = est.calls * call_seconds / max(concurrency, 1)
        estimates.append(est)
    return estimates


def makespan(estimates: Sequence[Estimate], slots: int, api: bool) -> float:
    """Largest-job-first list schedule on `slots` cores, one phase after the other (a job holds
    its threads' cores; with `api` a job lasts its API time when that is longer)."""
    total = 0.0
    for phase in PHASE_ORDER:
        durations = sorted(((max(e.seconds, e.api_seconds) if api else e.seconds), min(e.job.threads, slots))
                           for e in estimates if e.phase == phase)
        free = [0.0] * slots
        for seconds, threads in reversed(durations):
            free.sort()
            start = free[threads - 1]
            for i in range(threads):
                free[i] = start + seconds
        total += max(free) if durations else 0.0
    return total


def plan(params: Params, root: Path, size: str, envs: Sequence[str] | None, backend: str | None, cores: int,
         nodes: Sequence[int],
         cores_per_node: int, recorded_size: str | None, tokens_per_word: float, call_seconds: float,
         concurrency: int, out_dir: Path | None) -> dict[str, Any]:
    from pnlc.evaluation import tables

    raw = params.raw
    recorded_size = recorded_size or params.size
    for name, value in (("--size", size), ("--recorded-size", recorded_size)):
        if value not in raw["sizes"]:
            raise ConfigError(f"plan: {name} {value!r} is not one of sizes in {params.source} ({', '.join(raw['sizes'])})")
    backend = backend or params.backend
    target = dry_run(root, size, envs, backend)
    recorded = dry_run(root, recorded_size, None, None)
    estimates = estimate(params, root, target, recorded, size, recorded_size, _phases(root), tokens_per_word,
                         call_seconds, concurrency)
    api = backend != "sim"
    price_in = float(raw["llm"]["anthropic"]["price_input_per_mtok"])
    price_out = float(raw["llm"]["anthropic"]["price_output_per_mtok"])
    rows, summary = [], {"size": size, "recorded_size": recorded_size, "backend": backend, "phases": {}}
    for phase in PHASE_ORDER:
        members = [e for e in estimates if e.phase == phase]
        if not members:
            continue
        calls = sum(e.calls for e in members)
        mtok_in = sum(e.input_tokens for e in members) / 1e6
        mtok_out = sum(e.output_tokens for e in members) / 1e6
        proxied = sorted({e.job.wildcards.get("env", "") for e in members if e.proxy})
        summary["phases"][phase] = {"jobs": len(members), "job_s": sum(e.seconds for e in members),
                                    "calls": calls, "input_mtok": mtok_in, "output_mtok": mtok_out,
                                    "usd": mtok_in * price_in + mtok_out * price_out, "proxy_envs": proxied}
        p = summary["phases"][phase]
        rows.append((phase, str(len(members)), f"{p['job_s']:.0f}", f"{calls:,.0f}", f"{mtok_in:.2f}",
                     f"{mtok_out:.3f}", f"{p['usd']:,.2f}", ", ".join(proxied) or "–"))
    total = {k: sum(p[k] for p in summary["phases"].values()) for k in ("jobs", "job_s", "calls", "input_mtok",
                                                                            "output_mtok", "usd")}
    rows.append(("total", str(total["jobs"]), f"{total['job_s']:.0f}", f"{total['calls']:,.0f}",
                 f"{total['input_mtok']:.2f}", f"{total['output_mtok']:.3f}", f"{total['usd']:,.2f}", ""))
    walls = {f"{cores} cores": makespan(estimates, cores, api)}
    for n in nodes:
        walls[f"{n} node(s) x {cores_per_node} cores"] = makespan(estimates, n * cores_per_node, api)
    summary["total"], summary["wall_s"] = total, walls
    notes = [
        f"Jobs of `snakemake --dry-run --forceall --config size={size}`; each costs the recorded job of the same "
        f"rule (and method or critic variant) at size {recorded_size}, scaled by its episodes, gradient steps or "
        "test tasks. Proxy envs: no recorded run of that environment, another environment's figure is used.",
        "Calls and tokens: the recorded per-episode counts of the simulated roles (words x "
        f"{tokens_per_word} tokens per word); USD at llm.anthropic prices ({price_in} / {price_out} per Mtok in/out), "
        "no prompt-cache discount." + (" Backend sim calls no API: these are what an LLM backend would call."
                                        if not api else ""),
        "Expected wall time (largest job first, phase after phase): "
        + "; ".join(f"{k}: {_duration(v)}" for k, v in walls.items())
        + (f" (an API-bound job lasts at least its calls x {call_seconds} s / {concurrency} concurrent episodes)"
           if api else " (backend sim: the recorded job seconds only)") + ".",
    ]
    table = tables.Table(f"plan_{size}_{backend}", f"Planned cost of a {size}-size run, backend {backend}",
                         ("Phase", "Jobs", "Job s (sum)", "API calls", "Input Mtok", "Output Mtok", "USD", "Proxy envs"),
                         tuple(rows), tuple(notes), align="l" + "r" * 6 + "l")
    if out_dir is not None:
        tables.write_table(table, out_dir)
    print(table.to_markdown())
    return summary


def _phases(root: Path) -> dict[str, str]:
    import yaml

    spec = yaml.safe_load((root / "workflow" / "phases.yaml").read_text(encoding="utf-8"))
    return {rule: s["phase"] for rule, s in spec["rules"].items()}


def _duration(seconds: float) -> str:
    hours, rest = divmod(int(round(seconds)), 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min {rest % 60:02d} s"
