"""Complementary outcome goals: two sentences of which exactly one holds when an episode ends
("Good wins the game." / "Evil wins the game."). Their probabilities must sum to one.

The environments declare their pairs next to their outcome sentences; the critic checkpoint stores
them by text. Twin Q heads trained on each sentence separately do not sum to one (the expectile of
V pushes both up); the consistent answer averages the readings of the same event:

    P(A) = (q_A + 1 - q_notA) / 2,   P(not A) = 1 - P(A),

and where pairs chain (A / not A and B / not A: B is A) the mean runs over every sentence of the event.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

Pair = tuple[str, str]


def pair_columns(goal_texts: Sequence[str], pairs: Sequence[Pair], where: str) -> list[tuple[int, int]]:
    """Column indices of each pair in `goal_texts`; pairs of which a sentence is absent are skipped
    (an environment's data may carry a subset of its outcome sentences)."""
    column = {str(t): k for k, t in enumerate(goal_texts)}
    out: list[tuple[int, int]] = []
    for a, b in pairs:
        if a == b:
            raise ValueError(f"{where}: outcome sentence {a!r} is declared its own complement")
        if a in column and b in column:
            out.append((column[a], column[b]))
    return out


def readings(num_goals: int, columns: Sequence[tuple[int, int]], goal_texts: Sequence[str],
             where: str) -> list[tuple[tuple[int, int], ...]]:
    """Per outcome column k, every column j that reads the same event, with sign +1 (j holds
    when k does) or -1 (j is its complement); empty for a column in no pair. Pairs chain: with
    (Good wins, Evil wins) and (Merlin survives, Evil wins), "Merlin survives" reads as "Good wins"."""
    neighbours: dict[int, list[int]] = {}
    for a, b in columns:
        neighbours.setdefault(a, []).append(b)
        neighbours.setdefault(b, []).append(a)
    sign: dict[int, int] = {}
    component: dict[int, list[int]] = {}
    for start in sorted(neighbours):
        if start in sign:
            continue
        sign[start], members, todo = 1, [start], [start]
        while todo:
            k = todo.pop()
            for j in neighbours[k]:
                if j not in sign:
                    sign[j] = -sign[k]
                    members.append(j)
                    todo.append(j)
                elif sign[j] == sign[k]:
                    raise ValueError(f"{where}: the complementary pairs make {goal_texts[j]!r} both the same event "
                                     f"as {goal_texts[k]!r} and its complement; fix the declaration")
        for k in members:
            component[k] = sorted(members)
    return [tuple((j, sign[j] * sign[k]) for j in component[k]) if k in component else ()
            for k in range(num_goals)]


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


def consistent(raw: np.ndarray, reading: Sequence[tuple[int, int]]) -> np.ndarray:
    """The answer for one outcome goal from the raw probabilities of every sentence of its event
    (raw: N x K, columns as in `reading`): the mean of q_j for sign +1 and 1 - q_j for sign -1.
    For one pair: (q_A + 1 - q_notA) / 2."""
    raw = np.asarray(raw, dtype=np.float64)
    return np.mean([raw[:, j] if s > 0 else 1.0 - raw[:, j] for j, s in reading], axis=0)


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
