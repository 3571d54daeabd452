"""How well a critic ranks the candidate moves of one state, against their Monte-Carlo values.

A planning loop that refines thoughts compares candidates of the same state, so what it needs
from a critic is the order of its scores within a state, not how well the scores separate states.
These functions take one state's scores and values at a time (or a list of states) and say:

- `rank_agreement`  Spearman and Kendall (tau-b) correlation of scores with values in one state;
                    NaN where either side is constant (no order to agree with);
- `top_weights`     which candidates a reader of the scores takes: the best-scored ones, equally
                    (a tie is broken at random, so a constant critic picks uniformly);
- `variance_split`  the mean within-state variance of scores and the variance of the state means:
                    a critic whose scores move with the state but not with the thought has a
                    small ratio within / between.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np


TIE_DECIMALS = 9  # scores equal to this many decimals are tied (sums of equal parts differ in the last bits)


def rank_agreement(scores: Sequence[float], values: Sequence[float]) -> tuple[float, float]:
    """(Spearman, Kendall tau-b) of `scores` against `values` over one state's candidates; each is
    NaN when there are fewer than two candidates or either side is constant."""
    from scipy.stats import kendalltau, spearmanr

    s = np.round(np.asarray(scores, dtype=np.float64).ravel(), TIE_DECIMALS)
    v = np.round(np.asarray(values, dtype=np.float64).ravel(), TIE_DECIMALS)
    if s.shape != v.shape:
        raise ValueError(f"rank_agreement: {s.size} scores for {v.size} values; give one score per value")
    if s.size < 2 or np.ptp(s) == 0.0 or np.ptp(v) == 0.0:
        return math.nan, math.nan
    return float(spearmanr(s, v).statistic), float(kendalltau(s, v).statistic)


def top_weights(scores: Sequence[float], tol: float = 10.0 ** -TIE_DECIMALS) -> np.ndarray:
    """Weight 1/k on each of the k candidates scored within `tol` of the best, 0 elsewhere."""
    s = np.asarray(scores, dtype=np.float64).ravel()
    if s.size == 0:
        raise ValueError("top_weights: no scores; a state needs at least one candidate")
    top = s >= s.max() - tol
    return top / top.sum()


def variance_split(groups: Sequence[Sequence[float]]) -> tuple[float, float]:
    """(within, between): the mean over groups of the population variance of a group's scores,
    and the population variance of the group means across groups."""
    arrays = [np.asarray(g, dtype=np.float64).ravel() for g in groups]
    if not arrays or any(a.size == 0 for a in arrays):
        raise ValueError("variance_split: give at least one group, each with at least one score")
    within = float(np.mean([a.var() for a in arrays]))
    between = float(np.var([a.mean() for a in arrays]))
    return within, between
