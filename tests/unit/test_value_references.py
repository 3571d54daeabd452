"""Text references: supervised yardsticks on the words the critic reads, and the texts that carry them."""

import dataclasses

import numpy as np
import pytest

from pnlc.value.data import TransitionDataError, load_npz, save_npz
from pnlc.value.diagnostics import auc
from pnlc.value.references import (
    REFERENCES,
    ReferenceConfig,
    add_text_references,
    reference_probabilities,
    text_reference_aucs,
)
from pnlc.value.synthetic import random_transition_data

CFG = ReferenceConfig(enabled=True, ngram_max=2, min_df=1, max_features=5000, inverse_regularization=1.0,
                      max_iter=1000, svd_components=16, boosting_iterations=50, boosting_max_depth=3,
                      boosting_learning_rate=0.1, seed=0)
FILLER = "the quest team votes approve reject merlin servant minion round leader proposes".split()


def _texts(n, seed):
    """Texts of random filler words; label 1 texts mention "victory" with probability 0.8, label 0
    texts with probability 0.2: the label is in the words, and not perfectly."""
    rng = np.random.default_rng(seed)
    labels = rng.random(n) < 0.5
    texts = []
    for y in labels:
        words = list(rng.choice(FILLER, size=8))
        if rng.random() < (0.8 if y else 0.2):
            words.insert(int(rng.integers(0, 8)), "victory")
        texts.append(" ".join(words))
    return texts, labels


def test_references_beat_chance_when_the_label_is_in_the_words():
    train_texts, train_y = _texts(400, 0)
    test_texts, test_y = _texts(200, 1)
    probs = reference_probabilities(CFG, train_texts, train_y, test_texts)
    assert set(probs) == set(REFERENCES)
    for name, p in probs.items():
        assert p.shape == (200, 1)
        assert auc(p[:, 0], test_y) > 0.7, name


def test_references_know_nothing_when_the_words_carry_no_label():
    train_texts, _ = _texts(400, 0)
    test_texts, _ = _texts(200, 1)
    rng = np.random.default_rng(5)
    probs = reference_probabilities(CFG, train_texts, rng.random(400) < 0.5, test_texts)
    test_y = rng.random(200) < 0.5
    for name, p in probs.items():
        assert abs(auc(p[:, 0], test_y) - 0.5) < 0.15, name


def test_references_are_deterministic():
    train_texts, train_y = _texts(300, 2)
    test_texts, _ = _texts(100, 3)
    first = reference_probabilities(CFG, train_texts, train_y, test_texts)
    second = reference_probabilities(CFG, train_texts, train_y, test_texts)
    for name in REFERENCES:
        np.testing.assert_array_equal(first[name], second[name])


def test_a_label_column_with_one_class_gets_its_rate():
    train_texts, train_y = _texts(100, 4)
    labels = np.stack([train_y, np.zeros(100, dtype=bool)], axis=1)
    probs = reference_probabilities(CFG, train_texts, labels, ["victory quest", "merlin"])
    for p in probs.values():
        assert p.shape == (2, 2)
        assert np.all(p[:, 1] == 0.0)


def _with_texts(data, victory_goal=0):
    """Give every embedding row a text; states of episodes where the goal happened say "victory"."""
    texts = [f"state {i} of the quest" for i in range(data.embeddings.shape[0])]
    for s, e in zip(data.state, data.episode):
        if data.outcome_labels[e, victory_goal] > 0.5:
            texts[s] = f"state {s} the quest ends in victory"
    return dataclasses.replace(data, texts=tuple(texts))


def test_transition_texts_survive_the_npz_and_old_files_still_load(tmp_path):
    data = _with_texts(random_transition_data(200, 5, 8, 2, seed=0))
    save_npz(tmp_path / "a.npz", data)
    assert load_npz(tmp_path / "a.npz").texts == data.texts
    old = dataclasses.replace(data, texts=None)
    save_npz(tmp_path / "old.npz", old)
    assert load_npz(tmp_path / "old.npz").texts is None
    with pytest.raises(TransitionDataError, match="texts for"):
        dataclasses.replace(data, texts=data.texts[:-1])


