"""Within-state ranking of candidates by a critic, against their values."""

from __future__ import annotations

import math

import numpy as np
import pytest

from pnlc.evaluation.ranking import rank_agreement, top_weights, variance_split


def test_rank_agreement_reads_order_not_scale():
    values = [0.2, 0.5, 0.9, 0.4]
    assert rank_agreement([1, 2, 3, 1.5], values) == pytest.approx((1.0, 1.0))
    assert rank_agreement([0.31, 0.30, 0.29, 0.305], values) == pytest.approx((-1.0, -1.0))


def test_rank_agreement_is_nan_without_an_order():
    assert all(math.isnan(x) for x in rank_agreement([0.4, 0.4, 0.4], [0.1, 0.5, 0.9]))
    assert all(math.isnan(x) for x in rank_agreement([0.1, 0.5, 0.9], [0.3, 0.3, 0.3]))
    assert all(math.isnan(x) for x in rank_agreement([0.1], [0.3]))
    # equal parts summed in another order differ in the last bits: still a tie, not an order
    assert all(math.isnan(x) for x in rank_agreement([0.4, sum([0.4 / 6] * 6), 0.1 + 0.3], [0.1, 0.5, 0.9]))


def test_rank_agreement_refuses_mismatched_lengths():
    with pytest.raises(ValueError, match="one score per value"):
        rank_agreement([0.1, 0.2], [0.1, 0.2, 0.3])


def test_top_weights_split_ties_evenly():
    assert top_weights([0.1, 0.7, 0.3]) == pytest.approx([0, 1, 0])
    assert top_weights([0.7, 0.2, 0.7]) == pytest.approx([0.5, 0, 0.5])
    assert top_weights([0.3, 0.3, 0.3, 0.3]) == pytest.approx([0.25] * 4)


def test_variance_split_separates_state_from_thought():
    # scores that move only with the state: no within-state variance
    within, between = variance_split([[0.2, 0.2, 0.2], [0.8, 0.8]])
    assert within == pytest.approx(0.0)
    assert between == pytest.approx(0.09)
    # scores that move only with the thought: no between-state variance
    within, between = variance_split([[0.0, 1.0], [1.0, 0.0]])
    assert within == pytest.approx(0.25)
    assert between == pytest.approx(0.0)
    with pytest.raises(ValueError, match="at least one score"):
        variance_split([[0.1], []])


def test_variance_split_matches_numpy_on_random_groups():
    rng = np.random.default_rng(0)
    groups = [rng.normal(i, 0.1, size=n) for i, n in enumerate([2, 5, 3])]
    within, between = variance_split(groups)
    assert within == pytest.approx(np.mean([g.var() for g in groups]))
    assert between == pytest.approx(np.var([g.mean() for g in groups]))
