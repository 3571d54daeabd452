"""Evaluation: one method on the shared test task/seed list; then metrics over all methods."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import defaultdict
from pathlib import Path
from typing import Any, Mapping, Sequence

from pnlc.config import ConfigError, Params, StatsConfig, build
from pnlc.data import Episode, append_jsonl, episode_from_dict, episode_id, read_jsonl, truncate_incomplete
from pnlc.pipeline.concurrent import CriticSeat, in_order
from pnlc.pipeline.factory import (
    agent_config,
    critic_spec,
    derive_seed,
    episode_concurrency,
    episode_meta,
    job_llm,
    load_critic,
    make_embedder,
    make_env,
    make_policy,
    state_text_kind,
)
from pnlc.pipeline.generate import partial_path

log = logging.getLogger(__name__)

# The fields measured on the clock, not decided by the seeds (each decision's seconds and critic
# milliseconds, the episode's LLM seconds): a workflow evaluation writes them to a sidecar file under
# results/timing/eval/ (one line per episode, in step with the episode file), so the records under
# results/eval/ repeat byte for byte; `summarize` joins them back.
DECISION_TIMING: tuple[str, ...] = ("seconds", "critic_ms")


def split_decision_timing(ep: Episode) -> tuple[Episode, dict[str, Any]]:
    """The episode without its measured fields, and those fields as one sidecar record:
    {"episode": id, "seconds": [one per step], "critic_ms": [one per step], "usage_seconds": x}."""
    timing: dict[str, Any] = {"episode": episode_id(ep), **{key: [] for key in DECISION_TIMING}}
    steps = []
    for step in ep.steps:
        missing = [key for key in DECISION_TIMING if not isinstance(step.decision, Mapping) or key not in step.decision]
        if missing:
            raise ValueError(f"episode {episode_id(ep)} step {step.index}: the decision trace lacks {missing}; "
                             "every method records them (pnlc.agents.methods)")
        decision = dict(step.decision)
        for key in DECISION_TIMING:
            timing[key].append(decision.pop(key))
        steps.append(dataclasses.replace(step, decision=decision))
    timing["usage_seconds"] = ep.usage.seconds
    return dataclasses.replace(ep, steps=tuple(steps), usage=dataclasses.replace(ep.usage, seconds=0.0)), timing


def join_decision_timing(ep: Episode, timing: Mapping[str, Any], where: str) -> Episode:
    """The episode with its sidecar record's measured fields put back; `where` names the sidecar
    line (file:line) in errors."""
    if not isinstance(timing, Mapping) or timing.get("episode") != episode_id(ep):
        got = timing.get("episode") if isinstance(timing, Mapping) else timing
        raise ValueError(
            f"{where}: timing of episode {got!r} where the evaluation file has {episode_id(ep)!r}; the two "
            "files come from different runs: delete both and rerun the evaluation job"
        )
    for key in DECISION_TIMING:
        values = timing.get(key)
        if not isinstance(values, list) or len(values) != len(ep.steps):
            raise ValueError(f"{where}: {key!r} must list one number per step of episode {episode_id(ep)} "
                             f"({len(ep.steps)}); delete both files and rerun the evaluation job")
    usage_seconds = timing.get("usage_seconds")
    if isinstance(usage_seconds, bool) or not isinstance(usage_seconds, (int, float)):
        raise ValueError(f"{where}: 'usage_seconds' is {usage_seconds!r}, expected a number; delete both files "
                         "and rerun the evaluation job")
    steps = tuple(
        dataclasses.replace(step, decision={**step.decision, **{key: timing[key][i] for key in DECISION_TIMING}})
        for i, step in enumerate(ep.steps)
    )
    return dataclasses.replace(ep, steps=steps, usage=dataclasses.replace(ep.usage, seconds=float(usage_seconds)))


def test_plan(params: Params, env, eval_seed: int) -> list[tuple[str, int]]:
    """The (task_id, episode seed) list every method plays for one evaluation seed."""
    tasks = env.tasks("test")[: params.run.test_tasks]
    if not tasks:
        raise ValueError(f"{env.name}: the test split has no tasks")
    return [(t, derive_seed("eval", env.name, eval_seed, t)) for t in tasks]


def evaluate(
    params: Params,
    env_name: str,
    method: str,
    eval_seed: int,
    critic_path: Path | None,
    out: Path,
    timing_out: Path | None = None,
) -> int:
    """Play the test plan; episodes to `out`. With `timing_out`, each decision's measured seconds and
    critic milliseconds go there instead (one line per episode, in step with `out`), so `out`
    depends on the seeds alone."""
    from tqdm import tqdm

    from pnlc.agents.methods import make_agent
    from pnlc.agents.runner import run_task

    spec = critic_spec(params, method)
    if spec is not None and critic_path is None:
        raise ConfigError(
            f"method {method} reads a critic (evaluate.critics.{method}: variant {spec.variant!r}); pass --critic "
            f"with that variant's checkpoint"
        )
    if spec is None and critic_path is not None:
        raise ConfigError(f"method {method} reads no critic (it is not a key of evaluate.critics); drop --critic")
    kind = "oracle" if method == "oracle" else "prior"
    llm = job_llm(params)
    state_text = state_text_kind(params)
    critic = load_critic(critic_path, make_embedder(params), spec.transform, state_text) if spec is not None else None
    critic_lock = threading.Lock()
    cfg = agent_config(params, env_name)
    meta = dataclasses.replace(episode_meta(params, kind), state_text=state_text)
    # a method that cannot run with this backend or critic fails here, before any episode starts
    make_agent(method, make_policy(params, env_name, kind, llm), critic, cfg, loop=None if spec is None else spec.loop)

    def play(planned: tuple[str, int]):
        task_id, seed = planned
        seat = CriticSeat(critic, critic_lock) if critic is not None else None
        agent = make_agent(method, make_policy(params, env_name, kind, llm), seat, cfg,
                           loop=None if spec is None else spec.loop)
        return run_task(make_env(params, env_name, llm), agent, task_id, seed, meta)

    plan = test_plan(params, make_env(params, env_name, llm), eval_seed)
    part = partial_path(Path(out))
    done = truncate_incomplete(part)
    if timing_out is not None:  # the sidecar is appended first, so it has at least as many lines
        timing_part = partial_path(Path(timing_out))
        done = truncate_incomplete(part, truncate_incomplete(timing_part, done))
    episodes = in_order(plan[done:], play, episode_concurrency(params))
    for episode in tqdm(episodes, total=len(plan) - done, desc=f"evaluate {env_name} {method}", unit="task", disable=None):
        if timing_out is not None:
            episode, timing = split_decision_timing(episode)
            append_jsonl(timing_part, timing)
        append_jsonl(part, episode)
    if timing_out is not None:
        os.replace(timing_part, timing_out)
    os.replace(part, out)
    log.info("wrote %d %s episodes to %s", len(plan), method, out)
    return len(plan)


def pnlc_versus_all(by_method: dict, env_name: str, ev) -> dict:
    """Paired differences pnlc minus every other method, per task metric (same tasks and seeds)."""
    from pnlc.evaluation.metrics import episode_values, task_metrics
    from pnlc.evaluation.stats import paired_difference

    specs = task_metrics(env_name)
    ours = {spec.key: episode_values(by_method["pnlc"], spec) for spec in specs}
    return {
        method: {
            spec.key: paired_difference(
                ours[spec.key], episode_values(episodes, spec), ev.bootstrap_samples, ev.confidence, ev.seed
            )
            for spec in specs
        }
        for method, episodes in sorted(by_method.items())
        if method != "pnlc"
    }


def read_evaluation(path: Path, timing: Path | None) -> list:
    """Episodes of one evaluation file, with their decisions' measured fields from its sidecar."""
    episodes = list(read_jsonl(path, episode_from_dict))
    if timing is None:
        return episodes
    records = read_jsonl(timing)
    if len(records) != len(episodes):
        raise ValueError(
            f"{timing}: {len(records)} timing lines for {len(episodes)} episodes in {path}; the two files come "
            "from different runs: delete both and rerun the evaluation job"
        )
    return [join_decision_timing(ep, rec, f"{timing}:{i}") for i, (ep, rec) in enumerate(zip(episodes, records), 1)]


