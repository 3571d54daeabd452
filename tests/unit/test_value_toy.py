"""Known answer: thought A leads to outcome X with probability 0.3, thought B with 0.8."""

import json

import numpy as np
import pytest
import torch

from pnlc.value.checkpoint import load_critic
from pnlc.value.config import GoalMixture, TrainConfig
from pnlc.value.synthetic import two_thought_outcome_data
from pnlc.value.train import fit


@pytest.fixture
def one_thread():
    """Tiny networks gain nothing from intra-op threads, and lose a lot on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.slow
@pytest.mark.usefixtures("one_thread")
@pytest.mark.parametrize("standardize", [False, True], ids=["raw-inputs", "standardized-inputs"])
def test_critic_learns_outcome_probabilities_of_two_thoughts(tmp_path, standardize):
    data = two_thought_outcome_data(episodes_per_thought=200, p_outcome_a=0.3, p_outcome_b=0.8, dim=16, seed=0)
    cfg = TrainConfig(
        hidden_sizes=(32, 32), expectile=0.8, discount=0.9, target_update_rate=0.05, learning_rate=3e-3,
        weight_decay=0.0, batch_size=128, max_steps=300,
        goal_mixture=GoalMixture(future=0.2, final=0.1, other_episode=0.2, outcome=0.5),
        goal_match_threshold=0.95, val_fraction=0.2, goal_conditioned=True, standardize_inputs=standardize,
        train_episode_fraction=1.0, shuffle_outcomes=False,
        precision="32-true",
        accelerator="cpu", seed=0, log_every_n_steps=20, val_every_n_steps=100, early_stop_patience=0, early_stop_min_delta=0.0,
        complement_outcomes=False, diagnostic_goals_per_transition=2,
    )
    metrics = fit(data, cfg, tmp_path)

    critic = load_critic(tmp_path / "critic.ckpt", expected_embedder_id=data.embedder_id)
    s0, thought_a, thought_b = data.embeddings[[0]], data.embeddings[[1]], data.embeddings[[2]]
    goal_x = data.outcome_goals[[0]]
    q_a = float(critic.q(s0, thought_a, goal_x)[0])
    q_b = float(critic.q(s0, thought_b, goal_x)[0])
    assert q_a < q_b
    assert abs(q_a - 0.3) < 0.1 and abs(q_b - 0.8) < 0.1

    for name in ("critic.ckpt", "metrics.json", "curves.csv", "loss_curves.png", "reliability.png", "logs/metrics.csv"):
        assert (tmp_path / name).is_file(), name
    on_disk = json.loads((tmp_path / "metrics.json").read_text())
    assert on_disk["train"]["updates"] == 300
    goal = on_disk["outcome_goals"]["per_goal"][0]
    assert goal["goal"] == "X happens."
    # held-out: Q of X separates the thoughts (ideal AUC with two probabilities 0.3 / 0.8 is ~0.75)
    assert goal["auc"] > 0.65 and goal["ece"] < 0.15
    assert np.isclose(metrics["outcome_goals"]["auc_mean"], goal["auc"])
    header = (tmp_path / "logs" / "metrics.csv").read_text().splitlines()[0]
    assert "train/v_loss" in header and "train/q_loss" in header and "val/v_loss" in header
