"""Monte-Carlo value of every repertoire move of the simulated WebShop shopper.

    python benchmarks/move_values_webshop.py [--states 200] [--rollouts 16] [--seed 0] [--catalogue generated]

On a sample of decision states reached by the prior on training tasks (seeded), each move
available there is forced (its thought as the prior would write it), the episode is finished by
the prior with fresh randomness, `--rollouts` times; the mean reward is the move's value in that
state. The prior's own value in the state is the value of its choice: the moves' values weighted
by the probabilities it draws them with. Printed per move: in how many states it was available,
the share of those where it is best (ties count for each), its mean value ("always this move" at
that decision), and its mean loss against the state's best move; then the value of the per-state
best move against the prior's choice (what a perfectly informed switch could gain at one
decision). The last line holds the key=value summary.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import time
from pathlib import Path

import numpy as np

from pnlc.agents.roles import DecisionContext
from pnlc.agents.runner import play_on
from pnlc.agents.sim import webshop as sim_webshop
from pnlc.agents.sim.webshop.repertoire import MOVES
from pnlc.config import build, load_params
from pnlc.envs.webshop import WebShopConfig, make_env

ROOT = Path(__file__).resolve().parents[1]


def decision_states(env, prior, task_id: str, seed: int):
    """(env clone, policy copy, observation, history) at every decision of one prior episode."""
    prior.begin_episode(task_id, seed)
    obs, history, out = env.reset(task_id, seed), (), []
    while True:
        out.append((env.clone(), copy.deepcopy(prior), obs, history))
        ctx = DecisionContext(env="webshop", observation=obs, summary=env.describe(), history=history)
        thought = prior.propose_thought(ctx)
        tr = env.step(prior.act(ctx, thought))
        history += ((thought, tr.info.get("page", "")),)
        obs = tr.observation
        if tr.done:
            return out


def value_of(state, thought: str, rollouts: int, seed: int) -> float:
    """Mean final reward after `thought`, the rest played by the prior with fresh randomness."""
    env0, pol0, obs, history = state
    total = 0.0
    for r in range(rollouts):
        env, pol = env0.clone(), copy.deepcopy(pol0)
        pol.rngs = {s: np.random.default_rng([seed, r, i]) for i, s in enumerate(pol.rngs)}
        ctx = DecisionContext(env="webshop", observation=obs, summary=env.describe(), history=history)
        tr = env.step(pol.act(ctx, thought))
        if not tr.done:
            play_on(env, pol, tr.observation, history + ((thought, ""),))
        total += env.metric()
    return total / rollouts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--states", type=int, default=200)
    ap.add_argument("--rollouts", type=int, default=16)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--catalogue", default=None, help="overrides env.webshop.catalogue")
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    args = ap.parse_args()

    params = load_params(args.params)
    cfg = build(WebShopConfig, params.raw["env"]["webshop"], "env.webshop")
    if args.catalogue:
        cfg = dataclasses.replace(cfg, catalogue=args.catalogue)
    knobs = build(sim_webshop.PARAMS_TYPE, params.raw["agents"]["sim"]["webshop"], "agents.sim.webshop")
    env, prior = make_env(cfg), sim_webshop.make_sim_policy(cfg, "prior", knobs)
    tasks = env.tasks("train")
    rng = np.random.default_rng(args.seed)
    start = time.perf_counter()

    values: dict[str, list[float]] = {m: [] for m in MOVES}
    losses: dict[str, list[float]] = {m: [] for m in MOVES}
    best_count = {m: 0 for m in MOVES}
    best_v, prior_v, sampled = [], [], 0
    while sampled < args.states:
        task = tasks[int(rng.integers(len(tasks)))]
        states = decision_states(env, prior, task, int(rng.integers(2**31)))
        state = states[int(rng.integers(len(states)))]
        _, pol, obs, history = state
        ctx = DecisionContext(env="webshop", observation=obs, summary="", history=history)
        choices = pol.choices(ctx, np.random.default_rng([args.seed, sampled]))
        if len(choices) < 2:
            continue  # a forced decision (one move available) says nothing about choosing
        moves = list(choices)
        v = {m: value_of(state, choices[m][1], args.rollouts, args.seed * 1_000_003 + sampled) for m in moves}
        appeal = np.array([choices[m][0] for m in moves]) / knobs.temperature
        p = np.exp(appeal - appeal.max())
        p /= p.sum()
        top = max(v.values())
        for m in moves:
            values[m].append(v[m])
            losses[m].append(top - v[m])
            best_count[m] += v[m] >= top - 1e-9
        best_v.append(top)
        prior_v.append(float(np.dot(p, [v[m] for m in moves])))
        sampled += 1

    print(f"{sampled} decision states ({cfg.catalogue} catalogue), {args.rollouts} rollouts per move")
    print(f"{'move':<16}{'states':>8}{'best in':>10}{'value':>8}{'loss vs best':>14}")
    never_losing = 0
    for m in MOVES:
        n = len(values[m])
        if not n:
            print(f"{m:<16}{0:>8}")
            continue
        share = best_count[m] / n
        never_losing += share == 1.0
        print(f"{m:<16}{n:>8}{share:>10.2f}{np.mean(values[m]):>8.3f}{np.mean(losses[m]):>14.3f}")
    gain = np.array(best_v) - np.array(prior_v)
    print(f"per-state best move {np.mean(best_v):.3f} vs the prior's choice {np.mean(prior_v):.3f}: "
          f"an informed switch gains {np.mean(gain):.3f} (states with a gain > 0.05: {np.mean(gain > 0.05):.2f})")
    shares = [best_count[m] / len(values[m]) for m in MOVES if values[m]]
    print(f"states={sampled} rollouts={args.rollouts} moves_best_everywhere={never_losing} "
          f"max_best_share={max(shares):.2f} min_best_share={min(shares):.2f} best_value={np.mean(best_v):.3f} "
          f"prior_value={np.mean(prior_v):.3f} informed_gain={np.mean(gain):.3f} "
          f"seconds={time.perf_counter() - start:.1f}")


if __name__ == "__main__":
    main()
