"""Complementary outcome goals: two sentences of which exactly one holds when an episode ends
("Good wins the game." / "Evil wins the game."). Their probabilities must sum to one.

The environments declare their pairs next to their outcome sentences; the critic checkpoint stores
them by text. Twin Q heads trained on each sentence separately do not sum to one (the expectile of
V pushes both up); the consistent answer averages the two readings of the same event:

    P(A) = (q_A + 1 - q_notA) / 2,   P(not A) = 1 - P(A).
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

Pair = tuple[str, str]


def pair_columns(goal_texts: Sequence[str], pairs: Sequence[Pair], where: str) -> list[tuple[int, int]]:
    """Column indices of each pair in `goal_texts`; pairs of which a sentence is absent are skipped
    (an environment's data may carry a subset of its outcome sentences), a sentence in two pairs
    is an error."""
    column = {str(t): k for k, t in enumerate(goal_texts)}
    out: list[tuple[int, int]] = []
    seen: set[str] = set()
    for a, b in pairs:
        if a == b or a in seen or b in seen:
            raise ValueError(f"{where}: complementary outcome pair ({a!r}, {b!r}) repeats a sentence; "
                             "each outcome sentence has at most one complement")
        seen.update((a, b))
        if a in column and b in column:
            out.append((column[a], column[b]))
    return out


def check_labels(labels: np.ndarray, columns: Sequence[tuple[int, int]], goal_texts: Sequence[str],
                 where: str) -> None:
    """Every episode's labels of a declared pair sum to one, or the declaration is wrong."""
    for a, b in columns:
        bad = np.flatnonzero(np.abs(labels[:, a] + labels[:, b] - 1.0) > 1e-6)
        if bad.size:
            raise ValueError(
                f"{where}: outcome goals {goal_texts[a]!r} and {goal_texts[b]!r} are declared complementary, "
                f"but in episode {int(bad[0])} (and {bad.size - 1} more) their labels are "
                f"{labels[bad[0], a]:g} and {labels[bad[0], b]:g}; fix the environment's complement declaration"
            )


def symmetrised(p_a: np.ndarray, p_not_a: np.ndarray) -> np.ndarray:
    """P(A) from both heads' readings: (q_A + 1 - q_notA) / 2; P(not A) is the same with the roles swapped."""
    return 0.5 * (np.asarray(p_a, dtype=np.float64) + 1.0 - np.asarray(p_not_a, dtype=np.float64))


def complement_errors(pred: np.ndarray, columns: Sequence[tuple[int, int]],
                      goal_texts: Sequence[str]) -> list[dict[str, Any]]:
    """Per pair: mean and 90th percentile over rows of |P(A) + P(not A) - 1| (pred: N x K)."""
    out = []
    for a, b in columns:
        err = np.abs(pred[:, a].astype(np.float64) + pred[:, b] - 1.0)
        out.append({
            "goals": [goal_texts[a], goal_texts[b]],
            "mean_abs_error": float(err.mean()) if err.size else None,
            "p90_abs_error": float(np.quantile(err, 0.9)) if err.size else None,
            "mean_sum": float((pred[:, a].astype(np.float64) + pred[:, b]).mean()) if err.size else None,
        })
    return out
