"""Avalon simulation throughput and Merlin win rates: the prior vs the strong (oracle) Merlin.

Plays N games with each policy as Merlin against the rule-based players and prints
`games_per_s=<x> prior_merlin_win_rate=<p> strong_merlin_win_rate=<q>` as the last line.
"""

from __future__ import annotations

import argparse
import time

from pnlc.agents.roles import DecisionContext
from pnlc.agents.sim.avalon import make_sim_policy
from pnlc.envs.avalon import AvalonConfig, make_env


def play(env, policy, task_id: str, seed: int) -> dict:
    """One game: the policy thinks, acts, and the env answers, until the game ends."""
    policy.begin_episode(task_id, seed)
    obs = env.reset(task_id, seed)
    history: tuple[tuple[str, str], ...] = ()
    while True:
        ctx = DecisionContext(env="avalon", observation=obs, summary=env.describe(), history=history)
        thought = policy.propose_thought(ctx)
        action = policy.act(ctx, thought)
        tr = env.step(action)
        history += ((thought, action),)
        obs = tr.observation
        if tr.done:
            return dict(env.outcome())


def run(kind: str, n_games: int, cfg: AvalonConfig) -> tuple[float, float]:
    """Win rate and Merlin-assassinated rate of `kind` over `n_games` train tasks (seed = game index)."""
    env = make_env(cfg)
    policy = make_sim_policy(cfg, kind)
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
    args = parser.parse_args()
    cfg = AvalonConfig(
        setup_file=None, agent_role="Merlin", agent_seat=None, n_train_tasks=2500, n_test_tasks=100, discussion=True
    )
    start = time.perf_counter()
    prior, prior_assassinated = run("prior", args.games, cfg)
    strong, strong_assassinated = run("oracle", args.games, cfg)
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
