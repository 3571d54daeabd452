"""Generation: the prior agent plays training tasks, one shard at a time, resumably."""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path

from pnlc.config import Params
from pnlc.data import append_jsonl, truncate_incomplete
from pnlc.pipeline.concurrent import in_order
from pnlc.pipeline.factory import derive_seed, episode_concurrency, episode_meta, job_llm, make_env, make_policy

log = logging.getLogger(__name__)


def shard_range(total: int, shards: int, shard: int) -> range:
    """Episode indices of one shard: contiguous blocks that together cover 0..total-1."""
    if not 0 <= shard < shards:
        raise ValueError(f"--shard {shard}: must be in 0..{shards - 1} (sizes.<size>.shards = {shards})")
    return range(shard * total // shards, (shard + 1) * total // shards)


def partial_path(out: Path) -> Path:
    """Where a shard grows until complete; Snakemake never deletes it, so a rerun resumes."""
    return out.with_name(out.name + ".partial")


def with_goal_outcomes(episode, env):
    """Attach the environment's outcome-goal labels, which annotation turns into training goals."""
    goals = {str(k): bool(v) for k, v in env.goal_outcomes().items()}
    return dataclasses.replace(episode, info={**dict(episode.info), "goal_outcomes": goals})


def without_timings(episode):
    """Drop wall-clock times: training data must be the same bytes for the same seeds (evaluation
    records keep them, since cost per decision is measured there)."""
    steps = tuple(
        dataclasses.replace(st, decision={k: v for k, v in st.decision.items() if k != "seconds"})
        for st in episode.steps
    )
    return dataclasses.replace(episode, steps=steps, usage=dataclasses.replace(episode.usage, seconds=0.0))


def generate(params: Params, env_name: str, shard: int, out: Path) -> int:
    from tqdm import tqdm

    from pnlc.agents.methods import React
    from pnlc.agents.runner import run_episode

    run = params.run
    gen = params.section("generate")
    indices = shard_range(run.train_episodes, run.shards, shard)
    llm = job_llm(params)
    tasks = make_env(params, env_name, llm).tasks("train")
    if not tasks:
        raise ValueError(f"env.{env_name}: the train split has no tasks")
    meta = episode_meta(params, gen.policy)

    def play(i: int):
        env = make_env(params, env_name, llm)
        agent = React("react", make_policy(params, env_name, gen.policy, llm), cfg=None)  # the prior reads no method knobs
        episode = run_episode(env, agent, tasks[i % len(tasks)], derive_seed(gen.seed, env_name, "train", i), meta)
        return without_timings(with_goal_outcomes(episode, env))

    part = partial_path(Path(out))
    done = truncate_incomplete(part)
    if done:
        log.info("resuming %s after %d complete episodes", part, done)
    todo = indices[done:]
    episodes = in_order(todo, play, episode_concurrency(params))
    for episode in tqdm(episodes, total=len(todo), desc=f"generate {env_name} shard {shard}", unit="ep", disable=None):
        append_jsonl(part, episode)
    if part.exists():
        os.replace(part, out)
    else:  # an empty shard (more shards than episodes)
        Path(out).write_text("", encoding="utf-8")
    log.info("wrote %d episodes to %s", len(indices), out)
    return len(indices)
