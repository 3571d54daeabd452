"""Monte-Carlo values of the simulated persuader's moves in the states its prior reaches.

For a seeded sample of decision states reached by the prior (train tasks, a decision drawn
uniformly from each dialogue), every move of the repertoire is forced at that decision (answering
the doubt only where the donor's words left one open) and the prior finishes the dialogue; each
(state, move) is played `--rollouts` times with fresh randomness for the donor's replies and the
persuader (the donor's persona and everything said so far stay: the full simulator state, so these
are values a critic reading only the dialogue can approach but not reach). Rollout r uses the same
randomness for every move, so moves are compared on common random numbers.

The best move of a state is chosen on the first half of its rollouts and valued on the second half,
so the reported gain of an informed switch is not inflated by picking the luckiest mean. Printed per
move: in how many states it was available, the share of states where it is best, the mean donation
when it is forced ("always this move" at the sampled decision), and the share of states where it is
worse than the prior's own choice there. Last line: key=value pairs.

    PYTHONPATH=src python benchmarks/move_values_persuasion.py --states 150 --rollouts 24
"""

from __future__ import annotations

import argparse
import warnings

import numpy as np

from pnlc.agents.roles import DecisionContext
from pnlc.agents.runner import play_on
from pnlc.agents.sim.persuasion import ADDRESS, PARAMS_TYPE, THOUGHTS, make_sim_policy, parse_thought, thought_for
from pnlc.config import build, load_params
from pnlc.envs.persuasion import make_env
from pnlc.pipeline.factory import derive_seed, env_config


def reach_state(env, prior, task: str, seed: int, pick: np.random.Generator):
    """Play the prior on (task, seed), then replay it to a decision drawn uniformly from the dialogue;
    returns (ctx, history, the prior's own move there)."""
    prior.begin_episode(task, seed)
    play_on(env, prior, env.reset(task, seed), ())
    t = int(pick.integers(env.turn))
    prior.begin_episode(task, seed)
    obs = env.reset(task, seed)
    history: tuple[tuple[str, str], ...] = ()
    for _ in range(t + 1):
        ctx = DecisionContext(env=env.name, observation=obs, summary=env.describe(), history=history)
        thought = prior.propose_thought(ctx)
        if len(history) == t:
            return ctx, history, parse_thought(thought, obs.view.get("open_concern"))
        action = prior.act(ctx, thought)
        obs = env.step(action).observation
        history += ((thought, action),)
    raise AssertionError("unreachable")


def rollout(state, prior, task: str, ctx, history, option, seed: int) -> float:
    """Force `option` at the state's decision, let the prior finish; the donation."""
    env = state.clone()
    env.reseed(seed)
    prior.begin_episode(task, seed)
    thought = thought_for(*option)
    action = prior.act(ctx, thought)
    tr = env.step(action)
    if not tr.done and not play_on(env, prior, tr.observation, history + ((thought, action),), 4 * env.cfg.max_turns):
        raise RuntimeError(f"{task}: a rollout did not end")
    return float(env.metric())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml")
    parser.add_argument("--states", type=int, default=150)
    parser.add_argument("--rollouts", type=int, default=24, help="per (state, move); even, split in halves")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    if args.rollouts < 2 or args.rollouts % 2:
        parser.error("--rollouts must be an even number >= 2")
    params = load_params(args.params)
    cfg = env_config(params, "persuasion")
    knobs = build(PARAMS_TYPE, params.raw["agents"]["sim"]["persuasion"], "agents.sim.persuasion", params.source)
    env = make_env(cfg)
    prior = make_sim_policy(cfg, "prior", knobs)
    tasks = env.tasks("train")
    pick = np.random.default_rng(args.seed)
    moves = [(m, None) for m in THOUGHTS]
    names = list(THOUGHTS) + [ADDRESS]
    half = args.rollouts // 2
    # values[s, k, r]: donation after forcing move k in state s, rollout r (NaN where unavailable)
    values = np.full((args.states, len(names), args.rollouts), np.nan)
    prior_move = np.zeros(args.states, dtype=int)
    for s in range(args.states):
        task = tasks[s % len(tasks)]
        ctx, history, own = reach_state(env, prior, task, derive_seed("move-values", args.seed, s), pick)
        state = env.clone()
        doubt = ctx.observation.view.get("open_concern")
        options = moves + ([(ADDRESS, doubt)] if doubt is not None else [])
        prior_move[s] = names.index(own[0])
        for k, option in enumerate(options):
            for r in range(args.rollouts):
                values[s, k, r] = rollout(state, prior, task, ctx, history, option, derive_seed("rollout", args.seed, s, r))

    with warnings.catch_warnings():  # a move unavailable in a state has only NaN there
        warnings.simplefilter("ignore", RuntimeWarning)
        first, second = np.nanmean(values[:, :, :half], axis=2), np.nanmean(values[:, :, half:], axis=2)
        full = np.nanmean(values, axis=2)
    available = ~np.isnan(full)
    best_first = np.nanargmax(np.where(available, first, -np.inf), axis=1)
    rows = np.arange(args.states)
    prior_value = second[rows, prior_move]
    best_value = second[rows, best_first]
    prior_full = full[rows, prior_move]

    print(f"{args.states} states, {args.rollouts} rollouts per (state, move); donation in $")
    print(f"{'move':<14} {'states':>6} {'best':>6} {'mean $':>7} {'< prior':>8}")
    always = {}
    for k, name in enumerate(names):
        here = available[:, k]
        n = int(here.sum())
        frac_best = float(np.mean(best_first[here] == k)) if n else 0.0
        mean = float(np.nanmean(full[here, k])) if n else float("nan")
        worse = float(np.mean(full[here, k] < prior_full[here])) if n else float("nan")
        always[name] = mean
        print(f"{name:<14} {n:>6} {frac_best:>6.2f} {mean:>7.3f} {worse:>8.2f}")
    gain = best_value - prior_value
    se = float(np.std(gain, ddof=1) / np.sqrt(len(gain)))
    best_always = max(always, key=lambda m: always[m] if not np.isnan(always[m]) else -np.inf)
    print(
        f"per-state best move (chosen on rollouts 1-{half}, valued on {half + 1}-{args.rollouts}): "
        f"${best_value.mean():.3f}; the prior's own move: ${prior_value.mean():.3f}; "
        f"gain ${gain.mean():.3f} +- {1.96 * se:.3f}"
    )
    best_counts = np.bincount(best_first, minlength=len(names))
    print(
        f"states={args.states} rollouts={args.rollouts} moves={len(names)} "
        f"moves_best_somewhere={int(np.sum(best_counts > 0))} max_best_share={best_counts.max() / args.states:.3f} "
        f"most_often_best={names[int(best_counts.argmax())]} best_always_move={best_always} "
        f"best_always_value={always[best_always]:.3f} prior_choice_value={prior_value.mean():.3f} "
        f"per_state_best_value={best_value.mean():.3f} informed_gain={gain.mean():.3f}"
    )


if __name__ == "__main__":
    main()
