"""Monte-Carlo value of every repertoire move at decisions the simulated Avalon prior reaches.

Plays seeded games with the prior (the `agents.sim.avalon` knobs of a params file) and samples its
decision states. At each sampled state every open move is forced once (phrased as the prior would
phrase it), the game is finished by the prior, and this is repeated over many rollouts with fresh
hidden randomness (the bots' generator is reseeded; rollout r uses the same seed for every move, so
moves are compared on common random numbers). Per decision kind and move it prints: the fraction of
states where the move is best, the mean value of playing it at the sampled decision ("always this
move" there, the prior elsewhere), and per state the value of the best move against the value of the
prior's own choice (the prior's move distribution at that state). The best move of a state is picked
on the even rollouts and valued on the odd ones, so that the gain is not inflated by picking the
luckiest estimate.

    python benchmarks/move_values_avalon.py --states 60 --rollouts 64

Last line: `key=value` pairs.
"""

from __future__ import annotations

import argparse
import time
from collections import defaultdict

import numpy as np

from pnlc.agents.roles import DecisionContext
from pnlc.agents.runner import play_on
from pnlc.agents.sim import avalon as sim
from pnlc.config import build, load_params
from pnlc.pipeline.factory import env_config
from pnlc.envs.avalon import make_env


def sample_states(env, policy, n_states: int, seed: int, keep: float):
    """(env clone, context) at decisions of prior games, each decision kept with probability `keep`."""
    rng = np.random.default_rng(seed)
    states = []
    game = 0
    while len(states) < n_states:
        task = env.tasks("train")[game % len(env.tasks("train"))]
        policy.begin_episode(task, seed + game)
        obs = env.reset(task, seed + game)
        history: tuple[tuple[str, str], ...] = ()
        while True:
            ctx = DecisionContext("avalon", obs, env.describe(), history)
            if len(policy.moves(obs.view)) > 1 and rng.random() < keep and len(states) < n_states:
                states.append((env.clone(), ctx))
            thought = policy.propose_thought(ctx)
            action = policy.act(ctx, thought)
            tr = env.step(action)
            history += ((thought, action),)
            obs = tr.observation
            if tr.done:
                break
        game += 1
    return states


def move_value(state, policy, move: str, rollouts: int, seed: int) -> np.ndarray:
    """Outcome (the agent's metric) of forcing `move` at `state`, then the prior, per rollout."""
    base_env, ctx = state
    out = np.zeros(rollouts)
    for r in range(rollouts):
        env = base_env.clone()
        env.reseed(seed * 100_003 + r)
        policy.begin_episode(f"rollout-{r}", seed * 100_003 + r)
        thought = policy.phrase(ctx.observation.view, move, policy.rng("propose"))
        action = policy.act(ctx, thought)
        tr = env.step(action)
        if not tr.done:
            play_on(env, policy, tr.observation, ctx.history + ((thought, action),))
        out[r] = env.metric()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml", help="params file (env.avalon, agents.sim.avalon)")
    parser.add_argument("--states", type=int, default=60, help="sampled decision states")
    parser.add_argument("--rollouts", type=int, default=64, help="rollouts per (state, move); even")
    parser.add_argument("--keep", type=float, default=0.15, help="chance a prior decision is sampled")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    params = load_params(args.params)
    knobs = build(sim.PARAMS_TYPE, params.raw["agents"]["sim"]["avalon"], "agents.sim.avalon", params.source)
    cfg = env_config(params, "avalon")
    env = make_env(cfg)
    policy = sim.make_sim_policy(cfg, "prior", knobs)
    start = time.perf_counter()
    states = sample_states(env, policy, args.states, args.seed, args.keep)

    by_kind: dict[str, list[dict]] = defaultdict(list)
    for i, state in enumerate(states):
        ctx = state[1]
        kind = ctx.observation.view["decision"]
        policy.begin_episode(f"state-{i}", args.seed)
        weights = policy.propose_weights(ctx)
        values = {m: move_value(state, policy, m, args.rollouts, args.seed * 7919 + i) for m in weights}
        by_kind[kind].append({"weights": weights, "values": values})

    totals = {"states": 0, "best": 0.0, "prior": 0.0, "best_move_share_max": 0.0}
    for kind, rows in sorted(by_kind.items()):
        moves = sorted({m for row in rows for m in row["values"]})
        best_count = dict.fromkeys(moves, 0)
        sums, counts = defaultdict(float), defaultdict(int)
        gain_best, gain_prior = [], []
        for row in rows:
            full = {m: v.mean() for m, v in row["values"].items()}
            best_count[max(full, key=full.__getitem__)] += 1
            for m, v in full.items():
                sums[m] += v
                counts[m] += 1
            pick = max(row["values"], key=lambda m: row["values"][m][0::2].mean())
            gain_best.append(row["values"][pick][1::2].mean())
            gain_prior.append(sum(w * row["values"][m][1::2].mean() for m, w in row["weights"].items()))
        n = len(rows)
        print(f"{kind}: {n} states")
        for m in moves:
            share = best_count[m] / n
            totals["best_move_share_max"] = max(totals["best_move_share_max"], share)
            print(f"  {m:13s} best in {share:6.1%} of states   mean value when forced {sums[m] / counts[m]:.3f}"
                  f"   ({counts[m]} states)")
        print(f"  per-state best move {np.mean(gain_best):.3f} vs the prior's choice {np.mean(gain_prior):.3f}"
              f"  (gain {np.mean(gain_best) - np.mean(gain_prior):+.3f})")
        totals["states"] += n
        totals["best"] += float(np.sum(gain_best))
        totals["prior"] += float(np.sum(gain_prior))
    elapsed = time.perf_counter() - start
    best, prior = totals["best"] / totals["states"], totals["prior"] / totals["states"]
    print(
        f"states={totals['states']} rollouts={args.rollouts} best_value={best:.3f} prior_value={prior:.3f} "
        f"informed_gain={best - prior:.3f} max_best_share={totals['best_move_share_max']:.3f} seconds={elapsed:.0f}"
    )


if __name__ == "__main__":
    main()
