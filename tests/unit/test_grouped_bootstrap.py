"""AUC intervals that resample groups (held-out dialogues), not the states inside them."""

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from pnlc.evaluation.stats import group_resample_counts, grouped_auc_difference, grouped_auc_interval, weighted_auc


def _dialogues(n_dialogues, seed):
    rng = np.random.default_rng(seed)
    label = rng.random(n_dialogues) < 0.5
    score = np.round(rng.normal(size=n_dialogues) + 0.8 * label, 1)  # rounded: ties occur
    return score, label


def test_weighted_auc_matches_sklearn_with_ties_and_weights():
    score, label = _dialogues(300, 0)
    weights = np.random.default_rng(1).integers(0, 4, size=(5, 300))
    expected = [roc_auc_score(label, score, sample_weight=w) for w in weights]
    np.testing.assert_allclose(weighted_auc(score, label, weights), expected, rtol=1e-12)


def test_interval_contains_the_point_estimate():
    score, label = _dialogues(200, 2)
    groups = np.arange(200)
    counts = group_resample_counts(200, 500, seed=0)
    stat = grouped_auc_interval(score, label, groups, counts, 0.95)
    assert stat["auc"] == pytest.approx(roc_auc_score(label, score))
    assert stat["lo"] < stat["auc"] < stat["hi"]
    assert stat["groups"] == 200 and stat["n"] == 200


def test_states_of_one_dialogue_are_drawn_together():
    """Ten identical states per dialogue give exactly the interval of one state per dialogue: the
    bootstrap resamples dialogues. Resampling the states instead would narrow it."""
    score, label = _dialogues(80, 3)
    counts = group_resample_counts(80, 400, seed=1)
    one = grouped_auc_interval(score, label, np.arange(80), counts, 0.95)
    many = grouped_auc_interval(np.repeat(score, 10), np.repeat(label, 10), np.repeat(np.arange(80), 10), counts, 0.95)
    assert (many["lo"], many["auc"], many["hi"]) == pytest.approx((one["lo"], one["auc"], one["hi"]))
    assert many["n"] == 800 and many["groups"] == 80
    by_state = grouped_auc_interval(np.repeat(score, 10), np.repeat(label, 10), np.arange(800),
                                    group_resample_counts(800, 400, seed=1), 0.95)
    assert by_state["hi"] - by_state["lo"] < 0.6 * (many["hi"] - many["lo"])


def test_resampling_is_seeded():
    np.testing.assert_array_equal(group_resample_counts(30, 20, 7), group_resample_counts(30, 20, 7))
    assert not np.array_equal(group_resample_counts(30, 20, 7), group_resample_counts(30, 20, 8))
    assert np.all(group_resample_counts(30, 20, 7).sum(axis=1) == 30)


def test_one_class_gives_no_auc():
    stat = grouped_auc_interval(np.array([0.1, 0.2]), np.array([1, 1]), np.array([0, 1]),
                                group_resample_counts(2, 10, 0), 0.95)
    assert stat["auc"] is None and stat["lo"] is None


def test_paired_difference_is_narrower_than_the_two_intervals_and_sees_a_real_gap():
    """Two scorers sharing most of their noise: the paired interval of their AUC difference is far
    narrower than either AUC's own interval, excludes zero for a real gap and holds zero for none."""
    rng = np.random.default_rng(4)
    n = 300
    label = rng.random(n) < 0.5
    common = rng.normal(size=n)
    better = common + 0.9 * label + 0.1 * rng.normal(size=n)
    worse = common + 0.6 * label + 0.1 * rng.normal(size=n)
    counts = group_resample_counts(n, 500, seed=0)
    groups = np.arange(n)
    diff = grouped_auc_difference(better, worse, label, groups, counts, 0.95)
    assert diff["mean"] == pytest.approx(roc_auc_score(label, better) - roc_auc_score(label, worse))
    assert 0 < diff["lo"] < diff["mean"] < diff["hi"]
    one = grouped_auc_interval(better, label, groups, counts, 0.95)
    assert diff["hi"] - diff["lo"] < 0.5 * (one["hi"] - one["lo"])
    same = grouped_auc_difference(better, better + 1e-9 * rng.normal(size=n), label, groups, counts, 0.95)
    assert same["lo"] <= 0 <= same["hi"] and abs(same["mean"]) < 1e-3
    none = grouped_auc_difference(better, worse, np.ones(n, dtype=bool), groups, counts, 0.95)
    assert none == {"mean": None, "lo": None, "hi": None}
