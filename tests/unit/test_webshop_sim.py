"""The simulated shopper: thoughts drive actions, refine reads the value text, lessons shift behaviour."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pnlc.agents.roles import DecisionContext, Policy
from pnlc.agents.sim.webshop import (
    LESSON_OPTIONS,
    LESSON_PRODUCT,
    make_sim_policy,
    parse_instruction,
    thought_kind,
)
from pnlc.critic.render import render_value
from pnlc.envs.webshop import (
    GOAL_OUTCOMES,
    OUTCOME_MISSING_OPTIONS,
    OUTCOME_OPTIONS,
    OUTCOME_SUCCESS,
    WebShopConfig,
    load_catalogue,
    make_env,
)

CFG = WebShopConfig(
    catalogue="generated", n_generated_products=200, n_test_goals=20, max_steps=15, seed=0,
    max_goals_per_product=10, human_instructions=True, bm25_k1=0.9, bm25_b=0.4,
)
REAL = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "webshop"


def _play_episode(env, policy, task_id, seed, notes=()):
    obs = env.reset(task_id, seed)
    policy.begin_episode(task_id, seed)
    history: tuple[tuple[str, str], ...] = ()
    while True:
        ctx = DecisionContext(env="webshop", observation=obs, summary=env.describe(), history=history, notes=notes)
        thought = policy.propose_thought(ctx)
        action = policy.act(ctx, thought)
        tr = env.step(action)
        history += ((thought, action),)
        obs = tr.observation
        if tr.done:
            return env.metric(), history


def _ctx(env, obs, notes=()):
    return DecisionContext(env="webshop", observation=obs, summary=env.describe(), notes=notes)


def _target_item_page(env, tid):
    """Open a goal's target product (test set-up only; the goal is read here, not by the prior)."""
    cat = load_catalogue(CFG)
    goal = cat.goal(tid)
    env.reset(tid, 0)
    tr = env.step(f"search[{cat.by_asin[goal.asin].title}]")
    while goal.asin not in tr.observation.view["clickables"]:
        tr = env.step("click[Next >]")
    return env.step(f"click[{goal.asin}]").observation, goal


def _two_option_task():
    cat = load_catalogue(CFG)
    for g in cat.goals:
        if len(cat.by_asin[g.asin].options) == 2:
            return f"goal-{g.index}"
    raise AssertionError("no goal with two option groups")


def test_prior_plays_valid_deterministic_episodes():
    env, prior = make_env(CFG), make_sim_policy(CFG, "prior")
    assert isinstance(prior, Policy) and prior.name == "sim-webshop-prior"
    rewards = []
    for i, tid in enumerate(env.tasks("test")):
        r, hist = _play_episode(env, prior, tid, seed=i)
        rewards.append(r)
        assert all(thought and thought_kind(thought) != "other" for thought, _ in hist)
        assert hist[0][1].startswith("search[")
    again = [_play_episode(env, prior, tid, seed=i)[0] for i, tid in enumerate(env.tasks("test"))]
    assert again == rewards
    assert 0.2 < np.mean(rewards) < 0.95 and min(rewards) < 1.0


def test_oracle_is_privileged_and_near_perfect():
    env, oracle = make_env(CFG), make_sim_policy(CFG, "oracle")
    assert "privileged" in oracle.name
    rewards = [_play_episode(env, oracle, tid, seed=i)[0] for i, tid in enumerate(env.tasks("test"))]
    assert np.mean(rewards) > 0.95


def test_act_follows_the_thought_it_is_given():
    env, prior = make_env(CFG), make_sim_policy(CFG, "prior")
    tid = _two_option_task()
    obs = env.reset(tid, 0)
    prior.begin_episode(tid, 0)
    assert prior.act(_ctx(env, obs), "Search for 'women's leggings' with the product type.") == "search[women's leggings]"
    obs, goal = _target_item_page(env, tid)
    ctx = _ctx(env, obs)
    (name, value), (name2, value2) = goal.options
    assert prior.act(ctx, f"Select {name} {value} before buying.") == f"click[{value}]"
    assert prior.act(ctx, "Buy now.") == "click[Buy Now]"
    assert prior.act(ctx, "Check the features before buying.") == "click[Features]"
    assert prior.act(ctx, "Go back to the results and pick a result that matches more words.") == "click[< Prev]"
    env.step("click[< Prev]")
    obs = env._observation()
    first = obs.view["results"][0]["asin"]
    assert prior.act(_ctx(env, obs), "Open the first result.") == f"click[{first}]"
    assert prior.act(_ctx(env, obs), f"Open {goal.asin.lower()}, it looks right.") == f"click[{goal.asin}]"


