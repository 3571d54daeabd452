"""Complementary outcome goals: which sentences read one event, and the consistent answer."""

import numpy as np
import pytest

from pnlc.value.complements import check_labels, consistent, pair_columns, readings

TEXTS = ("Good wins.", "Evil wins.", "Merlin survives.", "Quest 1 fails.", "Quest 1 succeeds.", "Quest 4 fails.")
PAIRS = [("Good wins.", "Evil wins."), ("Merlin survives.", "Evil wins."), ("Quest 1 succeeds.", "Quest 1 fails."),
         ("Quest 9 succeeds.", "Quest 9 fails.")]


def test_pairs_chain_into_events_and_absent_sentences_are_skipped():
    columns = pair_columns(TEXTS, PAIRS, "test")
    assert columns == [(0, 1), (2, 1), (4, 3)]
    r = readings(len(TEXTS), columns, TEXTS, "test")
    assert r[0] == ((0, 1), (1, -1), (2, 1)) and r[2] == ((0, 1), (1, -1), (2, 1))  # survives = good wins
    assert r[1] == ((0, -1), (1, 1), (2, -1)) and r[3] == ((3, 1), (4, -1)) and r[5] == ()


def test_consistent_answers_sum_to_one_and_agree_within_an_event():
    r = readings(len(TEXTS), pair_columns(TEXTS, PAIRS, "test"), TEXTS, "test")
    raw = np.random.default_rng(0).random((7, len(TEXTS)))
    p = np.stack([consistent(raw, r[k]) if r[k] else raw[:, k] for k in range(len(TEXTS))], axis=1)
    np.testing.assert_allclose(p[:, 0] + p[:, 1], 1.0)
    np.testing.assert_allclose(p[:, 0], p[:, 2])
    np.testing.assert_allclose(p[:, 3], (raw[:, 3] + 1 - raw[:, 4]) / 2)
    np.testing.assert_allclose(p[:, 0], (raw[:, 0] + 1 - raw[:, 1] + raw[:, 2]) / 3)


def test_a_declaration_that_contradicts_itself_or_the_labels_is_refused():
    with pytest.raises(ValueError, match="both the same event"):
        readings(3, [(0, 1), (1, 2), (2, 0)], ("a", "b", "c"), "test")
    with pytest.raises(ValueError, match="its own complement"):
        pair_columns(TEXTS, [("Good wins.", "Good wins.")], "test")
    labels = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.float32)
    with pytest.raises(ValueError, match="episode 2"):
        check_labels(labels, [(0, 1)], ("a", "b"), "test")
    check_labels(labels[:2], [(0, 1)], ("a", "b"), "test")
