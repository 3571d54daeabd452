"""Persuasion simulation throughput and donations: the prior persuader vs the scripted oracle.

Plays N simulated dialogues with each policy against the simulated donor and prints the oracle's
mean donation, then `dialogues_per_s=<x> prior_mean_donation=<d> prior_donor_rate=<r>` as the last
line (throughput of the prior's dialogues; donor rate = share of donors who give anything).
"""

from __future__ import annotations

import argparse
import time

from pnlc.agents.runner import play_policy
from pnlc.agents.sim.persuasion import PARAMS_TYPE, PersuasionSimParams, make_sim_policy
from pnlc.config import build, load_params
from pnlc.envs.persuasion import PersuasionConfig, make_env


def play(env, policy, task_id: str, seed: int) -> dict:
    """One dialogue of the bare policy (see pnlc.agents.runner.play_policy)."""
    env = play_policy(env, policy, task_id, seed)
    return dict(env.outcome())


def run(kind: str, n: int, cfg: PersuasionConfig, knobs: PersuasionSimParams) -> tuple[float, float, float]:
    """(dialogues per second, mean donation, share donating) over n dialogues on the train tasks."""
    env = make_env(cfg)
    policy = make_sim_policy(cfg, kind, knobs)
    tasks = env.tasks("train")
    total = donors = 0.0
    start = time.perf_counter()
    for i in range(n):
        out = play(env, policy, tasks[i % len(tasks)], seed=i)
        total += out["donation"]
        donors += out["donated"]
    seconds = time.perf_counter() - start
    return n / seconds, total / n, donors / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dialogues", type=int, default=500)
    parser.add_argument("--params", default="params.yaml", help="the simulated players' knobs (agents.sim.persuasion)")
    args = parser.parse_args()
    params = load_params(args.params)
    knobs = build(PARAMS_TYPE, params.raw["agents"]["sim"]["persuasion"], "agents.sim.persuasion", params.source)
    cfg = PersuasionConfig(
        max_turns=10, n_train_tasks=2500, n_test_tasks=100, donor="sim", donor_temperature=0.0, donor_max_tokens=256
    )
    _, oracle_mean, oracle_rate = run("oracle", args.dialogues, cfg, knobs)
    print(f"oracle_mean_donation={oracle_mean:.3f} oracle_donor_rate={oracle_rate:.3f}")
    speed, mean, rate = run("prior", args.dialogues, cfg, knobs)
    print(f"dialogues_per_s={speed:.1f} prior_mean_donation={mean:.3f} prior_donor_rate={rate:.3f}")


if __name__ == "__main__":
    main()
