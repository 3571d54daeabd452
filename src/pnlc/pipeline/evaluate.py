"""Evaluation: one method on the shared test task/seed list; then metrics over all methods."""

from __future__ import annotations

import dataclasses
import logging
import os
import threading
from collections import defaultdict
from pathlib import Path
from typing import Sequence

from pnlc.config import ConfigError, Params, StatsConfig, build
from pnlc.data import append_jsonl, episode_from_dict, read_jsonl, truncate_incomplete
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
) -> int:
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
    episodes = in_order(plan[done:], play, episode_concurrency(params))
    for episode in tqdm(episodes, total=len(plan) - done, desc=f"evaluate {env_name} {method}", unit="task", disable=None):
        append_jsonl(part, episode)
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


def summarize(params: Params, env_name: str, inputs: Sequence[Path], out: Path, timing_out: Path) -> dict:
    """Metrics of every method to `out`, and their measured wall-clock fields to `timing_out`."""
    from pnlc.evaluation.cost import split_timing
    from pnlc.evaluation.metrics import compare_methods, write_metrics_json

    ev = build(StatsConfig, {k: params.raw["evaluate"][k] for k in ("bootstrap_samples", "confidence", "seed")},
               "evaluate", params.source)
    by_method: dict[str, list] = defaultdict(list)
    for path in inputs:
        episodes = list(read_jsonl(path, episode_from_dict))
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
