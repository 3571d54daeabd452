"""Training-data controls of the critic: fewer training episodes, outcomes detached from their
episodes, and the base rates a critic that knows only the odds would answer with.

All three act on the training episodes only; the held-out episodes keep their true labels, so a
control's held-out diagnostics measure it against what really happened.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from pnlc.value.data import TransitionData

# Random streams of the controls, apart from those of the datamodule (see value.datamodule).
STREAM_SUBSAMPLE, STREAM_SHUFFLE = 101, 102


def _rng(seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream]))


def subsample_episodes(train_episodes: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """The first `fraction` of a seeded permutation of the training episodes (at least one), sorted.

    The permutation depends on the seed only, so smaller fractions are subsets of larger ones and
    every fraction shares the same held-out episodes."""
    episodes = np.asarray(train_episodes, dtype=np.int64)
    if not 0.0 < fraction <= 1.0:
        raise ValueError(f"train_episode_fraction = {fraction!r}: must be in (0, 1]")
    if fraction == 1.0:
        return np.sort(episodes)
    keep = max(1, int(round(fraction * len(episodes))))
    order = _rng(seed, STREAM_SUBSAMPLE).permutation(len(episodes))
    return np.sort(episodes[order[:keep]])


def shuffle_outcomes(data: TransitionData, episodes: np.ndarray, seed: int) -> TransitionData:
    """`data` with the outcome labels and success of `episodes` permuted among those episodes (seeded).

    Each training episode keeps its own states, thoughts and the steps at which its outcomes are
    settled, but carries another training episode's outcomes: the label rates stay, the pairing of
    what happened in an episode with how it ended is broken. State goals are the episode's own
    later states and stay as they are."""
    episodes = np.sort(np.asarray(episodes, dtype=np.int64))
    perm = episodes[_rng(seed, STREAM_SHUFFLE).permutation(len(episodes))]
    labels = data.outcome_labels.copy()
    success = data.success.copy()
    labels[episodes] = data.outcome_labels[perm]
    success[episodes] = data.success[perm]
    return dataclasses.replace(data, outcome_labels=labels, success=success)


def outcome_base_rates(data: TransitionData, episodes: np.ndarray) -> tuple[np.ndarray, float]:
    """Per outcome goal, the share of `episodes` in which it happened, and their mean success."""
    episodes = np.asarray(episodes, dtype=np.int64)
    if episodes.size == 0:
        raise ValueError("base rates need at least one training episode")
    return data.outcome_labels[episodes].mean(axis=0).astype(np.float64), float(data.success[episodes].mean())
