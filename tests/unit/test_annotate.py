"""Annotation: transitions over embedded texts, with outcomes settled where the environment says so."""

from pathlib import Path

import numpy as np
import pytest

from pnlc.agents.methods import make_agent
from pnlc.agents.runner import EpisodeMeta, run_episode
from pnlc.config import load_params
from pnlc.embed.hashing import HashingEmbedder
from pnlc.pipeline.annotate import build_transitions, settled_outcomes
from pnlc.pipeline.factory import agent_config, make_env, make_policy
from pnlc.pipeline.generate import with_goal_outcomes


@pytest.fixture(scope="module")
def params():
    return load_params(Path(__file__).resolve().parents[2] / "params.yaml")


def play(params, env_name, seed):
    env = make_env(params, env_name)
    agent = make_agent("react", make_policy(params, env_name), None, agent_config(params, env_name))
    ep = run_episode(env, agent, env.tasks("train")[seed % 5], seed, EpisodeMeta("sim", "sim-prior", 100))
    return with_goal_outcomes(ep, env), env


def test_avalon_settles_each_quest_when_it_is_played_with_its_final_value(params):
    for seed in range(4):
        ep, env = play(params, "avalon", seed)
        final = ep.info["goal_outcomes"]
        seen: list[str] = []
        for step in ep.steps:
            seen += step.info["decided"]
        assert sorted(seen) == sorted(final)  # each outcome settles exactly once, all by the end
        first = next(t for t, st in enumerate(ep.steps) if "Quest 1 fails." in st.info["decided"])
        assert first < len(ep.steps) - 1  # quest 1 is played long before the game ends
        assert "Quest 1 " in ep.steps[first + 1].state_summary  # and the next summary says so


def test_settled_outcomes_and_the_transition_table(params):
    episodes = [play(params, "avalon", seed)[0] for seed in range(3)]
    goals = {g: i for i, g in enumerate(episodes[0].info["goal_outcomes"])}
    table = settled_outcomes(episodes[0], goals)
    assert table.shape == (len(episodes[0].steps), len(goals)) and table[-1].all()
    q1 = goals["Quest 1 fails."]
    assert not table[0, goals["Good wins the game."]] and table[:, q1].any() and not table[:, q1].all()
    texts = [([s.state_summary for s in ep.steps], ep.final_summary) for ep in episodes]
    data, _ = build_transitions(episodes, texts, HashingEmbedder(dim=32, seed=0), 1.0)
    assert data.outcome_decided.shape == (data.num_transitions, data.num_outcome_goals)
    assert np.array_equal(data.outcome_decided[: len(episodes[0].steps)],
                          table[:, [goals[g] for g in data.outcome_goal_texts]])


def test_environments_that_report_nothing_settle_everything_at_the_end(params):
    ep, _ = play(params, "persuasion", 3)
    goals = {g: i for i, g in enumerate(ep.info["goal_outcomes"])}
    table = settled_outcomes(ep, goals)
    assert table[-1].all() and not table[:-1].any()
