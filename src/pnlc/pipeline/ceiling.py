"""The outcome ceiling: Monte-Carlo outcome probabilities of the critic's held-out transitions,
scored like the critic (simulated data only; see pnlc.evaluation.ceiling)."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pnlc.config import ConfigError, Params
from pnlc.pipeline.factory import check_env, make_env, make_policy

log = logging.getLogger(__name__)


def ceiling(params: Params, env_name: str, trajectories: Sequence[Path], seed: int, out: Path) -> dict[str, Any]:
    """Score the Monte-Carlo outcome probabilities of the held-out episodes of critic seed `seed`
    (the same split as training) and write them to `out` (JSON)."""
    from pnlc.config import build
    from pnlc.data.jsonl import atomic_write_text
    from pnlc.evaluation.ceiling import RolloutConfig, rollout_probabilities
    from pnlc.pipeline.annotate import load_episodes, outcome_goal_index
    from pnlc.value.datamodule import split_episodes
    from pnlc.value.diagnostics import game_phase, score_outcome_goals

    check_env(env_name)
    if params.backend != "sim":
        raise ConfigError(
            f"{params.source}: backend: the outcome ceiling replays episodes with the simulated policy; "
            f"it exists only with backend: sim (got {params.backend!r})"
        )
    section = params.raw["train"]["ceiling"]
    cfg = build(RolloutConfig, {"rollouts": section["rollouts"], "seed": section["seed"],
                                "max_steps": params.raw["evaluate"]["max_steps"]}, "train.ceiling", params.source)
    episodes = [ep for ep in load_episodes(trajectories) if ep.steps]
    if len(episodes) < 2:
        raise ValueError(f"{', '.join(map(str, trajectories))}: need at least 2 episodes with steps")
    goals = list(outcome_goal_index(episodes))
    if not goals:
        raise ValueError(f"{', '.join(map(str, trajectories))}: episodes carry no outcome goals (info.goal_outcomes)")
    _, val = split_episodes(len(episodes), float(params.raw["train"]["critic"]["val_fraction"]), seed)
    env = make_env(params, env_name)
    policy = make_policy(params, env_name, params.raw["generate"]["policy"])
    preds, labels, starts, ends = [], [], [], []
    for e in val:
        ep = episodes[int(e)]
        preds.append(rollout_probabilities(env, policy, ep, goals, cfg, int(e)))
        happened = ep.info.get("goal_outcomes", {})
        n, first = len(ep.steps), sum(len(p) for p in labels)
        labels.append(np.tile([float(bool(happened.get(g, False))) for g in goals], (n, 1)))
        starts.append(np.full(n, first))
        ends.append(np.full(n, first + n - 1))
    pred, label = np.concatenate(preds), np.concatenate(labels)
    phase = game_phase(np.concatenate(starts), np.concatenate(ends))
    result = {
        "what": "outcome probabilities from Monte-Carlo rollouts of the full simulator state after each "
                "held-out thought: an upper bound on any critic's AUC (simulated)",
        "env": env_name,
        "backend": params.backend,
        "seed": seed,
        "rollouts": cfg.rollouts,
        "heldout_episodes": int(len(val)),
        "heldout_transitions": int(pred.shape[0]),
        "outcome_goals": score_outcome_goals(goals, pred, label, phase),
    }
    atomic_write_text(out, json.dumps(result, indent=2, sort_keys=True) + "\n")
    og = result["outcome_goals"]
    log.info("outcome ceiling over %d held-out transitions: mean AUC %.3f, pooled AUC %.3f",
             pred.shape[0], og["auc_mean"] or float("nan"), og["pooled"]["auc"] or float("nan"))
    return result
