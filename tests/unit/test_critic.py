"""Critic inference: one embed call and one forward per decision, encoder check, value text."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from pnlc.agents.roles import GoalSet
from pnlc.critic import SCALAR_GOAL, Critic, CriticError, parse_value, render_scalar


class CountingEmbedder:
    """Deterministic bag-of-words hashing embedder that counts its calls."""

    def __init__(self, model_id: str = "fake-hash-32", dim: int = 32) -> None:
        self.model_id = model_id
        self.dim = dim
        self.calls: list[list[str]] = []

    def embed(self, texts):
        self.calls.append(list(texts))
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                h = int.from_bytes(hashlib.sha256(w.encode()).digest()[:4], "little")
                out[i, h % self.dim] += 1.0 if (h >> 8) & 1 else -1.0
            n = np.linalg.norm(out[i])
            out[i] = out[i] / n if n else out[i]
        return out


class BilinearModel:
    """q = sigmoid(s·W1·g + t·W2·g + t·w): depends on every input, row by row."""

    def __init__(self, dim: int = 32, goal_conditioned: bool = True, embedder_id: str = "fake-hash-32") -> None:
        rng = np.random.default_rng(0)
        self.w1 = rng.normal(size=(dim, dim))
        self.w2 = rng.normal(size=(dim, dim))
        self.w = rng.normal(size=dim)
        self.goal_conditioned = goal_conditioned
        self.embedder_id = embedder_id
        self.batches: list[int] = []

    def q(self, state, thought, goal):
        self.batches.append(len(state))
        z = np.einsum("bi,ij,bj->b", state, self.w1, goal) + np.einsum("bi,ij,bj->b", thought, self.w2, goal)
        if not self.goal_conditioned:
            z = state @ self.w + thought @ self.w
        z = z + thought @ self.w
        return 1.0 / (1.0 + np.exp(-z))


STATE = "Two quests have succeeded and the third team includes the Minion."
THOUGHTS = ["Reject the team and name the Minion.", "Approve the team quietly.", "Propose a new team of servants."]
GOALS = ["Good wins the game.", "The third quest succeeds.", "Merlin is assassinated.", "The Minion joins the quest."]


def test_batched_scores_equal_one_by_one_with_one_embed_and_one_forward() -> None:
    embedder, model = CountingEmbedder(), BilinearModel()
    critic = Critic(model, embedder)
    probs = critic.score(STATE, THOUGHTS, GOALS)
    assert probs.shape == (3, 4)
    assert len(embedder.calls) == 1 and len(model.batches) == 1 and model.batches[0] == 12
    assert sorted(embedder.calls[0]) == sorted({STATE, *THOUGHTS, *GOALS})
    single = np.array([[critic.score(STATE, [t], [g])[0, 0] for g in GOALS] for t in THOUGHTS])
    np.testing.assert_allclose(probs, single, rtol=1e-6, atol=1e-7)
    assert np.all((probs > 0) & (probs < 1))
    assert len(set(np.round(probs.ravel(), 6))) > 1  # the pairs are really distinguished
    assert critic.last_ms >= 0 and critic.calls == 13


def test_texts_of_the_previous_call_are_not_embedded_again() -> None:
    embedder = CountingEmbedder()
    critic = Critic(BilinearModel(), embedder)
    first = critic.score(STATE, THOUGHTS[:1], GOALS)
    again = critic.score(STATE, THOUGHTS[:2], GOALS)  # a refinement round: same state, one new thought
    assert embedder.calls[1] == [THOUGHTS[1]]
    np.testing.assert_allclose(again[0], first[0])
    fresh = Critic(BilinearModel(), CountingEmbedder()).score(STATE, THOUGHTS[:2], GOALS)
    np.testing.assert_allclose(again, fresh)


def test_duplicate_texts_are_embedded_once() -> None:
    embedder = CountingEmbedder()
    critic = Critic(BilinearModel(), embedder)
    probs = critic.score(STATE, [THOUGHTS[0], THOUGHTS[0]], [GOALS[0], GOALS[0]])
    assert len(embedder.calls[0]) == 3
    assert np.allclose(probs, probs[0, 0])


def test_mismatched_encoder_is_refused_naming_both() -> None:
    with pytest.raises(CriticError) as err:
        Critic(BilinearModel(embedder_id="all-MiniLM-L6-v2@abc123"), CountingEmbedder(model_id="fake-hash-32"))
    msg = str(err.value)
    assert "all-MiniLM-L6-v2@abc123" in msg and "fake-hash-32" in msg and "retrain" in msg


def test_variant_mismatch_is_refused() -> None:
    goal_critic = Critic(BilinearModel(), CountingEmbedder())
    scalar_critic = Critic(BilinearModel(goal_conditioned=False), CountingEmbedder())
    with pytest.raises(CriticError, match="scalar"):
        goal_critic.score_scalar(STATE, THOUGHTS)
    with pytest.raises(CriticError, match="score_scalar"):
        scalar_critic.score(STATE, THOUGHTS, GOALS)


def test_scalar_scores_one_per_thought_in_one_call() -> None:
    embedder, model = CountingEmbedder(), BilinearModel(goal_conditioned=False)
    critic = Critic(model, embedder)
    p = critic.score_scalar(STATE, THOUGHTS)
    assert p.shape == (3,) and len(embedder.calls) == 1 and model.batches == [3]
    np.testing.assert_allclose(p, [critic.score_scalar(STATE, [t])[0] for t in THOUGHTS], rtol=1e-6)


def test_render_format_and_round_trip() -> None:
    critic = Critic(BilinearModel(), CountingEmbedder())
    goals = GoalSet(("Good wins the game.", "The third quest succeeds."), ("Merlin is assassinated.", "Evil wins."))
    text = critic.render(goals, np.array([0.623, 0.1, 0.58, 0.049]))
    assert text.splitlines() == [
        "Positive outcomes:",
        "0.62: Good wins the game.",
        "0.10: The third quest succeeds.",
        "Negative outcomes:",
        "0.58: Merlin is assassinated.",
        "0.05: Evil wins.",
    ]
    lines = parse_value(text)
    assert [(ln.positive, ln.probability, ln.goal) for ln in lines][2] == (False, 0.58, "Merlin is assassinated.")
    with pytest.raises(ValueError):
        critic.render(goals, [0.5, 0.5])


def test_render_scalar_single_positive_line() -> None:
    assert render_scalar(0.4213) == f"Positive outcomes:\n0.42: {SCALAR_GOAL}"
    assert SCALAR_GOAL == "The task ends successfully."


# -- with the real value model and checkpoint format of pnlc.value -------------------------------


def _checkpoint(tmp_path, embedder_id: str, dim: int, goal_conditioned: bool = True, complements=None,
                state_text: str = "describe"):
    """complements: (outcome texts, their embeddings, pairs) for a critic that answers pairs consistently."""
    torch = pytest.importorskip("torch")
    from pnlc.value.checkpoint import save_checkpoint
    from pnlc.value.config import TrainConfig
    from pnlc.value.networks import TwinQ, ValueNet

    torch.manual_seed(0)
    goal_dim = dim if goal_conditioned else 0
    state = {f"q.{k}": v for k, v in TwinQ(dim, goal_dim, (16, 16)).state_dict().items()}
    state.update({f"value.{k}": v for k, v in ValueNet(dim, goal_dim, (16, 16)).state_dict().items()})
    cfg = TrainConfig.from_dict(
        {
            "hidden_sizes": [16, 16], "expectile": 0.8, "discount": 0.95, "target_update_rate": 0.005,
            "learning_rate": 3e-4, "weight_decay": 1e-4, "batch_size": 8, "max_steps": 1,
            "goal_mixture": {"future": 0.35, "final": 0.2, "other_episode": 0.15, "outcome": 0.3},
            "goal_match_threshold": 0.95, "val_fraction": 0.2, "goal_conditioned": goal_conditioned,
            "standardize_inputs": False, "train_episode_fraction": 1.0, "shuffle_outcomes": False,
            "precision": "32-true", "accelerator": "cpu", "seed": 0, "log_every_n_steps": 1,
            "val_every_n_steps": 1, "early_stop_patience": 0, "early_stop_min_delta": 0.0,
            "complement_outcomes": complements is not None, "diagnostic_goals_per_transition": 1,
            "outcome_mc_weight": 0.0, "outcome_mc_goals": "sampled", "outcome_mc_loss": "squared",
        }
    )
    path = tmp_path / "critic.ckpt"
    if complements is None:
        save_checkpoint(path, state, cfg, embedder_id, dim, ["Good wins the game."], state_text=state_text)
    else:
        texts, emb, pairs = complements
        save_checkpoint(path, state, cfg, embedder_id, dim, texts, outcome_goal_emb=emb, complement_pairs=pairs)
    return path


def test_load_from_checkpoint_scores_batched_like_one_by_one(tmp_path) -> None:
    from pnlc.embed import HashingEmbedder

    embedder = HashingEmbedder(dim=24, seed=1)
    critic = Critic.load(_checkpoint(tmp_path, embedder.model_id, 24), embedder)
    assert critic.goal_conditioned and critic.embedder_id == embedder.model_id
    probs = critic.score(STATE, THOUGHTS, GOALS)
    single = np.array([[critic.score(STATE, [t], [g])[0, 0] for g in GOALS] for t in THOUGHTS])
    np.testing.assert_allclose(probs, single, rtol=1e-5, atol=1e-6)
    assert np.all((probs > 0) & (probs < 1))


def test_load_refuses_a_checkpoint_of_another_encoder(tmp_path) -> None:
    from pnlc.embed import HashingEmbedder

    path = _checkpoint(tmp_path, "all-MiniLM-L6-v2@7e54b3bcd8c7", 24)
    with pytest.raises(ValueError, match="all-MiniLM-L6-v2@7e54b3bcd8c7"):
        Critic.load(path, HashingEmbedder(dim=24, seed=1))


def test_load_refuses_a_checkpoint_of_another_kind_of_state_text(tmp_path) -> None:
    """A critic trained on an LLM's summaries is not read on rule-based descriptions, nor the other
    way round; the same kind loads."""
    from pnlc.critic.controls import load_critic
    from pnlc.embed import HashingEmbedder

    embedder = HashingEmbedder(dim=24, seed=1)
    summaries = "llm:hf/SmolLM2-135M-Instruct.Q4_1@2f7864091603"
    path = _checkpoint(tmp_path, embedder.model_id, 24, state_text=summaries)
    with pytest.raises(ValueError, match="trained on state texts of kind 'llm:hf/SmolLM2.*'describe'"):
        load_critic(path, embedder, "none", "describe")
    with pytest.raises(ValueError, match="annotate.summarizer"):
        load_critic(path, embedder, "base_rate", "llm:anthropic/claude-sonnet-4-5")
    assert load_critic(path, embedder, "none", summaries).model.state_text == summaries
    described = _checkpoint(tmp_path / "d" if (tmp_path / "d").mkdir() is None else tmp_path, embedder.model_id, 24)
    with pytest.raises(ValueError, match="kind 'describe'"):
        load_critic(described, embedder, "none", summaries)


def test_load_scalar_variant(tmp_path) -> None:
    from pnlc.embed import HashingEmbedder

    embedder = HashingEmbedder(dim=24, seed=1)
    critic = Critic.load(_checkpoint(tmp_path, embedder.model_id, 24, goal_conditioned=False), embedder)
    p = critic.score_scalar(STATE, THOUGHTS)
    assert p.shape == (3,) and not critic.goal_conditioned


def test_complementary_outcome_goals_sum_to_one_through_the_critic(tmp_path) -> None:
    from pnlc.embed import HashingEmbedder

    embedder = HashingEmbedder(dim=24, seed=1)
    texts = ["Good wins the game.", "Evil wins the game.", "Quest 1 succeeds."]
    emb = np.asarray(embedder.embed(texts), dtype=np.float32)
    path = _checkpoint(tmp_path, embedder.model_id, 24, complements=(texts, emb, [tuple(texts[:2])]))
    critic = Critic.load(path, embedder)
    goals = [texts[1], "Merlin is assassinated.", texts[0], texts[2]]
    probs = critic.score(STATE, THOUGHTS, goals)
    np.testing.assert_allclose(probs[:, 0] + probs[:, 2], 1.0, atol=1e-6)
    # the same weights read each goal on its own: the pair's raw heads do not sum to one, and goals
    # outside a pair are answered as trained
    state, thoughts, goal = (np.asarray(embedder.embed(x), np.float32) for x in ([STATE], THOUGHTS, goals))
    raw_probs = np.array([[critic.model.q_raw(state, t[None], g[None])[0] for g in goal] for t in thoughts])
    assert not np.allclose(raw_probs[:, 0] + raw_probs[:, 2], 1.0, atol=1e-3)
    np.testing.assert_allclose(probs[:, [1, 3]], raw_probs[:, [1, 3]], atol=1e-6)
    np.testing.assert_allclose(probs[:, 2], (raw_probs[:, 2] + 1 - raw_probs[:, 0]) / 2, atol=1e-6)
