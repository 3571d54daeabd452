"""Held-out diagnostics of the critic: ranking (AUC) and calibration (reliability curve, ECE).

Definitions (all on held-out episodes only):

- reached-goal AUC: for every held-out transition (s_t, a_t), `diagnostic_goals_per_transition`
  goals are relabeled with the training mixture's state-goal proportions (future / final /
  other-episode, renormalised). A goal counts as reached when some later state s_{t'}, t' >= t+1,
  of the same episode is that goal (same row) or has cosine >= goal_match_threshold with it. Score:
  Q(s_t, a_t, g). For these goals Q is discounted (gamma^k), so their ECE is reported but is
  biased low by design; the ranking (AUC) is what matters.
- outcome goals: for every held-out transition and every outcome goal k, Q(s_t, a_t, g_k) against
  outcome_labels[e, k] (undiscounted: Q of outcome goals is the probability that the outcome holds
  at the episode's end). Per goal AUC and ECE, their mean over goals, and the pooled values.
- linear probe (outcome goals): per goal, a logistic regression on the concatenated state and
  thought embeddings, fitted directly on the training episodes' outcomes (supervised, no
  bootstrapping) and scored by AUC on the same held-out transitions. A critic far below its probe
  loses information in training; a probe near chance means the embeddings do not carry it.
- scalar critic: Q(s_t, a_t) against success[e]; ECE on the raw success, AUC on success > 0.5.
- ECE: 10 equal-width bins on [0, 1]; sum over bins of (bin share) * |mean prediction - mean label|.
"""

from __future__ import annotations

import logging
from typing import Any, Callable, Sequence

import numpy as np

log = logging.getLogger(__name__)

QFunction = Callable[[np.ndarray, np.ndarray, "np.ndarray | None"], np.ndarray]
CHUNK = 65536


