"""PersuasionForGood: a critic trained on real human dialogues, tested on held-out dialogues.

The critic is trained exactly as for the simulated tasks (annotation of summaries and thoughts,
goal-conditioned IQL) on 80 % of the dialogues, split by dialogue. On the other 20 % it scores, at
every persuader turn, Q(state, thought, "The donor agrees to donate.") against whether the donor
gave anything. A bag-of-words logistic regression on the same states is the baseline, both on the
same summaries the critic reads and on the raw dialogue so far.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from pnlc.config import ConfigError, Params, build
from pnlc.data import atomic_write_text

log = logging.getLogger(__name__)

THIRDS = ("early", "middle", "late")


def auc_by_third(labels: np.ndarray, scores: np.ndarray, thirds: Sequence[str]) -> dict[str, Any]:
    from sklearn.metrics import roc_auc_score

    thirds = np.asarray(thirds)
    out: dict[str, Any] = {"all": float(roc_auc_score(labels, scores)), "n": int(len(labels))}
    for t in THIRDS:
        mask = thirds == t
        out[t] = float(roc_auc_score(labels[mask], scores[mask])) if len(set(labels[mask])) == 2 else None
    return out


def plot_aucs(results: dict[str, dict[str, Any]], path: Path) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from pnlc.data import atomic_path

    fig = Figure(figsize=(6.4, 3.6))
    FigureCanvasAgg(fig)
    ax = fig.add_subplot(1, 1, 1)
    names = list(results)
    cols = ("all",) + THIRDS
    width = 0.8 / len(names)
    for i, name in enumerate(names):
        vals = [results[name][c] if results[name][c] is not None else np.nan for c in cols]
        ax.bar(np.arange(len(cols)) + i * width, vals, width, label=name)
    ax.axhline(0.5, color="grey", lw=0.8, ls="--")
    ax.set_xticks(np.arange(len(cols)) + width * (len(names) - 1) / 2, cols)
    ax.set_ylim(0.3, 1.0)
    ax.set_ylabel("AUC: donor gives anything")
    ax.set_title("PersuasionForGood held-out dialogues (real human data)")
    ax.legend(fontsize=7)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=120)


def p4g_experiment(params: Params, out: Path, figure: Path, threads: int = 1) -> dict[str, Any]:
    """Train the critic on the training dialogues (in a temporary folder) and score the held-out ones."""
    import tempfile

    import torch

    from pnlc.envs.persuasion.baseline import BowConfig, bow_logreg_probabilities
    from pnlc.envs.persuasion.p4g import AGREES, load_p4g, p4g_goal_outcomes, p4g_states, split_by_dialogue
    from pnlc.pipeline.annotate import build_transitions
    from pnlc.pipeline.factory import METRIC_SCALE, make_embedder
    from pnlc.pipeline.train import train_config
    from pnlc.value.checkpoint import load_critic
    from pnlc.value.train import fit

    cfg = params.section("p4g")
    data_dir = Path(cfg.data_dir)
    if not (data_dir / "full_data.json").exists():
        raise ConfigError(
            f"{params.source}: p4g.data_dir: {data_dir} has no full_data.json; point it at the "
            "PersuasionForGood folder"
        )
    torch.set_num_threads(max(1, threads))
    episodes = [
        dataclasses.replace(ep, info={**dict(ep.info), "goal_outcomes": dict(p4g_goal_outcomes(ep))})
        for ep in load_p4g(data_dir)
    ]
    episodes = [ep for ep in episodes if ep.steps]
    train_idx, test_idx = split_by_dialogue(len(episodes), cfg.train_fraction, cfg.split_seed)
    train_eps = [episodes[i] for i in train_idx]
    test_eps = [episodes[i] for i in test_idx]
    log.info("P4G: %d training and %d held-out dialogues", len(train_eps), len(test_eps))

    embedder = make_embedder(params)
    texts = [([s.state_summary for s in ep.steps], ep.final_summary) for ep in train_eps]
    data, _ = build_transitions(train_eps, texts, embedder, METRIC_SCALE["persuasion"])
    tcfg = train_config(params, params.raw["evaluate"]["critics"]["pnlc"]["variant"], cfg.split_seed)
    with tempfile.TemporaryDirectory(prefix="p4g-critic-") as critic_dir:
        train_metrics = fit(data, tcfg, Path(critic_dir))
        model = load_critic(Path(critic_dir) / "critic.ckpt", embedder.model_id)

    states = p4g_states(test_eps)
    labels = np.array([s.label for s in states], dtype=int)
    thirds = [s.third for s in states]
    s_emb = embedder.embed([s.summary for s in states])
    a_emb = embedder.embed([s.thought for s in states])
    g_emb = np.repeat(embedder.embed([AGREES]), len(states), axis=0)
    q = model.q(s_emb, a_emb, g_emb)

    train_states = p4g_states(train_eps)
    train_labels = np.array([s.label for s in train_states], dtype=int)
    bow = build(BowConfig, params.raw["p4g"]["bow"], "p4g.bow", params.source)
    bow_summary = bow_logreg_probabilities(
        bow, [s.summary + " " + s.thought for s in train_states], train_labels,
        [s.summary + " " + s.thought for s in states],
    )
    bow_prefix = bow_logreg_probabilities(
        bow, [s.prefix for s in train_states], train_labels, [s.prefix for s in states]
    )
    results = {
        "critic (summary + thought)": auc_by_third(labels, q, thirds),
        "BoW logistic regression (summary + thought)": auc_by_third(labels, bow_summary, thirds),
        "BoW logistic regression (dialogue so far)": auc_by_third(labels, bow_prefix, thirds),
    }
    report = {
        "goal": AGREES,
        "data": "PersuasionForGood (real human dialogues)",
        "dialogues": {"train": len(train_eps), "test": len(test_eps)},
        "heldout_states": len(states),
        "heldout_donor_rate": float(labels.mean()),
        "auc": results,
        "critic_training": {k: train_metrics[k] for k in ("train", "outcome_goals") if k in train_metrics},
        "embedder_id": embedder.model_id,
    }
    atomic_write_text(out, json.dumps(report, indent=2, sort_keys=True, default=float) + "\n")
    plot_aucs(results, Path(figure))
    log.info("P4G AUCs: %s", {k: round(v["all"], 3) for k, v in results.items()})
    return report
