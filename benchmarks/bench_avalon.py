"""Avalon simulation throughput and Merlin win rates: the prior vs the strong (oracle) Merlin.

Plays N games with each policy as Merlin against the rule-based players and prints
`games_per_s=<x> prior_merlin_win_rate=<p> strong_merlin_win_rate=<q>` as the last line.
"""

from __future__ import annotations

import argparse
import time

from pnlc.agents.runner import play_policy
from pnlc.agents.sim.avalon import PARAMS_TYPE, make_sim_policy
from pnlc.config import build, load_params
from pnlc.envs.avalon import AvalonConfig, make_env


def play(env, policy, task_id: str, seed: int) -> dict:
    """One episode of the bare policy (see pnlc.agents.runner.play_policy)."""
    env = play_policy(env, policy, task_id, seed)
    return dict(env.outcome())


def run(kind: str, n_games: int, cfg: AvalonConfig, knobs) -> tuple[float, float]:
    """Win rate and Merlin-assassinated rate of `kind` over `n_games` train tasks (seed = game index)."""
    env = make_env(cfg)
    policy = make_sim_policy(cfg, kind, knobs)
    tasks = env.tasks("train")
    wins = assassinated = 0
    for i in range(n_games):
        out = play(env, policy, tasks[i % len(tasks)], seed=i)
        wins += out["agent_win"]
        assassinated += bool(out["assassinated"])
    return wins / n_games, assassinated / n_games


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--games", type=int, default=1000, help="games per policy")
    parser.add_argument("--params", default="params.yaml", help="params file with agents.sim.avalon")
    args = parser.parse_args()
    params = load_params(args.params)
    knobs = build(PARAMS_TYPE, params.raw["agents"]["sim"]["avalon"], "agents.sim.avalon", params.source)
    cfg = AvalonConfig(
        setup_file=None, agent_role="Merlin", agent_seat=None, n_train_tasks=2500, n_test_tasks=100, discussion=True
    )
    start = time.perf_counter()
    prior, prior_assassinated = run("prior", args.games, cfg, knobs)
    strong, strong_assassinated = run("oracle", args.games, cfg, knobs)
    elapsed = time.perf_counter() - start
    print(f"prior: win {prior:.3f}, Merlin assassinated {prior_assassinated:.3f}")
    print(f"strong: win {strong:.3f}, Merlin assassinated {strong_assassinated:.3f}")
    print(f"games={2 * args.games} seconds={elapsed:.1f}")
    print(
        f"games_per_s={2 * args.games / elapsed:.1f} prior_merlin_win_rate={prior:.3f} "
        f"strong_merlin_win_rate={strong:.3f}"
    )


if __name__ == "__main__":
    main()