def test_text_reference_aucs_score_the_held_out_episodes():
    data = _with_texts(random_transition_data(600, 5, 8, 2, seed=1))
    episodes = np.arange(data.num_episodes)
    aucs, seconds = text_reference_aucs(data, episodes[::2], episodes[1::2], CFG)
    assert len(aucs) == 2 and seconds >= 0
    for name in REFERENCES:
        assert aucs[0][name] > 0.95  # the goal is written in the state
        assert aucs[1][name] is None or aucs[1][name] < 0.8  # the other goal is independent noise


def test_fit_records_why_no_references_ran_for_annotations_without_texts():
    data = random_transition_data(200, 5, 8, 1, seed=2)
    per_goal = [{"goal": "Outcome 0 happens."}]
    info = add_text_references(per_goal, data, np.arange(0, 40, 2), np.arange(1, 40, 2), CFG)
    assert "rerun the annotation phase" in info["skipped"]
    assert "text_reference_auc" not in per_goal[0]
    info = add_text_references(per_goal, _with_texts(data), np.arange(0, 40, 2), np.arange(1, 40, 2), CFG)
    assert info["references"] == list(REFERENCES)
    assert set(per_goal[0]["text_reference_auc"]) == set(REFERENCES)


def test_a_training_set_too_small_for_the_vocabulary_is_recorded_not_fatal():
    data = _with_texts(random_transition_data(200, 5, 8, 1, seed=3))
    data = dataclasses.replace(data, texts=tuple(f"t{i}" for i in range(len(data.texts))))  # every word once
    per_goal = [{"goal": "Outcome 0 happens."}]
    info = add_text_references(per_goal, data, np.arange(0, 40, 2), np.arange(1, 40, 2), CFG_MIN_DF_5)
    assert "lower train.references.min_df" in info["skipped"]


CFG_MIN_DF_5 = dataclasses.replace(CFG, min_df=5)


def test_complementary_goals_share_one_fit_that_agrees_with_a_separate_one():
    train_texts, train_y = _texts(300, 6)
    test_texts, _ = _texts(50, 7)
    both = reference_probabilities(CFG, train_texts, np.stack([train_y, ~train_y], axis=1), test_texts)
    alone = reference_probabilities(CFG, train_texts, ~train_y, test_texts)
    np.testing.assert_allclose(both["tfidf_logreg"][:, 1], alone["tfidf_logreg"][:, 0], atol=1e-4)
    for p in both.values():
        np.testing.assert_array_equal(p[:, 1], 1.0 - p[:, 0])


def test_fit_writes_text_reference_aucs_next_to_the_probe(tmp_path, repo):
    import json

    import yaml

    from pnlc.config import params_from_dict
    from pnlc.pipeline.train import reference_config, train_config
    from pnlc.value.train import fit

    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["sizes"][raw["size"]]["critic_max_steps"] = 2
    raw["train"]["critic"].update(hidden_sizes=[8], batch_size=32, val_every_n_steps=1, log_every_n_steps=1,
                                  accelerator="cpu")
    params = params_from_dict(raw)
    data = _with_texts(random_transition_data(400, 5, 8, 2, seed=4))
    returned = fit(data, train_config(params, "default", 0), tmp_path, reference_config(params))
    metrics = json.loads((tmp_path / "metrics.json").read_text())
    goal = metrics["outcome_goals"]["per_goal"][0]
    assert "linear_probe_auc" in goal
    assert goal["text_reference_auc"]["tfidf_logreg"] > 0.95  # the outcome is written in the state
    assert "seconds" not in metrics["text_references"] and returned["timing"]["text_references_seconds"] >= 0
