"""The Monte-Carlo outcome ceiling: replay checks, fresh randomness per rollout, decided outcomes, scoring."""

import dataclasses
import json

from pathlib import Path

import numpy as np
import pytest

from pnlc.agents.methods import make_agent
from pnlc.agents.runner import EpisodeMeta, run_episode
from pnlc.config import ConfigError, load_params
from pnlc.envs.base import EnvError
from pnlc.evaluation.ceiling import CeilingError, RolloutConfig, rollout_probabilities
from pnlc.pipeline.ceiling import ceiling
from pnlc.pipeline.factory import agent_config, make_env, make_policy
from pnlc.pipeline.generate import with_goal_outcomes


@pytest.fixture(scope="module")
def params():
    return load_params(Path(__file__).resolve().parents[2] / "params.yaml")


def play(params, env_name, task_index=0, seed=11):
    env = make_env(params, env_name)
    agent = make_agent("react", make_policy(params, env_name), None, agent_config(params, env_name))
    task = env.tasks("train")[task_index]
    ep = run_episode(env, agent, task, seed, EpisodeMeta("sim", "sim-prior", 100))
    return with_goal_outcomes(ep, env)


def test_reseed_gives_each_rollout_fresh_randomness_and_the_same_seed_the_same_game(params):
    env = make_env(params, "avalon")
    policy = make_policy(params, "avalon")
    from pnlc.evaluation.ceiling import finish

    obs = env.reset("train-00003", 5)
    ends = []
    for seed in (1, 1, 2, 3, 4, 5, 6, 7):
        twin = env.clone()
        twin.reseed(seed)
        policy.begin_episode("train-00003", seed)
        finish(twin, policy, obs, (), 100)
        ends.append(twin.describe())
    assert ends[0] == ends[1]
    assert len(set(ends[1:])) > 1
    assert env.game is not None and not env.game.done  # clones never touch the original


def test_outcomes_already_decided_get_probability_zero_or_one(params):
    ep = play(params, "avalon")
    goals = list(ep.info["goal_outcomes"])
    env = make_env(params, "avalon")
    probs = rollout_probabilities(env, make_policy(params, "avalon"), ep, goals, RolloutConfig(8, 0, 100), 0)
    assert probs.shape == (len(ep.steps), len(goals))
    assert np.all((probs >= 0) & (probs <= 1))
    q1 = goals.index("Quest 1 fails.")
    # once quest 1 has been played, its result is part of the state: every rollout agrees with it
    decided = [t for t, st in enumerate(ep.steps) if "Quest 1 " in st.state_summary]
    assert decided, "the game should reach quest 2"
    truth = float(ep.info["goal_outcomes"]["Quest 1 fails."])
    assert np.all(probs[decided, q1] == truth)
    # complementary goals are complementary in every rollout
    good, evil = goals.index("Good wins the game."), goals.index("Evil wins the game.")
    assert np.allclose(probs[:, good] + probs[:, evil], 1.0)
    # rollouts are seeded: the same config gives the same estimates
    again = rollout_probabilities(env, make_policy(params, "avalon"), ep, goals, RolloutConfig(8, 0, 100), 0)
    assert np.array_equal(probs, again)


def test_an_episode_the_environment_does_not_reproduce_is_refused(params):
    ep = play(params, "avalon")
    steps = list(ep.steps)
    steps[2] = dataclasses.replace(steps[2], state_summary="Good has 3 successes, evil 0.")
    bad = dataclasses.replace(ep, steps=tuple(steps))
    with pytest.raises(CeilingError, match=r"episode react/train-00000/seed11 step 2: replaying"):
        rollout_probabilities(make_env(params, "avalon"), make_policy(params, "avalon"), bad,
                              ["Good wins the game."], RolloutConfig(2, 0, 100), 0)


def test_a_rollout_that_never_ends_is_an_error_not_a_skip(params):
    ep = play(params, "avalon")
    with pytest.raises(CeilingError, match="step 0: a rollout did not finish within 1 decisions"):
        rollout_probabilities(make_env(params, "avalon"), make_policy(params, "avalon"), ep,
                              ["Good wins the game."], RolloutConfig(1, 0, 1), 0)


