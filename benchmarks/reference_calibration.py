"""How calibrated can any model fitted to the training episodes be on the held-out ones?

The critic's per-goal ECE mixes three things: how well it learnt the training episodes, how far the
held-out episodes' outcome rates are from the training episodes' (a split of a few hundred episodes
moves them by several points), and how much ECE itself varies over a held-out set that size. This
script separates them on a run's annotations, with the critic's own held-out split and 10 bins as
the critic's diagnostics use:

- the training rate: every held-out transition answered with the goal's rate among the training
  transitions (knows nothing about the state; its ECE is the rate shift alone);
- the text references of `train.references` (TF-IDF logistic regression, boosted trees on its SVD),
  fitted to the training transitions as the training phase fits them: their ECE and AUC;
- with `--critic`: the critic's ECE with a 95 % percentile interval from resampling held-out
  episodes (how far a held-out set of this size moves it), on the split its checkpoint names;
- with `--ceiling`: the outcome ceiling's ECE (Monte-Carlo probabilities of the full simulator
  state, calibrated up to its rollouts, on the same held-out episodes): what ECE a model that knows
  the hidden state still shows on this many games.

    python benchmarks/reference_calibration.py --annotations results/annotations/avalon/sim.npz \
        [--critic results/critic/avalon/sim/default/seed0/critic.ckpt] \
        [--ceiling results/critic/avalon/sim/ceiling/seed0.json]

Seconds at quick size. Last line: `key=value` pairs (the worst ECE of each model over the goals).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np


def weighted_ece(pred: np.ndarray, label: np.ndarray, weights: np.ndarray, n_bins: int) -> np.ndarray:
    """ECE over `n_bins` equal-width bins (as pnlc.value.diagnostics computes it) under item weights
    [B, n], one row per weighting (bootstrap multiplicities): float [B]."""
    pred = np.asarray(pred, dtype=np.float64)
    bins = np.clip((pred * n_bins).astype(np.int64), 0, n_bins - 1)
    onehot = np.zeros((pred.size, n_bins))
    onehot[np.arange(pred.size), bins] = 1.0
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    gap = w @ (onehot * (pred - np.asarray(label, dtype=np.float64))[:, None])  # [B, bins]
    return np.abs(gap).sum(axis=1) / w.sum(axis=1)


def main() -> None:
    from pnlc.config import load_params
    from pnlc.evaluation.stats import group_resample_counts
    from pnlc.pipeline.train import reference_config
    from pnlc.value.data import load_npz
    from pnlc.value.datamodule import TransitionDataModule, split_episodes
    from pnlc.value.diagnostics import auc, expected_calibration_error
    from pnlc.value.references import reference_probabilities, transition_texts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annotations", type=Path, default=Path("results/annotations/avalon/sim.npz"))
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--critic-seed", type=int, default=0, help="draws the held-out split, as in training "
                    "(ignored with --critic: its checkpoint names the split)")
    ap.add_argument("--critic", type=Path, help="a critic trained on these annotations (critic.ckpt)")
    ap.add_argument("--ceiling", type=Path, help="the outcome ceiling of the same held-out split (ceiling/seed<s>.json)")
    ap.add_argument("--samples", type=int, default=1000, help="bootstrap resamples of held-out episodes")
    ap.add_argument("--bins", type=int, default=10)
    args = ap.parse_args()

    params = load_params(args.params)
    data = load_npz(args.annotations)
    if data.texts is None:
        raise SystemExit(f"{args.annotations}: the annotations carry no texts; rerun the annotation phase")
    model = None
    if args.critic is not None:
        from pnlc.value.checkpoint import load_critic

        model = load_critic(args.critic, data.embedder_id)
        if not model.goal_conditioned:
            raise SystemExit(f"{args.critic}: a scalar critic answers no outcome goal; give a goal-conditioned one")
        split = TransitionDataModule(data, model.cfg)  # the critic's own split, as training drew it
        train, val, seed = split.train_episodes, split.val_episodes, model.cfg.seed
    else:
        seed = args.critic_seed
        train, val = split_episodes(data.num_episodes, float(params.raw["train"]["critic"]["val_fraction"]), seed)
    ceiling = {}
    if args.ceiling is not None:
        doc = json.loads(args.ceiling.read_text())
        if doc.get("heldout_episodes") != len(val):
            raise SystemExit(f"{args.ceiling}: {doc.get('heldout_episodes')} held-out episodes, the split here has "
                             f"{len(val)}; give the ceiling of the same seed and val_fraction")
        ceiling = {g["goal"]: g for g in doc["outcome_goals"]["per_goal"]}
    in_train, in_val = np.isin(data.episode, train), np.isin(data.episode, val)
    labels = data.outcome_labels[data.episode] > 0.5
    probs = reference_probabilities(reference_config(params), transition_texts(data, in_train), labels[in_train],
                                    transition_texts(data, in_val))
    models = ["training rate", *probs]
    worst = {m: 0.0 for m in models + (["critic"] if model else []) + (["ceiling"] if ceiling else [])}
    _, groups = np.unique(data.episode[in_val], return_inverse=True)
    counts = group_resample_counts(int(groups.max()) + 1, args.samples, 0)[:, groups]
    state, thought = data.embeddings[data.state[in_val]], data.embeddings[data.thought[in_val]]
    print(f"{len(train)} training / {len(val)} held-out episodes (critic seed {seed}); "
          f"{int(in_val.sum())} held-out transitions; ECE over {args.bins} bins")
    head = [f"{m + ' ECE/AUC':>26}" for m in models]
    if model:
        head.append(f"{'critic ECE [95 %]/AUC':>30}")
    if ceiling:
        head.append(f"{'ceiling ECE':>11}")
    print(f"{'outcome goal':<36} {'rate train':>10} {'rate held-out':>13} " + " ".join(head))
    for k, goal in enumerate(data.outcome_goal_texts):
        y = labels[in_val, k].astype(np.float64)
        rate = float(labels[in_train, k].mean())
        answers = {"training rate": np.full(y.shape, rate), **{m: p[:, k] for m, p in probs.items()}}
        cells = []
        for m in models:
            ece = expected_calibration_error(answers[m], y, args.bins)
            worst[m] = max(worst[m], ece)
            a = auc(answers[m], y) if m != "training rate" else None
            cells.append(f"{ece:.3f}/{'–' if a is None else f'{a:.3f}':>5}".rjust(26))
        if model:
            p = model.q(state, thought, np.repeat(data.outcome_goals[k:k + 1], len(state), axis=0))
            ece = expected_calibration_error(p, y, args.bins)
            lo, hi = np.quantile(weighted_ece(p, y, counts, args.bins), [0.025, 0.975])
            worst["critic"] = max(worst["critic"], ece)
            a = auc(p, y)
            cells.append(f"{ece:.3f} [{lo:.3f}, {hi:.3f}]/{'–' if a is None else f'{a:.3f}':>5}".rjust(30))
        if ceiling:
            ece = ceiling[goal]["ece"] if goal in ceiling else float("nan")
            worst["ceiling"] = max(worst["ceiling"], ece)
            cells.append(f"{ece:>11.3f}")
        print(f"{goal[:36]:<36} {rate:>10.3f} {y.mean():>13.3f} " + " ".join(cells))
    print(" ".join(f"worst_ece_{m.replace(' ', '_')}={v:.4f}" for m, v in worst.items()))


if __name__ == "__main__":
    main()
