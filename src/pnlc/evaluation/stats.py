"""Bootstrap confidence intervals and paired differences between methods.

Every interval is a percentile bootstrap over episodes: resample the episodes with replacement,
take the mean, and read the (1 - ci) / 2 and (1 + ci) / 2 quantiles of the resampled means.
Paired differences resample (task, seed) pairs, so the variation that two methods share (a hard
task, an unlucky seed) cancels out.
"""

from __future__ import annotations

from typing import Hashable, Mapping, Sequence

import numpy as np

# Resampled means are computed in chunks of at most this many drawn indices (memory bound).
_MAX_DRAWS_PER_CHUNK = 4_000_000


class PairingError(ValueError):
    """Two methods were not evaluated on the same (task_id, seed) list."""


def _check_args(n_boot: int, ci: float) -> None:
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 1:
        raise ValueError(f"n_boot must be a positive integer (e.g. 10000), got {n_boot!r}")
    if not 0.0 < float(ci) < 1.0:
        raise ValueError(f"ci must be a coverage in (0, 1) such as 0.95, got {ci!r}")


def bootstrap_means(values: Sequence[float] | np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Means of `n_boot` resamples (with replacement, same size) of `values`."""
    x = np.asarray(values, dtype=np.float64).ravel()
    if x.size == 0:
        raise ValueError("cannot bootstrap an empty sample; evaluate at least one episode")
    if not np.all(np.isfinite(x)):
        raise ValueError("cannot bootstrap a sample that holds NaN or infinite values")
    rng = np.random.default_rng(seed)
    n = x.size
    rows_per_chunk = max(1, _MAX_DRAWS_PER_CHUNK // n)
    out = np.empty(n_boot, dtype=np.float64)
    for start in range(0, n_boot, rows_per_chunk):
        stop = min(n_boot, start + rows_per_chunk)
        idx = rng.integers(0, n, size=(stop - start, n))
        out[start:stop] = x[idx].mean(axis=1)
    return out


def bootstrap_ci(
    values: Sequence[float] | np.ndarray, n_boot: int, ci: float, seed: int
) -> tuple[float, float, float]:
    """(mean, lo, hi): the sample mean and its percentile-bootstrap interval of coverage `ci`."""
    _check_args(n_boot, ci)
    x = np.asarray(values, dtype=np.float64).ravel()
    means = bootstrap_means(x, n_boot, seed)
    alpha = (1.0 - float(ci)) / 2.0
    lo, hi = np.quantile(means, [alpha, 1.0 - alpha])
    return float(x.mean()), float(lo), float(hi)


def _describe_keys(keys: set, limit: int = 5) -> str:
    shown = sorted(keys, key=repr)[:limit]
    more = f" and {len(keys) - limit} more" if len(keys) > limit else ""
    return ", ".join(repr(k) for k in shown) + more


def paired_difference(
    a: Mapping[Hashable, float],
    b: Mapping[Hashable, float],
    n_boot: int,
    ci: float,
    seed: int,
) -> dict[str, float | int]:
    """Mean of a[k] - b[k] over the shared keys (k = (task_id, seed)) with a bootstrap interval.

    Both methods must have been evaluated on exactly the same keys; otherwise PairingError names
    the keys that only one side has.
    """
    _check_args(n_boot, ci)
    keys_a, keys_b = set(a), set(b)
    if keys_a != keys_b:
        only_a, only_b = keys_a - keys_b, keys_b - keys_a
        parts = []
        if only_a:
            parts.append(f"{len(only_a)} key(s) only in the first ({_describe_keys(only_a)})")
        if only_b:
            parts.append(f"{len(only_b)} key(s) only in the second ({_describe_keys(only_b)})")
        raise PairingError(
            "paired difference needs the same (task_id, seed) keys on both sides: "
            + "; ".join(parts)
            + ". Evaluate every method on the same task list and seeds."
        )
    if not keys_a:
        raise PairingError("paired difference of two empty samples; evaluate at least one episode")
    keys = sorted(keys_a, key=repr)
    diff = np.array([float(a[k]) - float(b[k]) for k in keys], dtype=np.float64)
    mean, lo, hi = bootstrap_ci(diff, n_boot, ci, seed)
    return {"mean": mean, "lo": lo, "hi": hi, "n": len(keys)}


def grouped_auc_difference(scores_a: np.ndarray, scores_b: np.ndarray, labels: np.ndarray, groups: np.ndarray,
                           counts: np.ndarray, ci: float) -> dict[str, float | None]:
    """AUC(a) - AUC(b) on the same items with a paired percentile-bootstrap interval: both AUCs
    are taken on each resample of groups (counts [B, G], group_resample_counts), so what the two
    share cancels. {"mean", "lo", "hi"}; None values where the items hold one class."""
    groups = np.asarray(groups, dtype=np.int64)
    one = np.ones((1, len(groups)))
    point = weighted_auc(scores_a, labels, one)[0] - weighted_auc(scores_b, labels, one)[0]
    if not np.isfinite(point):
        return {"mean": None, "lo": None, "hi": None}
    weights = counts[:, groups]
    lo, hi = _finite_percentiles(weighted_auc(scores_a, labels, weights) - weighted_auc(scores_b, labels, weights), ci)
    return {"mean": float(point), "lo": lo, "hi": hi}


def _finite_percentiles(boot: np.ndarray, ci: float) -> tuple[float, float]:
    """The central `ci` percentile interval of the finite bootstrap values (NaN, NaN where none is)."""
    boot = boot[np.isfinite(boot)]
    if not boot.size:
        return float("nan"), float("nan")
    alpha = (1.0 - float(ci)) / 2.0
    lo, hi = np.quantile(boot, [alpha, 1.0 - alpha])
    return float(lo), float(hi)


def group_resample_counts(n_groups: int, n_boot: int, seed: int) -> np.ndarray:
    """int64 [n_boot, n_groups]: how often each group (a dialogue, an episode) is drawn when
    `n_groups` groups are resampled with replacement, once per bootstrap sample."""
    if n_groups < 1:
        raise ValueError("cannot resample zero groups; hold out at least one dialogue")
    _check_args(n_boot, 0.5)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n_groups, size=(n_boot, n_groups))
    counts = np.zeros((n_boot, n_groups), dtype=np.int64)
    np.add.at(counts, (np.arange(n_boot)[:, None], draws), 1)
    return counts


def weighted_auc(scores: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """ROC AUC (ties count one half) of `scores` for binary `labels` with item weights [B, n]
    (one row per weighting, e.g. bootstrap multiplicities): float [B], NaN where a row leaves
    only one class."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    y = np.asarray(labels).ravel().astype(bool)
    w = np.atleast_2d(np.asarray(weights, dtype=np.float64))
    if s.size != y.size or w.shape[1] != s.size:
        raise ValueError(f"weighted_auc: {s.size} scores, {y.size} labels, weights of shape {w.shape}")
    if s.size == 0:
        return np.full(w.shape[0], np.nan)
    order = np.argsort(s, kind="stable")
    s_sorted, y_sorted, w_sorted = s[order], y[order], w[:, order]
    starts = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])  # one level per distinct score
    pos = np.add.reduceat(w_sorted * y_sorted, starts, axis=1)
    neg = np.add.reduceat(w_sorted * ~y_sorted, starts, axis=1)
    neg_below = np.cumsum(neg, axis=1) - neg
    total_pos, total_neg = pos.sum(axis=1), neg.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = (pos * (neg_below + 0.5 * neg)).sum(axis=1) / (total_pos * total_neg)
    out[(total_pos == 0) | (total_neg == 0)] = np.nan
    return out


def grouped_auc_interval(scores: np.ndarray, labels: np.ndarray, groups: np.ndarray, counts: np.ndarray,
                         ci: float) -> dict[str, float | int | None]:
    """AUC of scores for labels with a percentile-bootstrap interval that resamples groups, not
    items: counts [B, G] (group_resample_counts) weight every item by its group's draws.
    {"auc", "lo", "hi", "n", "groups"}; None values where the items hold one class."""
    groups = np.asarray(groups, dtype=np.int64)
    point = weighted_auc(scores, labels, np.ones((1, len(groups))))[0]
    out: dict[str, float | int | None] = {"auc": None, "lo": None, "hi": None, "n": int(len(groups)),
                                          "groups": int(np.unique(groups).size)}
    if not np.isfinite(point):
        return out
    lo, hi = _finite_percentiles(weighted_auc(scores, labels, counts[:, groups]), ci)
    out.update(auc=float(point), lo=lo, hi=hi)
    return out
