"""WebShop speed and prior quality.

    python benchmarks/bench_webshop.py [--data ../shared/data/webshop] [--seeds 10] [--products 200] [--goal-seeds 6]

Reports, for the generated catalogue and (when present) the real 1k-product catalogue, side by side: BM25 search
latency p50 over 500 queries (the goals' instructions), episodes per second of the simulated prior
shopper (knobs from params.yaml), and its score (mean reward x 100) and success rate on the 100
test goals; also the share of all goals' requested attributes written literally on the target
product's page (title, features, description), which a shopper reading the page can see.

Which 100 goals form the test split depends on the goal-sampling seed (`envs.webshop.seed`), and
the prior's score moves by several points from one draw to the next on either catalogue. So each
catalogue is scored on `--goal-seeds` draws (seeds 0, 1, ...; seed 0 is the default run's), and the
comparison is between the means over draws; each draw's score and the draws' standard deviation are
printed with it. Search latency and the literal share are measured on draw 0.

The last line holds both mean prior scores and their gap, seed 0's gap, then the real-catalogue
figures (only the generated ones when the real data is absent).
"""

from __future__ import annotations

import argparse
import functools
import time
from pathlib import Path

import numpy as np

from pnlc.agents.runner import play_policy
from pnlc.agents.sim import webshop as sim_webshop
from pnlc.config import build, load_params
from pnlc.envs.webshop import WebShopConfig, load_catalogue, make_env

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT.parent / "shared" / "data" / "webshop"


def _play_episode(env, policy, task_id, seed):
    """One episode of the bare policy (see pnlc.agents.runner.play_policy)."""
    env = play_policy(env, policy, task_id, seed)
    return env.metric()


def _config(catalogue: str, n_generated: int, goal_seed: int) -> WebShopConfig:
    return WebShopConfig(catalogue=catalogue, n_generated_products=n_generated, n_test_goals=100, max_steps=15,
                         seed=goal_seed, max_goals_per_product=10, human_instructions=True, bm25_k1=0.9, bm25_b=0.4)


@functools.cache
def _prior_knobs():
    raw = load_params(ROOT / "params.yaml").raw["agents"]["sim"]["webshop"]
    return build(sim_webshop.PARAMS_TYPE, raw, "agents.sim.webshop")


def prior_rewards(cfg: WebShopConfig, seeds: int) -> list[float]:
    """The bare prior's reward on each of the test goals, `seeds` plays each."""
    env, prior = make_env(cfg), sim_webshop.make_sim_policy(cfg, "prior", _prior_knobs())
    return [_play_episode(env, prior, tid, seed=1000 * s + i)
            for s in range(seeds) for i, tid in enumerate(env.tasks("test"))]


def bench(catalogue: str, seeds: int, n_generated: int, goal_seeds: int = 1) -> dict[str, float]:
    cfg = _config(catalogue, n_generated, 0)
    t0 = time.perf_counter()
    cat = load_catalogue(cfg)
    build_s = time.perf_counter() - t0
    queries = [g.instruction for g in cat.goals[:500]]
    while len(queries) < 500:
        queries += queries[: 500 - len(queries)]
    times = []
    for q in queries:
        t = time.perf_counter()
        cat.search(q)
        times.append(time.perf_counter() - t)
    t = time.perf_counter()
    rewards = prior_rewards(cfg, seeds)
    eps = len(rewards) / (time.perf_counter() - t)
    draws = [100 * float(np.mean(rewards))]
    draws += [100 * float(np.mean(prior_rewards(_config(catalogue, n_generated, g), seeds)))
              for g in range(1, goal_seeds)]
    literal = []
    for g in cat.goals:
        target = cat.by_asin[g.asin]
        page = " ".join([target.title, *target.bullets, target.description]).lower()
        literal += [a.lower() in page for a in g.attributes]
    return {
        "literal_share": float(np.mean(literal)),
        "build_s": build_s,
        "search_ms_p50": 1000 * float(np.median(times)),
        "episodes_per_s": eps,
        "prior_score": float(np.mean(draws)),
        "prior_score_seed0": draws[0],
        "prior_score_sd": float(np.std(draws, ddof=1)) if len(draws) > 1 else 0.0,
        "draws": draws,
        "prior_success": float(np.mean([r == 1.0 for r in rewards])),
    }


def _line(r: dict[str, float]) -> str:
    return (f"search_ms_p50={r['search_ms_p50']:.3f} episodes_per_s={r['episodes_per_s']:.1f} "
            f"prior_score={r['prior_score']:.1f} prior_score_sd={r['prior_score_sd']:.1f} "
            f"prior_score_seed0={r['prior_score_seed0']:.1f} prior_success_seed0={r['prior_success']:.3f} "
            f"literal_attribute_share={r['literal_share']:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seeds", type=int, default=10,
                    help="plays of the 100 test goals per catalogue (seeded prior episodes)")
    ap.add_argument("--products", type=int, default=200, help="generated catalogue size (params.yaml default)")
    ap.add_argument("--goal-seeds", type=int, default=6,
                    help="draws of the test goals per catalogue (goal-sampling seeds 0, 1, ...)")
    args = ap.parse_args()
    if args.goal_seeds < 1:
        ap.error("--goal-seeds must be at least 1")
    gen = bench("generated", args.seeds, args.products, args.goal_seeds)
    print(f"generated catalogue, {args.products} products (build {gen['build_s']:.2f}s): {_line(gen)}")
    print(f"  prior score per goal draw: {' '.join(f'{d:.1f}' for d in gen['draws'])}")
    if (args.data / "products_1000.json").exists():
        real = bench(str(args.data), args.seeds, args.products, args.goal_seeds)
        print(f"real catalogue {args.data} (build {real['build_s']:.2f}s): {_line(real)}")
        print(f"  prior score per goal draw: {' '.join(f'{d:.1f}' for d in real['draws'])}")
        gap = gen["prior_score"] - real["prior_score"]
        gap0 = gen["prior_score_seed0"] - real["prior_score_seed0"]
        print(f"generated_prior_score={gen['prior_score']:.1f} real_prior_score={real['prior_score']:.1f} "
              f"score_gap={gap:+.1f} score_gap_seed0={gap0:+.1f} goal_draws={args.goal_seeds} {_line(real)}")
    else:
        print(f"real catalogue not found at {args.data}; last line reports the generated catalogue")
        print(f"generated_prior_score={gen['prior_score']:.1f} {_line(gen)}")


if __name__ == "__main__":
    main()
