"""How calibrated can any model fitted to the training episodes be on the held-out ones?

The critic's per-goal ECE mixes two things: how well it learnt the training episodes, and how far
the held-out episodes' outcome rates are from the training episodes' (a split of a few hundred
episodes moves them by several points). This script separates them on a run's annotations, with
the critic's own held-out split (train.critic.val_fraction and the critic seed) and 10 bins as the
critic's diagnostics use:

- the training rate: every held-out transition answered with the goal's rate among the training
  transitions (knows nothing about the state; its ECE is the rate shift alone);
- the text references of `train.references` (TF-IDF logistic regression, boosted trees on its SVD),
  fitted to the training transitions as the training phase fits them: their ECE and AUC.

    python benchmarks/reference_calibration.py --annotations results/annotations/avalon/sim.npz

Last line: `key=value` pairs (the worst ECE of each model over the goals).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np


def main() -> None:
    from pnlc.config import load_params
    from pnlc.pipeline.train import reference_config
    from pnlc.value.data import load_npz
    from pnlc.value.datamodule import split_episodes
    from pnlc.value.diagnostics import auc, expected_calibration_error
    from pnlc.value.references import reference_probabilities, transition_texts

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--annotations", type=Path, default=Path("results/annotations/avalon/sim.npz"))
    ap.add_argument("--params", type=Path, default=Path("params.yaml"))
    ap.add_argument("--critic-seed", type=int, default=0, help="draws the held-out split, as in training")
    ap.add_argument("--bins", type=int, default=10)
    args = ap.parse_args()

    params = load_params(args.params)
    data = load_npz(args.annotations)
    if data.texts is None:
        raise SystemExit(f"{args.annotations}: the annotations carry no texts; rerun the annotation phase")
    val_fraction = float(params.raw["train"]["critic"]["val_fraction"])
    train, val = split_episodes(data.num_episodes, val_fraction, args.critic_seed)
    in_train, in_val = np.isin(data.episode, train), np.isin(data.episode, val)
    labels = data.outcome_labels[data.episode] > 0.5
    probs = reference_probabilities(reference_config(params), transition_texts(data, in_train), labels[in_train],
                                    transition_texts(data, in_val))
    models = ["training rate", *probs]
    worst = {m: 0.0 for m in models}
    print(f"{len(train)} training / {len(val)} held-out episodes (critic seed {args.critic_seed}); "
          f"{int(in_val.sum())} held-out transitions; ECE over {args.bins} bins")
    print(f"{'outcome goal':<36} {'rate train':>10} {'rate held-out':>13} " + " ".join(f"{m + ' ECE/AUC':>26}" for m in models))
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
        print(f"{goal[:36]:<36} {rate:>10.3f} {y.mean():>13.3f} " + " ".join(cells))
    print(" ".join(f"worst_ece_{m.replace(' ', '_')}={v:.4f}" for m, v in worst.items()))


if __name__ == "__main__":
    main()
