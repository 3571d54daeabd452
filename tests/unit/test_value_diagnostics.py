"""Held-out diagnostics: ECE, reliability curve, AUC and the reached-later label."""

import numpy as np
import pytest

from pnlc.value.diagnostics import auc, expected_calibration_error, reached_later, reliability_curve


def test_ece_of_a_calibrated_and_a_miscalibrated_predictor():
    pred = np.array([0.25] * 4 + [0.75] * 4)
    label = np.array([1, 0, 0, 0, 1, 1, 1, 0], dtype=float)
    assert expected_calibration_error(pred, label, 10) == pytest.approx(0.0)
    # everything predicted 0.9 while half happen: ECE = 0.4
    assert expected_calibration_error(np.full(8, 0.9), label, 10) == pytest.approx(0.4)


def test_reliability_curve_bins():
    curve = reliability_curve(np.array([0.05, 0.15, 0.16, 1.0]), np.array([0.0, 1.0, 0.0, 1.0]), 10)
    assert curve["count"] == [1, 2, 0, 0, 0, 0, 0, 0, 0, 1]  # 1.0 falls in the last bin
    assert curve["mean_label"][1] == pytest.approx(0.5)
    assert curve["mean_prediction"][1] == pytest.approx(0.155)
    assert curve["mean_label"][2] is None


def test_auc_and_single_class():
    assert auc(np.array([0.1, 0.9, 0.2, 0.8]), np.array([0, 1, 0, 1])) == 1.0
    assert auc(np.array([0.1, 0.9]), np.array([1, 1])) is None


def test_reached_later_looks_only_at_later_states_of_the_same_episode():
    # one episode, transitions 0..2 with next states rows 1, 2, 3; texts are orthogonal unit vectors
    table = np.eye(5, dtype=np.float32)
    next_rows = np.array([1, 2, 3])
    end = np.array([2, 2, 2])
    index = np.array([0, 2, 2, 1])
    goals = np.array([3, 1, 3, 4])
    label = reached_later(next_rows, goals, index, end, table, 0.95)
    # row 3 is reached from t=0 and at t=2; row 1 lies before t=2; row 4 never appears
    assert label.tolist() == [True, False, True, False]


def test_game_phase_splits_each_episode_into_thirds():
    from pnlc.value.diagnostics import game_phase

    # two episodes: transitions 0-5 (length 6) and 6-8 (length 3)
    start = np.array([0] * 6 + [6] * 3)
    end = np.array([5] * 6 + [8] * 3)
    assert game_phase(start, end).tolist() == [0, 0, 1, 1, 2, 2, 0, 1, 2]


def test_linear_probe_reads_an_outcome_the_embeddings_carry_and_not_one_they_do_not():
    import dataclasses

    from pnlc.value.datamodule import split_episodes
    from pnlc.value.diagnostics import linear_probe_aucs
    from pnlc.value.synthetic import two_thought_outcome_data

    # thought A leads to X with probability 0.1, thought B with 0.9: the ideal AUC is 0.9
    data = two_thought_outcome_data(episodes_per_thought=200, p_outcome_a=0.1, p_outcome_b=0.9, dim=8, seed=0)
    rng = np.random.default_rng(1)
    carried = data.outcome_labels[:, 0]
    labels = np.stack([carried, rng.random(data.num_episodes) < 0.5, np.ones(data.num_episodes)], 1)
    data = dataclasses.replace(data, outcome_labels=labels.astype(np.float32),
                               outcome_goals=np.repeat(data.outcome_goals, 3, axis=0),
                               outcome_goal_texts=("X happens.", "A coin lands heads.", "The game ends."),
                               outcome_decided=None)
    train, val = split_episodes(data.num_episodes, 0.3, 0)
    readable, noise, constant = linear_probe_aucs(data, train, val)
    assert readable is not None and abs(readable - 0.9) < 0.05
    assert noise is not None and abs(noise - 0.5) < 0.1
    assert constant is None  # one class only: no AUC
