"""Goal relabeling, the episode split, the transition-data contract and the config of pnlc.value."""

import dataclasses

import numpy as np
import pytest
import torch

from pnlc.value.config import ConfigError, GoalMixture, TrainConfig
from pnlc.value.data import TransitionData, TransitionDataError, load_npz, save_npz
from pnlc.value.datamodule import TransitionDataModule, split_episodes
from pnlc.value.relabel import FINAL, FUTURE, OTHER_EPISODE, OUTCOME, relabeled_batch, sample_goals, split_tensors
from pnlc.value.synthetic import random_transition_data


def make_cfg(**kw) -> TrainConfig:
    base = dict(
        hidden_sizes=(16,), expectile=0.8, discount=0.9, target_update_rate=0.05, learning_rate=1e-3,
        weight_decay=0.0, batch_size=64, max_steps=10,
        goal_mixture=GoalMixture(future=0.4, final=0.3, other_episode=0.2, outcome=0.1),
        goal_match_threshold=0.95, val_fraction=0.25, goal_conditioned=True, standardize_inputs=False, precision="32-true",
        train_episode_fraction=1.0, shuffle_outcomes=False,
        accelerator="cpu", seed=0, log_every_n_steps=5, val_every_n_steps=5, early_stop_patience=0, early_stop_min_delta=0.0,
        complement_outcomes=False, diagnostic_goals_per_transition=2,
    )
    base.update(kw)
    return TrainConfig(**base)


def sample(split, mixture, n, seed=0, discount=0.9, threshold=0.95):
    gen = torch.Generator().manual_seed(seed)
    index = torch.randint(split.num_transitions, (n,), generator=gen)
    out = sample_goals(split, index, mixture, discount, threshold, gen)
    return index, {k: v for k, v in out.items()}


@pytest.fixture(scope="module")
def data():
    return random_transition_data(num_transitions=1200, episode_length=12, dim=32, num_outcome_goals=3, seed=1)


@pytest.fixture(scope="module")
def split(data):
    return split_tensors(data, np.arange(data.num_episodes))


def test_goal_kind_proportions(split):
    mixture = GoalMixture(future=0.4, final=0.3, other_episode=0.2, outcome=0.1)
    _, out = sample(split, mixture, 40_000)
    freq = np.bincount(out["kind"].numpy(), minlength=4) / 40_000
    assert np.allclose(freq[[FUTURE, FINAL, OTHER_EPISODE, OUTCOME]], [0.4, 0.3, 0.2, 0.1], atol=0.01)
    # a kind with proportion 0 never appears, even at the end of the cumulative range
    _, out = sample(split, GoalMixture(future=0.7, final=0.0, other_episode=0.3, outcome=0.0), 20_000)
    assert set(out["kind"].unique().tolist()) == {FUTURE, OTHER_EPISODE}


def test_relabeling_is_seeded(split):
    mixture = GoalMixture(future=0.25, final=0.25, other_episode=0.25, outcome=0.25)
    a = sample(split, mixture, 500, seed=3)[1]
    b = sample(split, mixture, 500, seed=3)[1]
    c = sample(split, mixture, 500, seed=4)[1]
    assert torch.equal(a["goal_row"], b["goal_row"]) and torch.equal(a["reward"], b["reward"])
    assert not torch.equal(a["goal_row"], c["goal_row"])


def test_future_goals_same_episode_geometric_offset_and_reward(split):
    index, out = sample(split, GoalMixture(1.0, 0.0, 0.0, 0.0), 30_000, discount=0.5)
    j = out["goal_transition"]
    assert (split.episode[j] == split.episode[index]).all()
    assert ((j >= index) & (j <= split.episode_end[index])).all()
    assert torch.equal(out["goal_row"], split.next_state[j])
    # reward exactly when the goal is s_{t+1} itself (random texts never match by cosine)
    assert torch.equal(out["reward"], (j == index).float())
    assert (out["discount"] == 0.5).all()
    # offset k = j - i + 1 is geometric in the discount: P(k = 1) = 0.5, P(k = 2) = 0.25 (unclipped)
    far = split.episode_end[index] - index >= 5
    k = (j - index + 1)[far]
    assert (k == 1).float().mean().item() == pytest.approx(0.5, abs=0.02)
    assert (k == 2).float().mean().item() == pytest.approx(0.25, abs=0.02)


def test_final_goals_reward_only_at_the_last_step(split):
    index, out = sample(split, GoalMixture(0.0, 1.0, 0.0, 0.0), 5_000)
    end = split.episode_end[index]
    assert torch.equal(out["goal_transition"], end)
    assert torch.equal(out["reward"], (index == end).float())
    assert out["reward"].sum() > 0


def test_other_episode_goals_never_reward_without_a_cosine_match(split):
    index, out = sample(split, GoalMixture(0.0, 0.0, 1.0, 0.0), 10_000)
    assert (split.episode[out["goal_transition"]] != split.episode[index]).all()
    assert (out["reward"] == 0).all()