def reliability_curve(pred: np.ndarray, label: np.ndarray, n_bins: int) -> dict[str, list]:
    """Per equal-width bin: mean prediction, mean label, count (bins with no samples give None)."""
    pred = np.asarray(pred, dtype=np.float64)
    label = np.asarray(label, dtype=np.float64)
    bins = np.clip((pred * n_bins).astype(np.int64), 0, n_bins - 1)
    count = np.bincount(bins, minlength=n_bins)
    sum_pred = np.bincount(bins, weights=pred, minlength=n_bins)
    sum_label = np.bincount(bins, weights=label, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_pred = np.where(count > 0, sum_pred / np.maximum(count, 1), np.nan)
        mean_label = np.where(count > 0, sum_label / np.maximum(count, 1), np.nan)
    return {
        "bin_lower": [i / n_bins for i in range(n_bins)],
        "mean_prediction": [None if np.isnan(x) else float(x) for x in mean_pred],
        "mean_label": [None if np.isnan(x) else float(x) for x in mean_label],
        "count": [int(c) for c in count],
    }


def expected_calibration_error(pred: np.ndarray, label: np.ndarray, n_bins: int) -> float:
    """Sum over equal-width bins of (n_bin / n) * |mean prediction - mean label|."""
    pred = np.asarray(pred, dtype=np.float64)
    if pred.size == 0:
        return float("nan")
    curve = reliability_curve(pred, label, n_bins)
    total = 0.0
    for mp, ml, c in zip(curve["mean_prediction"], curve["mean_label"], curve["count"]):
        if c:
            total += c * abs(mp - ml)
    return total / pred.size


def auc(pred: np.ndarray, label: np.ndarray) -> float | None:
    """ROC AUC of pred for binary labels; None when only one class is present."""
    from sklearn.metrics import roc_auc_score

    label = np.asarray(label)
    if label.size == 0 or np.unique(label).size < 2:
        return None
    return float(roc_auc_score(label, pred))


def score_summary(pred: np.ndarray, label: np.ndarray, n_bins: int) -> dict[str, Any]:
    binary = (np.asarray(label) > 0.5).astype(np.int64)
    return {
        "auc": auc(pred, binary),
        "ece": expected_calibration_error(pred, label, n_bins),
        "n": int(np.asarray(pred).size),
        "positive_rate": float(np.mean(label)) if np.asarray(label).size else float("nan"),
        "mean_prediction": float(np.mean(pred)) if np.asarray(pred).size else float("nan"),
    }


def linear_probe_aucs(data: Any, train_episodes: np.ndarray, val_episodes: np.ndarray) -> list[float | None]:
    """Held-out AUC per outcome goal of a logistic regression on [emb(s), emb(a)] fitted to the
    training episodes' outcome labels (None where a split holds only one class)."""
    from sklearn.linear_model import LogisticRegression

    train = np.isin(data.episode, train_episodes)
    val = np.isin(data.episode, val_episodes)
    x = np.concatenate([data.embeddings[data.state], data.embeddings[data.thought]], axis=1)
    out: list[float | None] = []
    for k in range(data.outcome_labels.shape[1]):
        y = data.outcome_labels[data.episode, k] > 0.5
        if np.unique(y[train]).size < 2 or np.unique(y[val]).size < 2:
            out.append(None)
            continue
        model = LogisticRegression(C=1.0, max_iter=1000).fit(x[train], y[train])
        out.append(auc(model.predict_proba(x[val])[:, 1], y[val]))
    return out


def score_outcome_goals(goals: Sequence[str], pred: np.ndarray, label: np.ndarray, phase: np.ndarray,
                        n_bins: int = 10) -> dict[str, Any]:
    """Per outcome goal k: AUC, ECE and both by game phase of pred[:, k] against label[:, k] (N x K
    arrays; phase: 0/1/2 per row), their means over goals, and the pooled scores."""
    per_goal = []
    for k, goal in enumerate(goals):
        summary = score_summary(pred[:, k], label[:, k], n_bins)
        summary["goal"] = goal
        summary["by_phase"] = {
            name: score_summary(pred[phase == i, k], label[phase == i, k], n_bins) for i, name in enumerate(PHASES)
        }
        per_goal.append(summary)
    aucs = [g["auc"] for g in per_goal if g["auc"] is not None]
    return {
        "auc_mean": float(np.mean(aucs)) if aucs else None,
        "ece_mean": float(np.mean([g["ece"] for g in per_goal])) if per_goal else None,
        "pooled": score_summary(pred.T.reshape(-1), label.T.reshape(-1), n_bins),  # goal by goal
        "per_goal": per_goal,
    }


def batched_q(q_fn: QFunction, state: np.ndarray, thought: np.ndarray, goal: np.ndarray | None) -> np.ndarray:
    out = [q_fn(state[i:i + CHUNK], thought[i:i + CHUNK], None if goal is None else goal[i:i + CHUNK])
           for i in range(0, state.shape[0], CHUNK)]
    return np.concatenate(out) if out else np.zeros(0, np.float32)


def reached_later(
    next_state_rows: np.ndarray,
    goal_rows: np.ndarray,
    index: np.ndarray,
    episode_end: np.ndarray,
    table: np.ndarray,
    goal_match_threshold: float,
) -> np.ndarray:
    """For each sample (transition index[i], goal row goal_rows[i]) of one split: whether a state
    s_{t'} with t' >= t+1 of the same episode is the goal or matches it by cosine."""
    label = np.zeros(index.shape[0], dtype=bool)
    order = np.argsort(episode_end[index], kind="stable")
    ends = episode_end[index][order]
    bounds = np.flatnonzero(np.r_[True, ends[1:] != ends[:-1], True])
    for lo, hi in zip(bounds[:-1], bounds[1:]):
        samples = order[lo:hi]
        end = int(ends[lo])
        start = int(index[samples].min())
        rows = next_state_rows[start:end + 1]             # s_{t+1} of transitions start..end
        g = goal_rows[samples]
        hit = (rows[None, :] == g[:, None]) | (table[g] @ table[rows].T >= goal_match_threshold)
        later = np.arange(start, end + 1)[None, :] >= index[samples][:, None]
        label[samples] = np.any(hit & later, axis=1)
    return label


PHASES = ("early", "middle", "late")


def game_phase(episode_start: np.ndarray, episode_end: np.ndarray) -> np.ndarray:
    """0, 1, 2 = first, middle, last third of its episode, for every transition (split order)."""
    idx = np.arange(len(episode_start))
    length = episode_end - episode_start + 1
    return np.minimum(2, (3 * (idx - episode_start)) // np.maximum(1, length))


def evaluate_heldout(
    q_fn: QFunction,
    data: Any,
    val_episodes: np.ndarray,
    cfg: Any,
) -> dict[str, Any]:
    """All held-out diagnostics as a JSON-ready dict (see the module docstring for definitions).

    Also returns private arrays under "_arrays" for the figures; callers drop them before saving.
    """
    import torch

    from pnlc.value.config import GoalMixture
    from pnlc.value.datamodule import STREAM_DIAGNOSTICS, torch_generator
    from pnlc.value.relabel import sample_goals, split_tensors

    n_bins = 10
    split = split_tensors(data, val_episodes)
    n = split.num_transitions
    table = split.goal_table.numpy()
    state = table[split.state.numpy()]
    thought = table[split.thought.numpy()]
    ep = split.episode.numpy()
    out: dict[str, Any] = {"heldout_episodes": int(split.num_episodes), "heldout_transitions": int(n)}
    arrays: dict[str, Any] = {}

    if not cfg.goal_conditioned:
        pred = batched_q(q_fn, state, thought, None)
        label = split.success.numpy()[ep]
        out["success"] = score_summary(pred, label, n_bins)
        out["success"]["reliability"] = reliability_curve(pred, label, n_bins)
        arrays["calibration"] = ("episode success", pred, label)
        out["_arrays"] = arrays
        return out

    # reached-goal ranking
    gm = cfg.goal_mixture
    weights = np.array([gm.future, gm.final, gm.other_episode if split.num_episodes >= 2 else 0.0])
    if weights.sum() == 0:
        weights = np.array([1.0, 1.0, 1.0 if split.num_episodes >= 2 else 0.0])
    weights = weights / weights.sum()
    mixture = GoalMixture(future=float(weights[0]), final=float(weights[1]),
                          other_episode=float(1.0 - weights[0] - weights[1]), outcome=0.0)
    reps = cfg.diagnostic_goals_per_transition
    index = torch.arange(n).repeat(reps)
    gen = torch_generator(cfg.seed, STREAM_DIAGNOSTICS, "cpu")
    goals = sample_goals(split, index, mixture, cfg.discount, cfg.goal_match_threshold, gen)
    idx_np = index.numpy()
    goal_rows = goals["goal_row"].numpy()
    label = reached_later(split.next_state.numpy(), goal_rows, idx_np, split.episode_end.numpy(),
                          table, cfg.goal_match_threshold)
    pred = batched_q(q_fn, state[idx_np], thought[idx_np], table[goal_rows])
    out["reached_goal"] = score_summary(pred, label.astype(np.float64), n_bins)
    kinds = goals["kind"].numpy()
    out["reached_goal"]["by_kind"] = {
        name: {"n": int((kinds == k).sum()), "reached_rate": float(label[kinds == k].mean()) if (kinds == k).any() else None,
               "mean_prediction": float(pred[kinds == k].mean()) if (kinds == k).any() else None}
        for k, name in enumerate(("future", "final", "other_episode"))
    }
    arrays["reached"] = (pred, label)

    # outcome goals, every held-out transition x every outcome goal
    k_goals = split.num_outcome_goals
    if k_goals:
        labels = split.outcome_labels.numpy()
        phase = game_phase(split.episode_start.numpy(), split.episode_end.numpy())
        pred_k = np.stack([
            batched_q(q_fn, state, thought, np.ascontiguousarray(np.broadcast_to(table[split.num_texts + k], state.shape)))
            for k in range(k_goals)
        ], axis=1)
        label_k = labels[ep]
        out["outcome_goals"] = score_outcome_goals(data.outcome_goal_texts, pred_k, label_k, phase, n_bins)
        for k, summary in enumerate(out["outcome_goals"]["per_goal"]):
            summary["reliability"] = reliability_curve(pred_k[:, k], label_k[:, k], n_bins)
        pooled_pred, pooled_label = pred_k.T.reshape(-1), label_k.T.reshape(-1)
        out["outcome_goals"]["pooled"]["reliability"] = reliability_curve(pooled_pred, pooled_label, n_bins)
        arrays["calibration"] = ("outcome goals (pooled)", pooled_pred, pooled_label)
        arrays["outcome"] = (pred_k, label_k)
    else:
        arrays["calibration"] = ("relabeled goals (discounted Q)", pred, label.astype(np.float64))
    out["_arrays"] = arrays
    return out


def plot_loss_curves(path: Any, train: Sequence[tuple[int, float, float]], val: Sequence[tuple[int, float, float]]) -> None:
    """PNG of V and Q losses against the update step (train and held-out)."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    from pnlc.data.jsonl import atomic_path

    fig = Figure(figsize=(8, 3.2))
    axes = fig.subplots(1, 2)
    for ax, col, name in ((axes[0], 1, "V loss (expectile)"), (axes[1], 2, "Q loss (TD, both heads)")):
        if train:
            ax.plot([r[0] for r in train], [r[col] for r in train], label="train", lw=1)
        if val:
            ax.plot([r[0] for r in val], [r[col] for r in val], "o-", label="held-out", ms=3)
        ax.set_xlabel("update step")
        ax.set_title(name)
        ax.set_yscale("log")
        ax.legend()
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")


def plot_reliability(path: Any, title: str, pred: np.ndarray, label: np.ndarray, n_bins: int = 10) -> None:
    """PNG reliability diagram: mean label per prediction bin against the diagonal, with counts."""
    from matplotlib.figure import Figure  # no pyplot: no GUI backend, no global state

    from pnlc.data.jsonl import atomic_path

    curve = reliability_curve(pred, label, n_bins)
    ece = expected_calibration_error(pred, label, n_bins)
    fig = Figure(figsize=(4.2, 4.2))
    ax = fig.subplots()
    ax.plot([0, 1], [0, 1], "--", color="grey", lw=1, label="perfect")
    xs = [m for m in curve["mean_prediction"] if m is not None]
    ys = [m for m in curve["mean_label"] if m is not None]
    ax.plot(xs, ys, "o-", label=f"critic (ECE {ece:.3f})")
    ax.bar([b + 0.5 / n_bins for b in curve["bin_lower"]], np.array(curve["count"]) / max(1, len(pred)),
           width=1.0 / n_bins, alpha=0.2, color="C0", label="share of samples")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("predicted probability (Q)")
    ax.set_ylabel("observed frequency")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=8, loc="upper left")
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=110, format="png")
