"""WebShop speed and prior quality.

    python benchmarks/bench_webshop.py [--data ../shared/data/webshop] [--seeds 10] [--products 200]

Reports, for the generated catalogue and (when present) the real 1k-product catalogue, side by side: BM25 search
latency p50 over 500 queries (the goals' instructions), episodes per second of the simulated prior
shopper (knobs from params.yaml), and its score (mean reward x 100) and success rate on the 100
test goals; also the share of all goals' requested attributes written literally on the target
product's page (title, features, description), which a shopper reading the page can see. The last
line holds both prior scores and their gap, then the real-catalogue figures (only the generated
ones when the real data is absent).
"""

from __future__ import annotations

import argparse
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


def bench(catalogue: str, seeds: int, n_generated: int) -> dict[str, float]:
    cfg = WebShopConfig(catalogue=catalogue, n_generated_products=n_generated, n_test_goals=100, max_steps=15, seed=0,
                        max_goals_per_product=10, human_instructions=True, bm25_k1=0.9, bm25_b=0.4)
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
    raw = load_params(ROOT / "params.yaml").raw["agents"]["sim"]["webshop"]
    knobs = build(sim_webshop.PARAMS_TYPE, raw, "agents.sim.webshop")
    env, prior = make_env(cfg), sim_webshop.make_sim_policy(cfg, "prior", knobs)
    rewards = []
    t = time.perf_counter()
    for s in range(seeds):
        for i, tid in enumerate(env.tasks("test")):
            rewards.append(_play_episode(env, prior, tid, seed=1000 * s + i))
    eps = len(rewards) / (time.perf_counter() - t)
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
        "prior_score": 100 * float(np.mean(rewards)),
        "prior_success": float(np.mean([r == 1.0 for r in rewards])),
    }


def _line(r: dict[str, float]) -> str:
    return (f"search_ms_p50={r['search_ms_p50']:.3f} episodes_per_s={r['episodes_per_s']:.1f} "
            f"prior_score={r['prior_score']:.1f} prior_success={r['prior_success']:.3f} "
            f"literal_attribute_share={r['literal_share']:.3f}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--seeds", type=int, default=10,
                    help="plays of the 100 test goals per catalogue (seeded prior episodes)")
    ap.add_argument("--products", type=int, default=200, help="generated catalogue size (params.yaml default)")
    args = ap.parse_args()
    gen = bench("generated", args.seeds, args.products)
    print(f"generated catalogue, {args.products} products (build {gen['build_s']:.2f}s): {_line(gen)}")
    if (args.data / "products_1000.json").exists():
        real = bench(str(args.data), args.seeds, args.products)
        print(f"real catalogue {args.data} (build {real['build_s']:.2f}s): {_line(real)}")
        gap = gen["prior_score"] - real["prior_score"]
        print(f"generated_prior_score={gen['prior_score']:.1f} real_prior_score={real['prior_score']:.1f} "
              f"score_gap={gap:+.1f} {_line(real)}")
    else:
        print(f"real catalogue not found at {args.data}; last line reports the generated catalogue")
        print(f"generated_prior_score={gen['prior_score']:.1f} {_line(gen)}")


if __name__ == "__main__":
    main()
