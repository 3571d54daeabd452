"""Does the critic rank the candidate moves of one Avalon state the way their Monte-Carlo values do?

The PNLC loop compares drafts of the same decision, so it needs the critic's order of thoughts
within a state; the held-out AUC measures how well the critic separates states by how the game
ends. This benchmark samples decision states of the simulated prior (as
`move_values_avalon.py` does) and, at each, compares for every open move:

- its Monte-Carlo win value (forced once, then the prior; common random numbers across moves);
- what each critic says of its thought texts, exactly as the prior phrases the move (every
  phrasing and named player it can draw, weighted as it draws them), with the state summary the
  critic reads at inference and the outcome goals the policy shows it: P(Good wins) and the score
  the simulated policy reads off the rendered value text (mean P(positive) - mean P(negative));
- the prior's own probability of the move.

Critics: the trained one (--critic), the shuffled-outcome variant (--shuffled), the base-rate and
inverted transforms of the trained one, and a linear probe fitted to the annotations
(--annotations; logistic regression per outcome goal on [state, thought] embeddings, as the
training diagnostics fit it), each where its input exists.

Per critic it prints: the within-state Spearman and Kendall correlation of move scores with MC
values (mean over states, bootstrap interval over states), the share of states whose
best-scored move is the MC-best move, the value of always taking the best-scored move against the
prior's choice and the MC-best move (moves picked on even rollouts, valued on the odd ones), the
within-state / between-state variance of its scores, and what the PNLC loop does with it at the
same states: how often refinement ends on another move than the first draft, and what that
switch is worth in MC value. With the trained critic, Best-of-n plays the same states, so that
its pick over its first candidate compares with PNLC's final thought over its first draft.

    python benchmarks/critic_ranking_avalon.py --states 60 --rollouts 32

Last line: `key=value` pairs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from move_values_avalon import move_value, sample_states
from pnlc.agents.methods import make_agent
from pnlc.agents.sim import avalon as sim
from pnlc.agents.sim.avalon import seats
from pnlc.agents.sim.avalon.repertoire import thought_move
from pnlc.agents.sim.base import value_score
from pnlc.config import build, load_params
from pnlc.critic.controls import load_critic
from pnlc.critic.critic import Critic
from pnlc.critic.render import parse_value
from pnlc.data import atomic_write_text
from pnlc.envs.avalon import make_env
from pnlc.envs.avalon.rules import GOOD_WINS
from pnlc.evaluation.ranking import TIE_DECIMALS, rank_agreement, top_weights, variance_split

from pnlc.evaluation.stats import bootstrap_ci
from pnlc.pipeline.factory import agent_config, env_config, make_embedder

FLAT = 1e-12  # a variance below this is none
# a recorded run's outputs, relative to the folder the benchmark runs in (the repository root)
DEFAULT_CRITIC = "results/critic/avalon/sim/default/seed0/critic.ckpt"
DEFAULT_ANNOTATIONS = "results/annotations/avalon/sim.npz"


class ProbeModel:
    """Outcome probabilities from one logistic regression per outcome goal on [emb(s), emb(a)],
    fitted to the annotated training episodes' outcomes (the diagnostics' linear probe). A goal is
    answered by the probe of the outcome sentence nearest to it (cosine); probes are fitted when
    first asked for."""

    goal_conditioned = True

    def __init__(self, path: str | Path) -> None:
        from pnlc.value.data import load_npz

        self.data = load_npz(path)
        self.embedder_id = self.data.embedder_id
        goals = self.data.outcome_goals.astype(np.float64)
        self._goal_unit = goals / np.linalg.norm(goals, axis=1, keepdims=True)
        self._probes: dict[int, Any] = {}

    def _probe(self, k: int) -> Any:
        from sklearn.linear_model import LogisticRegression

        if k not in self._probes:
            d = self.data
            x = np.concatenate([d.embeddings[d.state], d.embeddings[d.thought]], axis=1)
            y = d.outcome_labels[d.episode, k] > 0.5
            self._probes[k] = LogisticRegression(C=1.0, max_iter=1000).fit(x, y)
        return self._probes[k]

    def q(self, state_emb: np.ndarray, thought_emb: np.ndarray, goal_emb: np.ndarray) -> np.ndarray:
        g = np.asarray(goal_emb, dtype=np.float64)
        nearest = np.argmax((g / np.linalg.norm(g, axis=1, keepdims=True)) @ self._goal_unit.T, axis=1)
        x = np.concatenate([state_emb, thought_emb], axis=1)
        out = np.zeros(len(x))
        for k in np.unique(nearest):
            rows = nearest == k
            out[rows] = self._probe(int(k)).predict_proba(x[rows])[:, 1]
        return out


def load_critics(args: argparse.Namespace, embedder: Any) -> dict[str, Critic]:
    """The critics to compare, by name; a missing checkpoint or annotation file is skipped."""
    critics: dict[str, Critic] = {}
    trained = Path(args.critic)
    if not trained.exists():
        raise SystemExit(f"{trained}: no critic checkpoint; train it (snakemake train) or pass --critic")
    for name, transform in (("trained", "none"), ("const", "base_rate"), ("inverted", "inverted")):
        critics[name] = load_critic(trained, embedder, transform)
    shuffled = Path(args.shuffled) if args.shuffled else trained.parents[2] / "shuffled" / trained.parent.name / trained.name
    if shuffled.exists():
        critics["shuffled"] = load_critic(shuffled, embedder, "none")
    else:
        print(f"(no shuffled critic at {shuffled}; skipped)")
    if args.annotations and Path(args.annotations).exists():
        critics["probe"] = Critic(ProbeModel(args.annotations), embedder)
    else:
        print(f"(no annotations at {args.annotations}; probe skipped)")
    return critics


def read_scores(critic: Critic, ctx: Any, goals: Any, unique: list[str]) -> dict[str, dict[str, float]]:
    """Per score kind and text: `read`, what the simulated policy reads off the rendered value
    (two decimals); `raw`, the same mean P(positive) - mean P(negative) unrounded; `good`, P(Good wins)."""
    asked = list(goals.all) + ([GOOD_WINS] if GOOD_WINS not in goals.all else [])
    probs = critic.score(ctx.summary, unique, asked)
    n, n_pos = len(goals.all), len(goals.positive)
    return {
        "read": {t: value_score(parse_value(critic.render(goals, p[:n]))) for t, p in zip(unique, probs)},
        "raw": {t: float(p[:n_pos].mean() - (p[n_pos:n].mean() if n > n_pos else 0.0)) for t, p in zip(unique, probs)},
        "good": {t: float(p[asked.index(GOOD_WINS)]) for t, p in zip(unique, probs)},
    }


def loop_switches(agent: Any, state: tuple, index: int, reps: int, seed: int) -> list[tuple[str, str, int]]:
    """(first draft's move, final move, drafts written) of `reps` PNLC decisions at one state."""
    env, ctx = state
    kind = str(ctx.observation.view["decision"])
    out = []
    for k in range(reps):
        agent.begin_episode(f"loop-{index}", seed * 1_000 + k)
        thought, _, decision = agent.decide(ctx, env.clone())
        first = thought_move(kind, decision["candidates"][0])
        out.append((first, thought_move(kind, thought), len(decision["candidates"])))
    return out


def measure_state(i: int, state: tuple, policy: Any, critics: dict[str, Critic], agents: dict[str, Any],
                  args: argparse.Namespace, cfg: Any) -> dict[str, Any]:
    env, ctx = state
    view = ctx.observation.view
    policy.begin_episode(f"state-{i}", args.seed)
    weights = policy.propose_weights(ctx)
    moves = list(weights)
    values = np.stack([move_value(state, policy, m, args.rollouts, args.seed * 7919 + i) for m in moves])
    goals = policy.propose_goals(ctx, "", cfg.n_pos, cfg.n_neg)
    texts = {m: policy.move_texts(view, m) for m in moves}
    row: dict[str, Any] = {
        "kind": str(view["decision"]),
        "team_has_suspect": seats.team_has_suspect(view),
        "moves": moves,
        "prior": [weights[m] for m in moves],
        "values": values,
        "phrasings": {m: len(t) for m, t in texts.items()},
        "critics": {},
    }
    every = list(dict.fromkeys(t for m in moves for t in texts[m]))
    for name, critic in critics.items():
        scores = read_scores(critic, ctx, goals, every)
        row["critics"][name] = {
            **{kind: [sum(w * by_text[t] for t, w in texts[m].items()) for m in moves] for kind, by_text in scores.items()},
            "read_texts": [scores["read"][t] for t in every],
            "raw_by_move": [[scores["raw"][t] for t in texts[m]] for m in moves],
            "loop": loop_switches(agents[name], state, i, args.loops, args.seed) if args.loops else [],
        }
    def trained_loop(name: str, agent: Any) -> None:
        """Another loop with the trained critic's scores: only its decisions differ."""
        row["critics"][name] = {**row["critics"]["trained"], "loop": loop_switches(agent, state, i, args.loops, args.seed)}

    knobs = policy.refine_knobs
    for gain in args.min_gain if args.loops else ():
        policy.refine_knobs = dataclasses.replace(knobs, min_gain=gain)
        trained_loop(f"trained_mg{gain:g}", agents["trained"])
    policy.refine_knobs = knobs
    if args.loops:
        trained_loop("trained_bon", agents["trained_bon"])
    return row


def _mean_ci(xs: list[float], seed: int) -> tuple[float, float, float, int]:
    x = [v for v in xs if not math.isnan(v)]
    if not x:
        return math.nan, math.nan, math.nan, 0
    mean, lo, hi = bootstrap_ci(x, n_boot=2000, ci=0.95, seed=seed)
    return mean, lo, hi, len(x)


def _ratio(within: float, between: float) -> float:
    """within / between; NaN when neither varies, 0 when only between does."""
    if between < FLAT:
        return math.nan
    return 0.0 if abs(within) < FLAT else within / between


def critic_summary(rows: list[dict[str, Any]], name: str, seed: int) -> dict[str, float]:
    """The ranking, picking, variance and loop numbers of one critic over all states."""
    sp, kt, sp_raw, sp_good, hit, pick, spread = [], [], [], [], [], [], []
    switches, switch_gain, loop_gain, drafted = [], [], [], []
    for row in rows:
        c = row["critics"][name]
        full = row["values"].mean(axis=1)
        odd = row["values"][:, 1::2].mean(axis=1)
        s, k = rank_agreement(c["read"], full)
        sp.append(s)
        kt.append(k)
        sp_raw.append(rank_agreement(c["raw"], full)[0])
        sp_good.append(rank_agreement(c["good"], full)[0])
        w = top_weights(c["read"])
        hit.append(float(w[np.argmax(full)]))
        pick.append(float(w @ odd))
        spread.append(float(np.ptp(np.round(c["read"], TIE_DECIMALS))))
        index = {m: j for j, m in enumerate(row["moves"])}
        for first, final, n in c["loop"]:
            drafted.append(n > 1)
            switched = first != final
            switches.append(switched)
            gain = full[index[final]] - full[index[first]] if first in index and final in index else 0.0
            loop_gain.append(gain)
            if switched:
                switch_gain.append(gain)
    within, between = variance_split([row["critics"][name]["read"] for row in rows])
    within_t, between_t = variance_split([row["critics"][name]["read_texts"] for row in rows])
    within_g, between_g = variance_split([row["critics"][name]["good"] for row in rows])
    split = [variance_split(row["critics"][name]["raw_by_move"]) for row in rows]  # (phrasing, move) per state
    phrasing, move = float(np.mean([w for w, _ in split])), float(np.mean([b for _, b in split]))
    m, lo, hi, n = _mean_ci(sp, seed)
    km, klo, khi, _ = _mean_ci(kt, seed)
    return {
        "spearman": m, "spearman_lo": lo, "spearman_hi": hi, "ranked_states": n,
        "kendall": km, "kendall_lo": klo, "kendall_hi": khi,
        "spearman_raw": _mean_ci(sp_raw, seed)[0],
        "spearman_good": _mean_ci(sp_good, seed)[0],
        "flat": float(np.mean([s == 0.0 for s in spread])),
        "top1": float(np.mean(hit)), "pick_value": float(np.mean(pick)),
        "read_spread": float(np.mean(spread)),
        "var_ratio": _ratio(within, between),
        "var_ratio_texts": _ratio(within_t, between_t),
        "var_ratio_good": _ratio(within_g, between_g),
        "phrasing_ratio": _ratio(phrasing, move),
        "drafted": float(np.mean(drafted)) if drafted else math.nan,
        "switch_rate": float(np.mean(switches)) if switches else math.nan,
        "switch_value": float(np.mean(switch_gain)) if switch_gain else math.nan,
        "loop_gain": float(np.mean(loop_gain)) if loop_gain else math.nan,
    }


def reference_summary(rows: list[dict[str, Any]]) -> dict[str, float]:
    """What the MC values themselves say: the prior's and the MC-best move's value (picked on even
    rollouts, valued on odd), their split-half agreement, and the spread of move values."""
    prior, best, raw_gap, chance, split_sp, split_top, prior_sp, prior_top = [], [], [], [], [], [], [], []
    for row in rows:
        v = row["values"]
        full, even, odd = v.mean(axis=1), v[:, 0::2].mean(axis=1), v[:, 1::2].mean(axis=1)
        p = np.asarray(row["prior"])
        prior.append(float(p @ odd))
        best.append(float(odd[np.argmax(even)]))
        raw_gap.append(float(full.max() - p @ full))
        chance.append(1.0 / len(full))
        split_sp.append(rank_agreement(even, odd)[0])
        split_top.append(float(top_weights(even)[np.argmax(odd)]))
        prior_sp.append(rank_agreement(p, full)[0])
        prior_top.append(float(top_weights(p)[np.argmax(full)]))
    within, between = variance_split([row["values"].mean(axis=1) for row in rows])
    noise = float(np.mean([np.mean(row["values"].var(axis=1) / row["values"].shape[1]) for row in rows]))
    return {
        "prior_value": float(np.mean(prior)), "best_value": float(np.mean(best)),
        "best_gap_raw": float(np.mean(raw_gap)), "top1_chance": float(np.mean(chance)),
        "mc_split_spearman": float(np.nanmean(split_sp)), "mc_split_top1": float(np.mean(split_top)),
        "prior_spearman": float(np.nanmean(prior_sp)), "prior_top1": float(np.mean(prior_top)),
        "mc_var_ratio": _ratio(within, between),
        "mc_var_ratio_denoised": _ratio(within - noise, between),
    }


def by_kind(rows: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The states grouped by decision kind (say, propose, vote, ...)."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        groups[row["kind"]].append(row)
    return dict(sorted(groups.items()))


def approve_margin(rows: list[dict[str, Any]], name: str) -> float:
    """Mean over vote states of approve minus reject: MC value ("MC"), prior probability ("prior")
    or the read score of critic `name`."""
    out = []
    for r in rows:
        a, b = r["moves"].index("approve"), r["moves"].index("reject")
        x = r["values"].mean(axis=1) if name == "MC" else r["prior"] if name == "prior" else r["critics"][name]["read"]
        out.append(x[a] - x[b])
    return float(np.mean(out))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", default="params.yaml", help="params file (env.avalon, agents.sim.avalon, evaluate, embed)")
    parser.add_argument("--critic", default=DEFAULT_CRITIC, help="the trained goal-conditioned critic")
    parser.add_argument("--shuffled", default=None, help="shuffled-outcome critic (default: the sibling variant folder)")
    parser.add_argument("--annotations", default=DEFAULT_ANNOTATIONS, help="annotations .npz for the probe ('' skips it)")
    parser.add_argument("--states", type=int, default=60, help="sampled decision states")
    parser.add_argument("--rollouts", type=int, default=32, help="rollouts per (state, move); even")
    parser.add_argument("--loops", type=int, default=8,
                        help="PNLC decisions per state and critic, and Best-of-n ones with the trained critic (0: none)")
    parser.add_argument("--min-gain", type=float, nargs="*", default=[0.0, 0.05, 0.1],
                        help="also run the trained critic's PNLC decisions with these refine.min_gain values")
    parser.add_argument("--keep", type=float, default=0.15, help="chance a prior decision is sampled")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=None, help="write the per-state records here (.json)")
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    params = load_params(args.params)
    knobs = build(sim.PARAMS_TYPE, params.raw["agents"]["sim"]["avalon"], "agents.sim.avalon", params.source)
    env = make_env(env_config(params, "avalon"))
    policy = sim.make_sim_policy(env_config(params, "avalon"), "prior", knobs)
    cfg = agent_config(params, "avalon")
    critics = load_critics(args, make_embedder(params))
    agents = {name: make_agent("pnlc", policy, critic, cfg) for name, critic in critics.items()}
    agents["trained_bon"] = make_agent("best_of_n", policy, critics["trained"], cfg)

    start = time.perf_counter()
    states = sample_states(env, policy, args.states, args.seed, args.keep)
    rows = [measure_state(i, s, policy, critics, agents, args, cfg) for i, s in enumerate(states)]
    elapsed = time.perf_counter() - start

    ref = reference_summary(rows)
    results = {name: critic_summary(rows, name, args.seed) for name in rows[0]["critics"]}
    print(f"{len(rows)} states x {args.rollouts} rollouts; {args.loops} PNLC decisions per state and critic")
    print(f"MC values: prior's choice {ref['prior_value']:.3f}, MC-best move {ref['best_value']:.3f} (picked on even "
          f"rollouts, valued on odd); raw best - prior {ref['best_gap_raw']:+.3f}")
    print(f"MC noise: split-half Spearman {ref['mc_split_spearman']:.3f}, split-half top-1 {ref['mc_split_top1']:.3f} "
          f"(chance {ref['top1_chance']:.3f}); move-value variance within / between states {ref['mc_var_ratio']:.3f} "
          f"({ref['mc_var_ratio_denoised']:.3f} less rollout noise)")
    print(f"the prior's own move probabilities: Spearman {ref['prior_spearman']:.3f}, top-1 {ref['prior_top1']:.3f}")
    columns = [("spearman", "Spearman"), ("spearman_lo", "lo"), ("spearman_hi", "hi"), ("ranked_states", "n"),
               ("kendall", "Kendall"), ("spearman_raw", "Sp.raw"), ("spearman_good", "Sp.Pgood"), ("flat", "flat"),
               ("top1", "top1"), ("pick_value", "pick"), ("read_spread", "spread"), ("var_ratio", "var.w/b"),
               ("var_ratio_good", "Pgood.w/b"), ("phrasing_ratio", "phr/move"), ("drafted", "drafted"),
               ("switch_rate", "switch"), ("switch_value", "sw.value"), ("loop_gain", "loop")]
    print(f"{'critic':20s}" + "".join(f"{label:>10s}" for _, label in columns))
    for name, r in results.items():
        print(f"{name:20s}" + "".join(f"{r[key]:10.3f}" if key != "ranked_states" else f"{r[key]:10d}"
                                      for key, _ in columns))
    print("Spearman/Kendall: within-state correlation of the read score (what the policy reads off the value text) "
          "with MC values, over states where neither is flat (n); Sp.raw unrounded; Sp.Pgood P(Good wins); "
          "flat: states whose moves all read the same; top1: best-read move is the MC-best; pick: MC value "
          "(odd rollouts) of always taking the best-read move; spread: mean max - min read score across moves; "
          "var.w/b: within-state / between-state variance of move scores; phr/move: variance across phrasings of a "
          "move / across moves; drafted, switch: share of PNLC decisions that wrote a second draft, that end on "
          "another move than the first draft; sw.value: mean MC value of a switch; loop: mean MC value of the "
          "PNLC decision over its first draft; trained_bon: the same for Best-of-n with the trained critic (its "
          "first candidate against the one it picks)")
    for kind, group in by_kind(rows).items():
        ref_k = reference_summary(group)
        parts = [f"{name} Spearman {r['spearman']:.3f}, top1 {r['top1']:.2f}, switch {r['switch_rate']:.2f} "
                 f"worth {r['switch_value']:+.3f}, loop {r['loop_gain']:+.3f}"
                 for name in ("trained", "trained_bon", "shuffled", "probe") if name in group[0]["critics"]
                 for r in [critic_summary(group, name, args.seed)]]
        print(f"{kind} ({len(group)} states): MC-best gain {ref_k['best_value'] - ref_k['prior_value']:+.3f}, "
              f"prior Spearman {ref_k['prior_spearman']:.3f}; " + "; ".join(parts))
    votes = [r for r in rows if r["kind"] == "vote" and {"approve", "reject"} <= set(r["moves"])]
    for dirty in (True, False):
        group = [r for r in votes if r["team_has_suspect"] == dirty]
        if group:
            print(f"votes on a team {'with' if dirty else 'without'} a known evil player ({len(group)} states), "
                  "approve - reject: " + ", ".join(f"{name} {approve_margin(group, name):+.3f}"
                                                   for name in ("MC", "prior", *critics)))
    if args.out:
        records = [{**r, "values": r["values"].mean(axis=1).tolist()} for r in rows]
        atomic_write_text(args.out, json.dumps({"reference": ref, "critics": results, "states": records}, indent=1))
    pairs = {f"{k}": v for k, v in ref.items()}
    for name, r in results.items():
        if name.startswith(("trained_mg", "trained_bon")):
            pairs.update({f"{name}_{key}": r[key] for key in ("drafted", "switch_rate", "switch_value", "loop_gain")})
            continue
        for key in ("spearman", "spearman_lo", "spearman_hi", "kendall", "spearman_raw", "spearman_good", "flat",
                    "top1", "pick_value", "read_spread", "var_ratio", "var_ratio_good", "phrasing_ratio", "drafted",
                    "switch_rate", "switch_value", "loop_gain"):
            pairs[f"{name}_{key}"] = r[key]
    print(f"states={len(rows)} rollouts={args.rollouts} "
          + " ".join(f"{k}={v:.3f}" for k, v in pairs.items()) + f" seconds={elapsed:.0f}")


if __name__ == "__main__":
    main()
