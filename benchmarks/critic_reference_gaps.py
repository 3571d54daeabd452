"""A trained critic against the text references, goal by goal, with paired intervals over episodes.

    python benchmarks/critic_reference_gaps.py results/annotations/avalon/sim.npz \
        results/critic/avalon/sim/default/seed0/critic.ckpt [--goal Merlin] [--samples 1000]

Takes the critic's own split (its checkpoint's `val_fraction`, seed and training-episode share),
fits the two text references of `train.references` (TF-IDF logistic regression, boosted trees on the
TF-IDF's SVD) to the training episodes' words as the training phase does, and scores the critic and
both on every held-out transition of each outcome goal (those containing `--goal`, all by default).
For each goal it prints the held-out episodes in which the outcome happened, the three AUCs, and the
critic's AUC minus each reference's with a 95 % percentile interval from resampling held-out
episodes (each resample scores both, so what they share cancels): whether a gap is larger than what
a few positive episodes can tell apart. Seconds at quick size, a minute or two at paper size.
Last line: key=value pairs, the critic's gap to the better reference per goal (first words of it).
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("annotations", type=Path, help="an annotation file (results/annotations/<env>/<backend>.npz)")
    ap.add_argument("critic", type=Path, help="a critic trained on it (critic.ckpt)")
    ap.add_argument("--goal", default="", help="only outcome goals containing this text")
    ap.add_argument("--samples", type=int, default=1000, help="bootstrap resamples of held-out episodes")
    ap.add_argument("--params", type=Path, default=ROOT / "params.yaml", help="for train.references")
    args = ap.parse_args()

    from pnlc.config import load_params
    from pnlc.evaluation.stats import group_resample_counts, grouped_auc_difference
    from pnlc.pipeline.train import reference_config
    from pnlc.value.checkpoint import load_critic
    from pnlc.value.data import load_npz
    from pnlc.value.datamodule import TransitionDataModule
    from pnlc.value.diagnostics import auc
    from pnlc.value.references import REFERENCE_LABELS, reference_probabilities, transition_texts

    data = load_npz(args.annotations)
    if data.texts is None:
        raise SystemExit(f"{args.annotations}: no texts stored; rerun the annotation phase")
    model = load_critic(args.critic, data.embedder_id)
    split = TransitionDataModule(data, model.cfg)
    train = np.isin(data.episode, split.train_episodes)
    held = np.isin(data.episode, split.val_episodes)
    goals = [k for k, goal in enumerate(data.outcome_goal_texts) if args.goal in goal]
    labels = data.outcome_labels[data.episode][:, goals] > 0.5
    # every selected goal's references in one fit per reference (complements share a fit)
    refs = reference_probabilities(reference_config(load_params(args.params)), transition_texts(data, train),
                                   labels[train], transition_texts(data, held))
    _, groups = np.unique(data.episode[held], return_inverse=True)
    counts = group_resample_counts(int(groups.max()) + 1, args.samples, 0)
    state, thought = data.embeddings[data.state[held]], data.embeddings[data.thought[held]]
    headline = {}
    for column, k in enumerate(goals):
        goal, label = data.outcome_goal_texts[k], labels[held, column]
        positives = int(data.outcome_labels[split.val_episodes, k].sum())
        if label.min() == label.max():
            print(f"{goal} happened in {positives} of {len(split.val_episodes)} held-out episodes: no AUC")
            continue
        critic = model.q(state, thought, np.repeat(data.outcome_goals[k:k + 1], len(state), axis=0))
        scores = {"critic": critic, **{REFERENCE_LABELS[name]: p[:, column] for name, p in refs.items()}}
        print(f"{goal} happened in {positives} of {len(split.val_episodes)} held-out episodes; AUC "
              + ", ".join(f"{name} {auc(p, label):.3f}" for name, p in scores.items()))
        gaps = []
        for name, p in scores.items():
            if name == "critic":
                continue
            gap = grouped_auc_difference(critic, p, label, groups, counts, 0.95)
            gaps.append(gap["mean"])
            print(f"  critic - {name}: {gap['mean']:+.3f} [{gap['lo']:+.3f}, {gap['hi']:+.3f}]")
        headline["_".join(re.findall(r"[a-z0-9]+", goal.lower())[:4])] = min(gaps)
    print(" ".join(f"{k}={v:+.3f}" for k, v in headline.items()))


if __name__ == "__main__":
    main()