def test_other_episode_goal_rewards_when_it_matches_by_cosine():
    """Two episodes whose states are near-copies of each other: the match is by cosine only."""
    rng = np.random.default_rng(0)
    base = rng.standard_normal((4, 16)).astype(np.float32)
    noisy = base + 0.05 * rng.standard_normal((4, 16)).astype(np.float32)
    emb = np.concatenate([base, noisy, rng.standard_normal((2, 16)).astype(np.float32)])
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    data = TransitionData(
        embeddings=emb,
        state=np.array([0, 1, 2, 4, 5, 6]), thought=np.array([8, 8, 8, 9, 9, 9]),
        next_state=np.array([1, 2, 3, 5, 6, 7]), episode=np.array([0, 0, 0, 1, 1, 1]),
        step=np.array([0, 1, 2, 0, 1, 2]), terminal=np.array([False, False, True] * 2),
        outcome_goals=np.zeros((0, 16), np.float32), outcome_labels=np.zeros((2, 0), np.float32),
        success=np.array([1.0, 0.0], np.float32), outcome_goal_texts=(), embedder_id="test",
    )
    split = split_tensors(data, np.array([0, 1]))
    index, out = sample(split, GoalMixture(0.0, 0.0, 1.0, 0.0), 2_000, threshold=0.95)
    cos = (split.goal_table[split.next_state[index]] * split.goal_table[out["goal_row"]]).sum(-1)
    assert torch.equal(out["reward"], (cos >= 0.95).float())
    assert 0 < out["reward"].mean() < 1
    _, strict = sample(split, GoalMixture(0.0, 0.0, 1.0, 0.0), 2_000, threshold=0.99999)
    assert (strict["reward"] == 0).all()


def test_outcome_goals_reward_labels_at_the_end_undiscounted(split, data):
    index, out = sample(split, GoalMixture(0.0, 0.0, 0.0, 1.0), 5_000)
    k = out["goal_row"] - split.num_texts
    assert ((k >= 0) & (k < 3)).all()
    expected = split.outcome_labels[split.episode[index], k] * split.terminal[index]
    assert torch.equal(out["reward"], expected)  # nothing settles before the end in this data
    assert torch.equal(out["terminal"], split.terminal[index])
    assert (out["discount"] == 1.0).all()
    assert torch.equal(out["goal"], torch.from_numpy(data.outcome_goals)[k])


def test_an_outcome_settled_mid_episode_rewards_and_ends_the_bootstrap_from_then_on(data):
    decided = np.repeat(data.terminal[:, None], 3, axis=1)
    decided[:, 0] |= data.step >= 4  # outcome 0 (say "Quest 1 fails.") is settled from step 4 on
    settled = dataclasses.replace(data, outcome_decided=decided)
    split = split_tensors(settled, np.arange(settled.num_episodes))
    index, out = sample(split, GoalMixture(0.0, 0.0, 0.0, 1.0), 8_000)
    k = out["goal_row"] - split.num_texts
    step = torch.from_numpy(settled.step)[index]
    label = split.outcome_labels[split.episode[index], k]
    early, late = (k == 0) & (step < 4), (k == 0) & (step >= 4)
    assert early.any() and late.any()
    assert (out["reward"][early] == 0).all() and (out["terminal"][early] == split.terminal[index][early]).all()
    assert torch.equal(out["reward"][late], label[late]) and (out["terminal"][late] == 1).all()
    other = k != 0  # the other outcomes still settle at the end only
    assert torch.equal(out["reward"][other], (label * split.terminal[index])[other])
    batch = relabeled_batch(split, index, GoalMixture(0.0, 0.0, 0.0, 1.0), 0.9, 0.95, True, torch.Generator().manual_seed(0))
    assert batch["terminal"].shape == index.shape


def test_monte_carlo_targets_are_the_outcome_at_the_episode_end_on_outcome_rows_only(split):
    mixture = GoalMixture(future=0.4, final=0.2, other_episode=0.1, outcome=0.3)
    gen = torch.Generator().manual_seed(5)
    index = torch.randint(split.num_transitions, (4_000,), generator=gen)
    batch = relabeled_batch(split, index, mixture, 0.9, 0.95, True, torch.Generator().manual_seed(6))
    again = sample_goals(split, index, mixture, 0.9, 0.95, torch.Generator().manual_seed(6))
    outcome = again["kind"] == OUTCOME
    assert torch.equal(batch["mc_mask"], outcome.float()) and 0.2 < batch["mc_mask"].mean() < 0.4
    k = again["goal_row"] - split.num_texts
    label = split.outcome_labels[split.episode[index], k.clamp(0, 2)]
    # the label whatever the step: the reward is 0 before the outcome settles, the return is not
    assert torch.equal(batch["mc_target"][outcome], label[outcome])
    assert (batch["reward"][outcome] != batch["mc_target"][outcome]).any()


