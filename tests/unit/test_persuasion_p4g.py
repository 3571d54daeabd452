"""PersuasionForGood importer (real file and synthetic files) and the bag-of-words baseline."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from pnlc.data.jsonl import read_jsonl, write_jsonl
from pnlc.data.records import episode_from_dict
from pnlc.envs.base import EnvError
from pnlc.pipeline.p4g import NO_DIALOGUE, critic_state_texts, dialogue_window, embedding_probe, state_text
from pnlc.value.references import ReferenceConfig, tfidf_logreg
from pnlc.envs.persuasion import (
    AGREES,
    AT_LEAST_ONE,
    REFUSES,
    load_p4g,
    p4g_goal_outcomes,
    p4g_states,
    split_by_dialogue,
)

P4G_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "persuasion"


# --------------------------------------------------------------------------------------------- #
# Real data
# --------------------------------------------------------------------------------------------- #


@pytest.fixture(scope="module")
def real_episodes():
    if not (P4G_DIR / "full_data.json").is_file():
        pytest.skip(f"PersuasionForGood data not present at {P4G_DIR}")
    return load_p4g(P4G_DIR)


@pytest.mark.realdata
def test_real_file_counts_and_mean(real_episodes):
    eps = real_episodes
    assert len(eps) == 1017
    assert np.mean([e.metric for e in eps]) == pytest.approx(0.4087, abs=5e-5)
    assert np.mean([e.outcome["donated"] for e in eps]) == pytest.approx(545 / 1017)
    assert {e.policy for e in eps} == {"p4g_human"} and {e.backend for e in eps} == {"human"}
    assert len({e.task_id for e in eps}) == 1017
    raw = json.loads((P4G_DIR / "full_data.json").read_text())
    for e, r in zip(eps[:50], raw[:50]):
        assert len(e.steps) == (len(r["conversation"]) + 1) // 2
        assert [s.action for s in e.steps] == [" ".join(t.split()) for t in r["conversation"][0::2]]
        assert e.steps[-1].done and not any(s.done for s in e.steps[:-1])
        assert e.steps[-1].reward == e.metric == e.outcome["donation"] == pytest.approx(min(2.0, max(0.0, r["reward"])))


@pytest.mark.realdata
def test_experiment_episodes_keep_the_data_order_and_split_into_a_partition(real_episodes):
    from pnlc.pipeline.p4g import p4g_episodes, split_dialogues

    eps = p4g_episodes(P4G_DIR)
    assert [e.task_id for e in eps] == [e.task_id for e in real_episodes if e.steps]
    assert all(e.info["goal_outcomes"] == dict(p4g_goal_outcomes(e)) for e in eps[:20])
    train, test = split_dialogues(P4G_DIR, 0.8, 0)
    train_idx, test_idx = split_by_dialogue(len(eps), 0.8, 0)
    assert [e.task_id for e in train] == [eps[i].task_id for i in train_idx]
    assert [e.task_id for e in test] == [eps[i].task_id for i in test_idx]


@pytest.mark.realdata
def test_real_file_annotations_and_summaries(real_episodes):
    eps = real_episodes
    annotated = [e for e in eps if e.info["annotated"]]
    assert len(annotated) >= 290  # the 300 annotated dialogues, matched by text
    assert len({e.info["dialogue_id"] for e in annotated}) == len(annotated)
    labelled = [s for e in annotated for s in e.steps if s.info["annotated"]]
    assert len(labelled) > 2500
    assert any(s.thought.startswith("Greet the donor.") for s in labelled)
    for e in eps[:100]:
        assert e.steps[0].state_summary == "The conversation has not started; the donor has not agreed to donate."
        assert all(s.thought.strip() for s in e.steps)
        assert e.steps[1].state_summary.startswith("After 1 persuader turn,")
        if e.metric > 0:
            assert f"The donor agrees to donate ${e.metric:.2f}." in e.final_summary
        else:
            assert e.final_summary.endswith("The donor refuses to donate.")
        goals = p4g_goal_outcomes(e)
        assert goals[AGREES] == (e.metric > 0) and goals[REFUSES] == (e.metric == 0)
        assert goals[AT_LEAST_ONE] == (e.metric >= 1.0) and e.info["goal_outcomes"] == goals


@pytest.mark.realdata
def test_real_episodes_round_trip_jsonl(real_episodes, tmp_path):
    path = tmp_path / "p4g.jsonl"
    write_jsonl(path, real_episodes[:20])
    back = read_jsonl(path, episode_from_dict)
    assert [e.metric for e in back] == [e.metric for e in real_episodes[:20]]
    assert back[3].steps[2].thought == real_episodes[3].steps[2].thought


# --------------------------------------------------------------------------------------------- #
# Synthetic files
# --------------------------------------------------------------------------------------------- #

DIALOGUE_A = [
    "Hello! How are you?",
    "Good, thanks.",
    "Have you heard of Save the Children?",
    "No. Is it legit?",
    "Yes, it was founded in 1919 and is rated highly.",
    "Okay, that makes sense. I'll give a bit.",
    "Would you like to donate $1?",
]
DIALOGUE_B = ["Would you donate to a charity?", "No thanks.", "Please, kids are dying.", "Not interested."]


def _write(folder: Path, records) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "full_data.json").write_text(json.dumps(records))
    return folder


def test_synthetic_import_and_states(tmp_path):
    d = _write(tmp_path, [{"conversation": DIALOGUE_A, "reward": 0.5}, {"conversation": DIALOGUE_B, "reward": 3.0}])
    eps = load_p4g(d)
    assert [len(e.steps) for e in eps] == [4, 2]
    assert eps[1].metric == 2.0  # clipped to [0, 2]
    assert not eps[0].info["annotated"]
    assert eps[0].steps[0].thought.startswith("Greet the donor.")
    assert eps[0].steps[2].thought == "Establish the credibility of Save the Children."
    assert "asked whether the charity is legitimate" in eps[0].steps[2].state_summary
    assert "Persuader (you): Hello! How are you?" in eps[0].steps[1].observation
    assert "asked for money before building rapport" in eps[1].steps[1].state_summary
    states = p4g_states(eps)
    assert len(states) == 6
    assert [s.third for s in states[:4]] == ["early", "early", "middle", "late"]
    assert states[2].prefix == "Persuader: Hello! How are you?\nDonor: Good, thanks.\nPersuader: Have you heard of Save the Children?\nDonor: No. Is it legit?"
    assert states[0].prefix == "" and all(s.label for s in states)  # 0.5 and the clipped 2.0 both donated


def test_synthetic_annotations_give_thoughts(tmp_path):
    d = _write(tmp_path, [{"conversation": DIALOGUE_A, "reward": 0.5}, {"conversation": DIALOGUE_B, "reward": 0.0}])
    ann = d / "p4g_original" / "AnnotatedData"
    ann.mkdir(parents=True)
    rows = []
    labels = ["greeting", "", "source-related-inquiry", "", "credibility-appeal", "", "proposition-of-donation"]
    for turn, (text, lab) in enumerate(zip(DIALOGUE_A, labels)):
        rows.append({"": turn, "B2": "dlg-A", "B4": turn % 2, "Turn": turn // 2, "Unit": text, "er_label_1": lab,
                     "ee_label_1": "", "er_label_2": "", "ee_label_2": "", "neg": 0, "neu": 1, "pos": 0})
    with open(ann / "300_dialog.csv", "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    with open(ann / "300_info.csv", "w", newline="") as fh:
        fh.write("B2,B3,B4,B5,B6,B7\ndlg-A,u1,0,,0,4\ndlg-A,u2,1,0.5,0.5,4\n")
    eps = load_p4g(d)
    assert eps[0].info["annotated"] and eps[0].info["dialogue_id"] == "dlg-A" and not eps[1].info["annotated"]
    assert [s.thought for s in eps[0].steps] == [
        "Greet the donor.",
        "Ask whether the donor knows Save the Children.",
        "Establish the credibility of Save the Children.",
        "Ask directly for a donation now.",
    ]
    assert all(s.info["annotated"] for s in eps[0].steps)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"conversation": "hello", "reward": 1.0}, "record 1: field conversation"),
        ({"conversation": ["hi", 3], "reward": 1.0}, r"record 1: conversation\[1\]"),
        ({"conversation": ["hi"]}, "record 1: missing field"),
        ({"conversation": ["hi"], "reward": "lots"}, "record 1: field reward"),
        ([1, 2], "record 1: expected an object"),
    ],
)
def test_malformed_record_names_file_and_index(tmp_path, bad, message):
    d = _write(tmp_path, [{"conversation": DIALOGUE_B, "reward": 0.0}, bad])
    with pytest.raises(EnvError, match=message) as err:
        load_p4g(d)
    assert str(d / "full_data.json") in str(err.value)


def test_missing_or_broken_file(tmp_path):
    with pytest.raises(EnvError, match="full_data.json"):
        load_p4g(tmp_path)
    (tmp_path / "full_data.json").write_text('[{"conversation": ["hi"], "reward": 1}')
    with pytest.raises(EnvError, match="not valid JSON"):
        load_p4g(tmp_path)


# --------------------------------------------------------------------------------------------- #
# Bag-of-words baseline
# --------------------------------------------------------------------------------------------- #

BOW = ReferenceConfig(enabled=True, ngram_max=2, min_df=1, max_features=5000, inverse_regularization=1.0,
                      max_iter=200, svd_components=8, boosting_iterations=20, boosting_max_depth=2,
                      boosting_learning_rate=0.1, seed=0)


def test_bow_baseline_learns_a_word_signal():
    rng = np.random.default_rng(0)
    words = ["charity", "children", "money", "bonus", "today", "help"]
    texts, labels = [], []
    for _ in range(200):
        y = bool(rng.random() < 0.5)
        body = " ".join(rng.choice(words, size=6))
        texts.append(body + (" sure happy" if y else " no thanks"))
        labels.append(y)
    p = tfidf_logreg(BOW, texts[:150], labels[:150], texts[150:])[:, 0]
    assert p.shape == (50,) and ((p > 0.5) == np.array(labels[150:])).mean() > 0.95
    const = tfidf_logreg(BOW, texts[:3], [True, True, True], texts[3:6])[:, 0]
    assert const.tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="label"):
        tfidf_logreg(BOW, texts[:3], [True], texts[3:6])


def test_embedding_probe_reads_a_linear_signal_and_nothing_from_noise():
    from pnlc.value.diagnostics import auc

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 16))
    signal = (x[:, 3] - x[:, 7] + 0.5 * rng.normal(size=600)) > 0
    noise = rng.random(600) < 0.5
    informed = embedding_probe(x[:400], signal[:400].astype(int), x[400:])
    assert informed.shape == (200,) and ((informed >= 0) & (informed <= 1)).all()
    assert auc(informed, signal[400:]) > 0.9
    assert abs(auc(embedding_probe(x[:400], noise[:400].astype(int), x[400:]), noise[400:]) - 0.5) < 0.12


def test_dialogue_state_text_is_the_last_lines_and_the_final_state_says_the_decision(tmp_path):
    d = _write(tmp_path, [{"conversation": DIALOGUE_A, "reward": 0.5}, {"conversation": DIALOGUE_B, "reward": 0.0}])
    eps = load_p4g(d)
    states = p4g_states(eps)
    texts = critic_state_texts(eps, states, "dialogue", 2)
    assert [len(t) for t, _ in texts] == [4, 2]
    assert texts[0][0][0] == NO_DIALOGUE
    assert texts[0][0][2] == "Persuader: Have you heard of Save the Children?\nDonor: No. Is it legit?"
    assert [state_text(s, "dialogue", 2) for s in states[:4]] == texts[0][0]
    assert texts[0][1].endswith(AGREES) and texts[1][1].endswith(REFUSES)
    assert texts[1][1].splitlines()[0] == "Donor: Not interested."
    summaries = critic_state_texts(eps, states, "summary", 2)
    assert summaries[0] == ([s.state_summary for s in eps[0].steps], eps[0].final_summary)
    assert [state_text(s, "summary", 2) for s in states[:4]] == summaries[0][0]
    assert dialogue_window(["a", "b", "c"], 5) == "a\nb\nc"


def test_split_by_dialogue_is_disjoint_and_seeded():
    train, test = split_by_dialogue(1017, 0.8, 0)
    assert len(train) == 814 and len(test) == 203 and not set(train) & set(test)
    assert (train, test) == split_by_dialogue(1017, 0.8, 0) and train != split_by_dialogue(1017, 0.8, 1)[0]
    with pytest.raises(ValueError, match="train_fraction"):
        split_by_dialogue(10, 1.0, 0)


def test_p4g_overrides_reach_its_embedder_and_critic_only():
    from pnlc.config import load_params
    from pnlc.pipeline.p4g import p4g_embedder
    from pnlc.pipeline.train import train_config

    params = load_params("params.yaml")
    embedder = p4g_embedder(params, {"lexical_features": 64})
    assert embedder.features == 64 and embedder.model_id.endswith("@h64w1")
    assert embedder.dim == embedder.inner.dim + 64
    tcfg = train_config(params, "default", 0, {"hidden_sizes": [16], "weight_decay": 0.5}, "p4g.critic")
    assert tuple(tcfg.hidden_sizes) == (16,) and tcfg.weight_decay == 0.5
    plain = train_config(params, "default", 0)
    assert tuple(plain.hidden_sizes) == tuple(params.raw["train"]["critic"]["hidden_sizes"])
    assert tcfg.learning_rate == plain.learning_rate and tcfg.max_steps == plain.max_steps


def test_p4g_nested_overrides_train_and_are_reported_as_plain_data():
    """A nested override (p4g.critic.goal_mixture) reaches the critic's config and goes into the
    report as plain JSON, as the experiment writes it."""
    import copy
    import json

    import yaml

    from pnlc.config import params_from_dict, plain_data
    from pnlc.pipeline.train import train_config

    raw = copy.deepcopy(yaml.safe_load(open("params.yaml")))
    mixture = {"future": 0.1, "final": 0.1, "other_episode": 0.1, "outcome": 0.7}
    raw["p4g"]["critic"] = {"goal_mixture": mixture, "hidden_sizes": [16]}
    params = params_from_dict(raw, "params.yaml")
    cfg = params.section("p4g")
    assert train_config(params, "default", 0, cfg.critic, "p4g.critic").goal_mixture.outcome == 0.7
    with pytest.raises(TypeError):
        json.dumps(dict(cfg.critic))
    assert json.loads(json.dumps(plain_data(cfg.critic))) == {"goal_mixture": mixture, "hidden_sizes": [16]}


@pytest.mark.parametrize("section, overrides, message", [
    ("embed", {"buckets": 64}, r"p4g.embed: unknown key\(s\) buckets; use keys of embed"),
    ("embed", {"lexical_features": "many"}, r"p4g.embed.lexical_features"),
    ("critic", {"hidden": [16]}, r"p4g.critic: unknown key\(s\) hidden; use keys of train.critic"),
    ("critic", {"hidden_sizes": "wide"}, r"p4g.critic.hidden_sizes"),
])
def test_p4g_overrides_name_a_bad_key(section, overrides, message):
    from pnlc.config import ConfigError, load_params
    from pnlc.pipeline.p4g import p4g_embedder
    from pnlc.pipeline.train import train_config

    params = load_params("params.yaml")
    with pytest.raises(ConfigError, match=message):
        if section == "embed":
            p4g_embedder(params, overrides)
        else:
            train_config(params, "default", 0, overrides, "p4g.critic")