def test_the_thought_decides_the_outcome():
    """Buying before selecting every requested option leaves options missing; selecting first does not."""
    env, prior = make_env(CFG), make_sim_policy(CFG, "prior")
    tid = _two_option_task()
    obs, goal = _target_item_page(env, tid)
    env.step(prior.act(_ctx(env, obs), "Buy now."))
    assert env.goal_outcomes()[OUTCOME_MISSING_OPTIONS]
    obs, goal = _target_item_page(env, tid)
    for name, value in goal.options:
        obs = env.step(prior.act(_ctx(env, obs), f"Select {name} {value} before buying.")).observation
    env.step(prior.act(_ctx(env, obs), "Buy now."))
    assert env.goal_outcomes()[OUTCOME_OPTIONS] and env.goal_outcomes()[OUTCOME_SUCCESS]


def test_refine_avoids_a_likely_bad_outcome():
    env, prior = make_env(CFG), make_sim_policy(CFG, "prior")
    tid = _two_option_task()
    obs, goal = _target_item_page(env, tid)
    prior.begin_episode(tid, 0)
    ctx = _ctx(env, obs)
    risky = render_value([OUTCOME_OPTIONS], [OUTCOME_MISSING_OPTIONS], [0.2, 0.8])
    better = prior.refine(ctx, "Buy now.", risky)
    name, value = goal.options[0]
    assert better == f"Select {name} {value} before buying."
    assert prior.act(ctx, better) == f"click[{value}]"
    safe = render_value([OUTCOME_OPTIONS], [OUTCOME_MISSING_OPTIONS], [0.9, 0.1])
    assert prior.refine(ctx, "Buy now.", safe) is None
    assert prior.refine(ctx, "Buy now.", "no value lines here") is None


def test_refine_on_results_opens_the_best_matching_result():
    env, prior = make_env(CFG), make_sim_policy(CFG, "prior")
    tid = env.tasks("test")[3]
    obs = env.reset(tid, 0)
    prior.begin_episode(tid, 0)
    req = parse_instruction(obs.view["instruction"])
    obs = env.step(f"search[{' '.join(req.keywords)}]").observation
    value = render_value([OUTCOME_SUCCESS], ["The purchased item is the wrong type of product."], [0.1, 0.9])
    alt = prior.refine(_ctx(env, obs), "Open the first result.", value)
    assert alt is None or thought_kind(alt) == "open"


def test_goal_roles():
    env, prior = make_env(CFG), make_sim_policy(CFG, "prior")
    tid = env.tasks("test")[0]
    obs = env.reset(tid, 0)
    prior.begin_episode(tid, 0)
    ctx = _ctx(env, obs)
    goals = prior.propose_goals(ctx, "Buy now.", 2, 2)
    assert len(goals.positive) == 2 and len(goals.negative) == 2
    assert set(goals.all) <= set(GOAL_OUTCOMES)
    assert goals.positive[0] == OUTCOME_OPTIONS and goals.negative[0] == OUTCOME_MISSING_OPTIONS
    est = prior.estimate_goals(ctx, "Buy now.", list(goals.all))
    assert all(0 <= p <= 1 for p in est) and np.mean(est[:2]) > np.mean(est[2:])
    assert 0.0 <= prior.estimate_value(ctx) <= 1.0
    assert prior.reflect("bought X. " + OUTCOME_MISSING_OPTIONS, "Score: 0.60.") == LESSON_OPTIONS


def test_a_lesson_in_notes_shifts_behaviour():
    """With the options lesson the prior forgets requested options less often (same seeds)."""
    env, prior = make_env(CFG), make_sim_policy(CFG, "prior")
    tid = _two_option_task()
    obs, goal = _target_item_page(env, tid)

    def selects(notes):
        n = 0
        for seed in range(200):
            prior.begin_episode(tid, seed)
            prior.mem.inspect_plan[goal.asin] = None
            n += thought_kind(prior.propose_thought(_ctx(env, obs, notes))) == "select"
        return n

    assert selects((LESSON_OPTIONS,)) > selects(()) > 100
    assert selects((LESSON_PRODUCT,)) == selects(())


@pytest.mark.realdata
def test_prior_scores_in_the_target_band_on_real_test_goals():
    if not REAL.exists():
        pytest.skip(f"real WebShop data not found at {REAL}")
    cfg = WebShopConfig(catalogue=str(REAL), n_generated_products=1000, n_test_goals=100, max_steps=15, seed=0,
                        max_goals_per_product=10, human_instructions=True, bm25_k1=0.9, bm25_b=0.4)
    env, prior = make_env(cfg), make_sim_policy(cfg, "prior")
    rewards = [_play_episode(env, prior, tid, seed=i)[0] for i, tid in enumerate(env.tasks("test"))]
    assert 35 <= 100 * np.mean(rewards) <= 65