def test_outcome_decided_must_hold_at_the_end_and_never_unsettle(data):
    decided = np.repeat(data.terminal[:, None], 3, axis=1)
    assert np.array_equal(data.outcome_decided, decided)  # the default: settled at the last transition
    with pytest.raises(TransitionDataError, match="true for every outcome at an episode's last transition"):
        dataclasses.replace(data, outcome_decided=np.zeros_like(decided))
    flicker = decided.copy()
    flicker[2, 1] = True  # settled at step 2, unsettled at step 3
    with pytest.raises(TransitionDataError, match="turns false again"):
        dataclasses.replace(data, outcome_decided=flicker)


def test_scalar_critic_batch_predicts_success(split):
    cfg = make_cfg(goal_conditioned=False)
    index = torch.arange(split.num_transitions)
    batch = relabeled_batch(split, index, cfg.goal_mixture, cfg.discount, cfg.goal_match_threshold,
                            False, torch.Generator().manual_seed(0))
    assert "goal" not in batch
    assert torch.equal(batch["reward"], split.success[split.episode] * split.terminal)
    assert (batch["discount"] == 1.0).all()
    assert torch.equal(batch["mc_target"], split.success[split.episode]) and (batch["mc_mask"] == 1).all()


def test_split_by_episode_is_disjoint_complete_and_seeded(data):
    train, val = split_episodes(100, 0.2, seed=7)
    assert len(val) == 20 and len(train) == 80
    assert not set(train) & set(val) and set(train) | set(val) == set(range(100))
    again = split_episodes(100, 0.2, seed=7)
    assert np.array_equal(train, again[0]) and not np.array_equal(val, split_episodes(100, 0.2, seed=8)[1])
    dm = TransitionDataModule(data, make_cfg())
    dm.setup("fit")
    train_eps = set(data.episode[np.isin(data.episode, dm.train_split.episode_ids)])
    val_eps = set(dm.val_split.episode_ids.tolist())
    assert not train_eps & val_eps
    assert dm.train_split.num_transitions + dm.val_split.num_transitions == data.num_transitions


def test_npz_round_trip_and_errors(tmp_path, data):
    path = tmp_path / "t.npz"
    save_npz(path, data)
    back = load_npz(path)
    for f in dataclasses.fields(TransitionData):
        a, b = getattr(data, f.name), getattr(back, f.name)
        assert np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b
    arrays = dict(np.load(path))
    del arrays["next_state"]
    np.savez(tmp_path / "missing.npz", **arrays)
    with pytest.raises(TransitionDataError, match=r"missing\.npz.*next_state"):
        load_npz(tmp_path / "missing.npz")
    arrays = dict(np.load(path))
    arrays["success"] = arrays["success"][:-1]
    np.savez(tmp_path / "shape.npz", **arrays)
    with pytest.raises(TransitionDataError, match=r"shape\.npz.*'success'"):
        load_npz(tmp_path / "shape.npz")
    arrays = dict(np.load(path))
    del arrays["outcome_decided"]  # a file from before outcomes could settle mid-episode
    np.savez(tmp_path / "older.npz", **arrays)
    assert np.array_equal(load_npz(tmp_path / "older.npz").outcome_decided, data.outcome_decided)


def test_unsorted_or_unterminated_episodes_are_rejected(data):
    with pytest.raises(TransitionDataError, match="sorted"):
        dataclasses.replace(data, episode=data.episode[::-1].copy())
    with pytest.raises(TransitionDataError, match="not terminal"):
        dataclasses.replace(data, terminal=np.zeros_like(data.terminal))
    broken = data.next_state.copy()
    broken[0] += 5
    with pytest.raises(TransitionDataError, match="transition 0 has next_state"):
        dataclasses.replace(data, next_state=broken)
    with pytest.raises(TransitionDataError, match="L2-normalised"):
        dataclasses.replace(data, embeddings=data.embeddings * 2)


def test_config_validation():
    with pytest.raises(ConfigError, match="sum to"):
        GoalMixture(future=0.5, final=0.3, other_episode=0.3, outcome=0.0)
    with pytest.raises(ConfigError, match="expectile"):
        make_cfg(expectile=1.0)
    with pytest.raises(ConfigError, match="outcome_mc_weight"):
        make_cfg(outcome_mc_weight=-0.5)
    with pytest.raises(ConfigError, match="outcome_mc_goals.*sampled or every"):
        make_cfg(outcome_mc_goals="all")
    with pytest.raises(ConfigError, match="outcome_mc_loss.*squared or log"):
        make_cfg(outcome_mc_loss="bce")
    cfg = make_cfg()
    assert TrainConfig.from_dict(cfg.to_dict()) == cfg
    bad = cfg.to_dict() | {"tau": 0.005}
    with pytest.raises(ConfigError, match="unknown keys \\['tau'\\]"):
        TrainConfig.from_dict(bad)


def test_mixture_that_the_data_cannot_serve_is_an_error(data):
    no_outcomes = dataclasses.replace(
        data, outcome_goals=np.zeros((0, 32), np.float32),
        outcome_labels=np.zeros((data.num_episodes, 0), np.float32), outcome_goal_texts=(), outcome_decided=None)
    dm = TransitionDataModule(no_outcomes, make_cfg())
    with pytest.raises(ValueError, match="goal_mixture.outcome"):
        dm.setup("fit")