def summarize(params: Params, env_name: str, inputs: Sequence[Path], out: Path, timing_out: Path,
              decision_timing: Sequence[Path] = ()) -> dict:
    """Metrics of every method to `out`, and their measured wall-clock fields to `timing_out`.

    `decision_timing` lists the evaluations' sidecar files in the order of `inputs` (none when the
    records carry their own measured fields)."""
    from pnlc.evaluation.cost import split_timing
    from pnlc.evaluation.metrics import compare_methods, write_metrics_json

    ev = build(StatsConfig, {k: params.raw["evaluate"][k] for k in ("bootstrap_samples", "confidence", "seed")},
               "evaluate", params.source)
    if decision_timing and len(decision_timing) != len(inputs):
        raise ValueError(f"{len(decision_timing)} decision-timing files for {len(inputs)} evaluation files; "
                         "pass one per evaluation file, in the same order")
    by_method: dict[str, list] = defaultdict(list)
    for i, path in enumerate(inputs):
        episodes = read_evaluation(path, decision_timing[i] if decision_timing else None)
        if not episodes:
            raise ValueError(f"{path}: no episodes; delete the file and rerun its evaluation job")
        for ep in episodes:
            by_method[ep.policy].append(ep)
    result = compare_methods(
        dict(by_method), env_name, reference="react",
        n_boot=ev.bootstrap_samples, ci=ev.confidence, seed=ev.seed,
    )
    if "pnlc" in by_method:
        result["pnlc_vs"] = pnlc_versus_all(by_method, env_name, ev)
    result, timing = split_timing(result)
    write_metrics_json(out, result)
    write_metrics_json(timing_out, timing)
    return result