def test_every_environment_can_be_reseeded_and_one_without_reseed_is_refused(params):
    from pnlc.envs.base import Reseedable

    assert all(isinstance(make_env(params, name), Reseedable) for name in ("avalon", "webshop", "persuasion"))

    class Plain:
        name = "plain"

    with pytest.raises(CeilingError, match="'plain' cannot draw fresh randomness"):
        rollout_probabilities(Plain(), None, play(params, "avalon"), ["Good wins the game."], RolloutConfig(1, 0, 5), 0)


def test_reseed_needs_a_started_episode_and_a_simulated_counterpart(params):
    with pytest.raises(EnvError, match="reset"):
        make_env(params, "webshop").reseed(0)
    with pytest.raises(EnvError, match="reset"):
        make_env(params, "persuasion").reseed(0)
    env = make_env(params, "persuasion")
    env.reset(env.tasks("train")[0], 0)
    env.reseed(1)
    env._donor = object()  # what an LLM donor looks like to reseed: not the simulated one
    with pytest.raises(EnvError, match="LLM donor cannot be re-randomised"):
        env.reseed(2)


@pytest.mark.parametrize("env_name", ["webshop", "persuasion"])
def test_rollouts_run_on_the_other_environments(params, env_name):
    ep = play(params, env_name, seed=3)
    goals = list(ep.info["goal_outcomes"])
    probs = rollout_probabilities(make_env(params, env_name), make_policy(params, env_name), ep, goals,
                                  RolloutConfig(3, 0, 100), 0)
    assert probs.shape == (len(ep.steps), len(goals)) and np.all((probs >= 0) & (probs <= 1))


def test_score_goals_reports_auc_ece_and_phases():
    pred = np.array([[0.9, 0.1], [0.8, 0.2], [0.2, 0.8], [0.1, 0.9], [0.7, 0.3], [0.3, 0.7]])
    label = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [1, 0], [0, 1]], dtype=float)
    phase = np.array([0, 1, 2, 0, 1, 2])
    from pnlc.value.diagnostics import score_outcome_goals

    out = score_outcome_goals(["A.", "B."], pred, label, phase)
    assert [g["goal"] for g in out["per_goal"]] == ["A.", "B."]
    assert out["per_goal"][0]["auc"] == 1.0 and out["auc_mean"] == 1.0
    assert out["per_goal"][0]["by_phase"]["early"]["auc"] == 1.0
    assert out["pooled"]["n"] == 12


def test_the_ceiling_phase_scores_the_critic_split_and_refuses_llm_backends(params, tmp_path):
    from pnlc.data import write_jsonl
    from pnlc.value.datamodule import split_episodes

    eps = [play(params, "avalon", task_index=i, seed=20 + i) for i in range(5)]
    shard = tmp_path / "shard0.jsonl"
    write_jsonl(shard, eps)
    raw = dict(params.raw)
    raw["train"] = {**raw["train"], "ceiling": {"rollouts": 2, "seed": 0}}
    small = dataclasses.replace(params, raw=raw)
    out = tmp_path / "ceiling" / "seed0.json"
    result = ceiling(small, "avalon", [shard], 0, out)
    on_disk = json.loads(out.read_text())
    _, val = split_episodes(5, params.raw["train"]["critic"]["val_fraction"], 0)
    assert on_disk["heldout_episodes"] == len(val) == result["heldout_episodes"]
    assert on_disk["heldout_transitions"] == sum(len(eps[i].steps) for i in val)
    assert on_disk["rollouts"] == 2 and "upper bound" in on_disk["what"]
    assert {g["goal"] for g in on_disk["outcome_goals"]["per_goal"]} == set(eps[0].info["goal_outcomes"])
    with pytest.raises(ConfigError, match="only with backend: sim"):
        ceiling(dataclasses.replace(small, raw={**raw, "backend": "anthropic"}), "avalon", [shard], 0, out)
