"""What the critic-reading loops do with the critic at each decision, read from a run's evaluation records.

For every decision of the methods that ask the critic, the `decision` field of
`results/eval/{env}/{backend}/{method}/seed*.jsonl` holds the drafts the policy wrote and the value text
it read for each. From those this prints, per environment and method:

- drafts: thoughts written and valued per decision (Best-of-n: its n candidates);
- moved: share of decisions whose final thought is not the first draft;
- back: share where the policy went back to an earlier draft (PNLC's keep rule);
- best: share whose final thought reads at least as well as every draft of the decision;
- gain: what the final thought reads minus what the first draft read, the score a simulated policy reads
  off the value text (mean P(positive) - mean P(negative), `agents.sim.base.value_score`), mean per
  decision with a 95 % bootstrap interval over episodes;
- calls: policy calls per decision (thought, goals, refinements, action), the cost of the loop.

A loop that writes more drafts and keeps the best-read one gains more of what the critic can tell
apart; the PNLC loop writes a second draft only when a value reads as a warning and keeps it only when
it reads better. Reading the records needs no model: it runs in seconds after `snakemake`.

    python benchmarks/decision_anatomy.py [--results results] [--backend sim] [--envs avalon webshop persuasion]

Last line: `key=value` pairs, `<env>_<method>_<figure>`.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from pnlc.agents.sim.base import value_score
from pnlc.critic.render import parse_value
from pnlc.data.jsonl import iter_jsonl
from pnlc.evaluation.stats import bootstrap_ci

METHODS = ("pnlc", "best_of_n", "scalar_critic", "pnlc_const", "pnlc_shuffled", "pnlc_inverted")
FIGURES = ("drafts", "moved", "back", "best", "gain", "gain_lo", "gain_hi", "calls")
TOLERANCE = 1e-9  # two reads closer than this are equal


def read_score(round_: dict) -> float:
    """The score a simulated policy reads off one draft's rendered value."""
    return value_score(parse_value(round_["value_text"]))


def episode_decisions(path: Path) -> list[list[dict]]:
    """Per episode of one records file, the decisions that asked the critic."""
    return [[s["decision"] for s in record["steps"] if (s.get("decision") or {}).get("rounds")]
            for record in iter_jsonl(path)]


def anatomy(files: list[Path], seed: int = 0) -> dict[str, float]:
    """The figures of one method over all its records files."""
    drafts, moved, back, best, calls, per_episode_gain = [], [], [], [], [], []
    for path in files:
        for decisions in episode_decisions(path):
            gains = []
            for d in decisions:
                scores = {r["thought"]: read_score(r) for r in d["rounds"]}
                first, final = d["candidates"][0], d["final_thought"]
                drafts.append(len(d["candidates"]))
                moved.append(final != first)
                back.append(int(d.get("returned_to_draft", 0)) > 0)
                calls.append(int(d["policy_calls"]))
                if first in scores and final in scores:
                    best.append(scores[final] >= max(scores.values()) - TOLERANCE)
                    gains.append(scores[final] - scores[first])
            if gains:
                per_episode_gain.append(float(np.mean(gains)))
    if not drafts:
        return {}
    gain, lo, hi = bootstrap_ci(per_episode_gain, n_boot=2000, ci=0.95, seed=seed)
    return {
        "decisions": float(len(drafts)), "drafts": float(np.mean(drafts)), "moved": float(np.mean(moved)),
        "back": float(np.mean(back)), "best": float(np.mean(best)), "gain": gain, "gain_lo": lo, "gain_hi": hi,
        "calls": float(np.mean(calls)),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=Path("results"), help="a run's results folder")
    ap.add_argument("--backend", default="sim")
    ap.add_argument("--envs", nargs="+", default=["avalon", "webshop", "persuasion"])
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    args = ap.parse_args()

    pairs: dict[str, float] = {}
    for env in args.envs:
        root = args.results / "eval" / env / args.backend
        if not root.is_dir():
            print(f"{env}: no evaluation records under {root}; skipped (run snakemake with this env)")
            continue
        print(f"{env} ({args.backend}):")
        print(f"  {'method':16s}{'decisions':>10s}{'drafts':>8s}{'moved':>8s}{'back':>8s}{'best':>8s}"
              f"{'gain [95 % CI]':>28s}{'calls':>8s}")
        for method in args.methods:
            files = sorted((root / method).glob("seed*.jsonl"))
            figures = anatomy(files) if files else {}
            if not figures:
                print(f"  {method:16s} no records with critic decisions")
                continue
            f = figures
            print(f"  {method:16s}{f['decisions']:10.0f}{f['drafts']:8.2f}{f['moved']:8.3f}{f['back']:8.3f}"
                  f"{f['best']:8.3f}{f['gain']:+10.4f} [{f['gain_lo']:+.4f}, {f['gain_hi']:+.4f}]{f['calls']:8.2f}")
            pairs.update({f"{env}_{method}_{key}": f[key] for key in FIGURES})
    if not pairs:
        raise SystemExit(f"no evaluation records under {args.results / 'eval'}; run snakemake first")
    print(" ".join(f"{k}={v:.4f}" for k, v in pairs.items()))


if __name__ == "__main__":
    main()
