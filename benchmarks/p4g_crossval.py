"""PersuasionForGood: the critic against the text references, cross-validated over every dialogue.

    python benchmarks/p4g_crossval.py [--folds 5] [--seed 0] [--jobs 2] [--params params.yaml]
                                      [--set KEY=VALUE ...]

The P4G experiment (`snakemake --cores 2 p4g_all`) holds out 203 of the dialogues, so its intervals
are about ±0.045 wide: too coarse to tell whether the critic is within 0.02 of the best text
reference. Here the dialogues are cut into `--folds` folds (by dialogue, shuffled with `--seed`);
for each fold the critic is trained and the linear probe and the references fitted on the other
folds and scored on it, through the experiment's own code (`pnlc.pipeline.p4g.score_heldout`, the
critic's training seed `p4g.split_seed` as in the experiment). Every dialogue is held out once.

Printed, by third of the dialogue and overall:
- each model's AUC pooled over every held-out state, with a 95 % bootstrap over all dialogues;
- the critic's AUC minus each reference's, two ways: pooled (paired bootstrap over all dialogues),
  and the mean over folds of each fold's difference (the quantity one 80/20 split estimates; its
  bootstrap resamples dialogues within each fold);
- each fold's critic and best-reference AUC, and the critic's AUC on its own validation dialogues
  (a fifth of the training folds' dialogues, never held out here) and the update of its best
  validation loss: the figure a setting may be chosen by, since every held-out figure here is a test
  figure.
`--set` overrides params.yaml keys (dotted, YAML values, as in p4g_critic_variants.py), e.g.
`--set p4g.critic.early_stop_patience=10`.
About 10 minutes of training per fold on one core (the encoder's vectors come from `embed.cache_dir`
when an earlier run left them); `--jobs` folds run at once, each on one thread.
Last line: key=value pairs (the critic's pooled AUC, and the mean-over-folds differences to the best
reference overall and by third).
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import yaml
from p4g_critic_variants import override

ROOT = Path(__file__).resolve().parents[1]
COLUMNS = ("all", "early", "middle", "late")
SAMPLES = 1000
CONFIDENCE = 0.95


def folds_of(n: int, folds: int, seed: int) -> list[np.ndarray]:
    """Dialogue indices shuffled with `seed` and cut into `folds` nearly equal, sorted folds."""
    order = np.random.default_rng(seed).permutation(n)
    return [np.sort(part) for part in np.array_split(order, folds)]


def fold_scores(raw: dict, source: str, fold: int, test_idx: list[int]) -> dict:
    """Train on every dialogue outside `test_idx`, score the ones inside (one thread)."""
    from pnlc.config import params_from_dict
    from pnlc.envs.persuasion.p4g import AGREES
    from pnlc.pipeline.p4g import p4g_episodes, score_heldout
    from pnlc.value.train import TIMING_KEY

    params = params_from_dict(raw, source)
    episodes = p4g_episodes(Path(params.section("p4g").data_dir))
    held_out = set(test_idx)
    train_eps = [ep for i, ep in enumerate(episodes) if i not in held_out]
    test_eps = [episodes[i] for i in test_idx]
    t0 = time.perf_counter()
    held = score_heldout(params, train_eps, test_eps, threads=1)
    return {
        "fold": fold,
        "scores": {name: np.asarray(p, dtype=np.float64) for name, p in held.scores.items()},
        "labels": held.labels,
        "thirds": held.thirds,
        "dialogues": np.asarray(test_idx, dtype=np.int64)[held.dialogues],
        "updates": held.train_metrics[TIMING_KEY]["updates"],
        "best_update": held.train_metrics["val"]["best_update"],
        "validation_auc": next(g["auc"] for g in held.train_metrics["outcome_goals"]["per_goal"]
                               if g["goal"] == AGREES),
        "seconds": time.perf_counter() - t0,
    }


def column_mask(thirds: np.ndarray, column: str) -> np.ndarray:
    """The states of one table column: every state ("all") or one third of the dialogues."""
    return np.ones(len(thirds), dtype=bool) if column == "all" else thirds == column


def fold_mean_difference(parts: list[dict], a: str, b: str, column: str, seed: int) -> dict:
    """Mean over folds of AUC(a) − AUC(b) on each fold's states of `column`, with a percentile
    bootstrap that resamples dialogues within each fold (stratified by fold)."""
    from pnlc.evaluation.stats import group_resample_counts, weighted_auc

    points, boots = [], []
    for k, part in enumerate(parts):
        mask = column_mask(part["thirds"], column)
        labels = part["labels"][mask]
        _, groups = np.unique(part["dialogues"][mask], return_inverse=True)
        counts = group_resample_counts(int(groups.max()) + 1, SAMPLES, seed + k)
        one = np.ones((1, len(groups)))
        sa, sb = part["scores"][a][mask], part["scores"][b][mask]
        points.append(weighted_auc(sa, labels, one)[0] - weighted_auc(sb, labels, one)[0])
        w = counts[:, groups]
        boots.append(weighted_auc(sa, labels, w) - weighted_auc(sb, labels, w))
    mean = np.mean(np.stack(boots), axis=0)
    mean = mean[np.isfinite(mean)]
    tail = 100 * (1 - CONFIDENCE) / 2
    return {"mean": float(np.mean(points)), "lo": float(np.percentile(mean, tail)),
            "hi": float(np.percentile(mean, 100 - tail)), "per_fold": [float(p) for p in points]}


def interval(d: dict) -> str:
    return f"{d['mean']:+.3f} [{d['lo']:+.3f}, {d['hi']:+.3f}]"


def main() -> None:
    from pnlc.config import params_from_dict
    from pnlc.evaluation.stats import (group_resample_counts, grouped_auc_difference, grouped_auc_interval,
                                       weighted_auc)
    from pnlc.pipeline.p4g import best_reference, p4g_episodes

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--seed", type=int, default=0, help="shuffles the dialogues into folds; also seeds the bootstrap")
    ap.add_argument("--jobs", type=int, default=2, help="folds trained at once, one thread each")
    ap.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE", help="params.yaml overrides")
    args = ap.parse_args()
    if args.folds < 2:
        raise SystemExit("--folds: give at least 2")
    if any("=" not in pair for pair in args.set):
        raise SystemExit("--set: give KEY=VALUE pairs")
    raw = yaml.safe_load(args.params.read_text(encoding="utf-8"))
    for key, value in (pair.split("=", 1) for pair in args.set):
        raw = override(raw, key, yaml.safe_load(value))
    params = params_from_dict(raw, str(args.params))
    n = len(p4g_episodes(Path(params.section("p4g").data_dir)))
    folds = folds_of(n, args.folds, args.seed)
    print(f"{n} dialogues in {args.folds} folds of {min(map(len, folds))}-{max(map(len, folds))}; "
          f"{args.jobs} at a time", flush=True)

    t0 = time.perf_counter()
    parts = []
    with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(fold_scores, raw, str(args.params), k, [int(i) for i in idx])
                   for k, idx in enumerate(folds)]
        for fut in futures:
            part = fut.result()
            parts.append(part)
            print(f"fold {part['fold']}: {len(part['labels'])} states, {part['updates']} updates (best validation "
                  f"loss at {part['best_update']}), validation AUC {part['validation_auc']:.3f}, "
                  f"{part['seconds']:.0f} s", flush=True)
    wall = time.perf_counter() - t0

    names = list(parts[0]["scores"])
    critic = names[0]
    scores = {name: np.concatenate([p["scores"][name] for p in parts]) for name in names}
    labels = np.concatenate([p["labels"] for p in parts])
    thirds = np.concatenate([p["thirds"] for p in parts])
    dialogues = np.concatenate([p["dialogues"] for p in parts])
    counts = group_resample_counts(n, SAMPLES, args.seed)
    masks = {c: column_mask(thirds, c) for c in COLUMNS}

    pooled = {name: {c: grouped_auc_interval(p[masks[c]], labels[masks[c]], dialogues[masks[c]], counts, CONFIDENCE)
                     for c in COLUMNS} for name, p in scores.items()}
    print(f"\nPooled over {len(labels)} held-out states of {n} dialogues (AUC [95 % bootstrap over dialogues]):")
    for name in names:
        cells = "  ".join(f"{c} {pooled[name][c]['auc']:.3f} [{pooled[name][c]['lo']:.3f}, {pooled[name][c]['hi']:.3f}]"
                          for c in COLUMNS)
        print(f"  {name:70s} {cells}")
    best = best_reference(pooled, critic)

    refs = [name for name in names[1:] if not name.startswith("linear probe")]
    fold_best = {}
    print(f"\nCritic minus each model: pooled (paired bootstrap) | mean over folds (bootstrap within folds):")
    for ref in names[1:]:
        for c in COLUMNS:
            m = masks[c]
            p = grouped_auc_difference(scores[critic][m], scores[ref][m], labels[m], dialogues[m], counts, CONFIDENCE)
            f = fold_mean_difference(parts, critic, ref, c, args.seed)
            if ref == best:
                fold_best[c] = f
            print(f"  {ref[:60]:60s} {c:6s} pooled {interval(p)} | folds {interval(f)}; per fold "
                  + " ".join(f"{v:+.3f}" for v in f["per_fold"]))

    print(f"\nBest reference (pooled AUC over all states): {best}")
    for part in parts:
        one = np.ones((1, len(part["labels"])))
        aucs = {name: weighted_auc(part["scores"][name], part["labels"], one)[0] for name in (critic, best)}
        print(f"  fold {part['fold']}: critic {aucs[critic]:.3f}, best reference {aucs[best]:.3f}")
    validation = float(np.mean([part["validation_auc"] for part in parts]))
    print(f"critic's validation AUC, mean over folds: {validation:.3f}; {len(refs)} references; wall {wall:.0f} s")
    print(f"critic_validation={validation:.3f} critic_pooled={pooled[critic]['all']['auc']:.3f} "
          f"best_pooled={pooled[best]['all']['auc']:.3f} "
          + " ".join(f"diff_{c}={fold_best[c]['mean']:+.3f}" for c in COLUMNS) + f" wall_s={wall:.0f}")


if __name__ == "__main__":
    main()
