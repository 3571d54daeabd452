"""The simulated shopper: one repertoire for propose and refine, a null critic changes nothing, an
informative critic helps, the oracle is a class of its own, and every knob is validated."""

from __future__ import annotations

import copy
import dataclasses
import inspect
from pathlib import Path

import numpy as np
import pytest
import yaml

from pnlc.agents.methods import AgentConfig, make_agent
from pnlc.agents.roles import DecisionContext, GoalSet, Policy
from pnlc.agents.runner import EpisodeMeta, play_on, run_episode
from pnlc.agents.sim import webshop as W
from pnlc.agents.sim.webshop import player, reading, repertoire, shopper
from pnlc.config import ConfigError, build, load_params, validate
from pnlc.critic.render import render_value
from pnlc.envs.webshop import GOAL_OUTCOMES, POSITIVE_OUTCOMES, WebShopConfig, make_env
from pnlc.envs.webshop.env import outcome_flags

ROOT = Path(__file__).resolve().parents[2]
REAL = ROOT.parent / "shared" / "data" / "webshop"
CFG = WebShopConfig(
    catalogue="generated", n_generated_products=200, n_test_goals=40, max_steps=15, seed=0,
    max_goals_per_product=10, human_instructions=True, bm25_k1=0.9, bm25_b=0.4,
)
RAW = load_params(ROOT / "params.yaml").raw["agents"]["sim"]["webshop"]
KNOBS = build(W.PARAMS_TYPE, RAW, "agents.sim.webshop")
AGENT = AgentConfig(n_pos=2, n_neg=2, refine_rounds=2, best_of_n=3, reflexion_trials=2,
                    reflexion_stop_on_success=True, lats_branching=2, lats_depth=1, lats_exploration=1.0,
                    lats_reward_weight=1.0, metric_scale=1.0)
META = EpisodeMeta(backend="sim", model="sim-prior", max_steps=CFG.max_steps)


class FixedCritic:
    """A critic that reads the same for every draft: `level(goal)` whatever the state and thought."""

    goal_conditioned = True
    embedder_id = "none"

    def __init__(self, level) -> None:
        self.level = level
        self.total_ms = 0.0

    def score(self, summary, thoughts, goals):
        return np.array([[self.level(g) for g in goals] for _ in thoughts])

    def render(self, goals: GoalSet, probs) -> str:
        return render_value(goals.positive, goals.negative, [float(p) for p in np.asarray(probs).reshape(-1)])


class RolloutCritic(FixedCritic):
    """Test-only, PRIVILEGED: P(goal | state, thought) from rollouts of the live environment's state,
    the thought carried out and the episode finished by a copy of the prior with fresh randomness."""

    def __init__(self, env, prior, rollouts: int) -> None:
        super().__init__(None)
        self.env, self.prior, self.rollouts = env, prior, rollouts
        self.calls = 0

    def score(self, summary, thoughts, goals):
        out = []
        for thought in thoughts:
            hits = np.zeros(len(goals))
            for r in range(self.rollouts):
                self.calls += 1
                env, pol = self.env.clone(), copy.deepcopy(self.prior)
                pol.rngs = {s: np.random.default_rng([self.calls, i]) for i, s in enumerate(pol.rngs)}
                obs = self.obs
                ctx = DecisionContext(env="webshop", observation=obs, summary=summary)
                tr = env.step(pol.act(ctx, thought))
                if not tr.done:
                    play_on(env, pol, tr.observation, ())
                flags = outcome_flags(env._state().breakdown)
                hits += [flags[g] for g in goals]
            out.append(hits / self.rollouts)
        return np.array(out)


def episode(method, critic, tid, seed, prior=None, env=None):
    env = env or make_env(CFG)
    prior = prior or W.make_sim_policy(CFG, "prior", KNOBS)
    agent = make_agent(method, prior, critic, AGENT)
    return run_episode(env, agent, tid, seed, META)


def moves(ep):
    return [(s.thought, s.action) for s in ep.steps]


def test_prior_plays_valid_deterministic_episodes_with_the_whole_repertoire():
    env, prior = make_env(CFG), W.make_sim_policy(CFG, "prior", KNOBS)
    assert isinstance(prior, Policy) and isinstance(prior, W.WebShopPlayer)
    seen = set()
    for i, tid in enumerate(env.tasks("test")[:30]):
        a = episode("react", None, tid, i, prior, env)
        assert all(s.valid for s in a.steps) and a.steps[-1].done
        assert moves(a) == moves(episode("react", None, tid, i, prior, env))
        seen |= {repertoire.move_of(s.thought) for s in a.steps}
    assert seen == set(repertoire.MOVES)  # the prior plays every move of the repertoire


@pytest.mark.parametrize("level", [
    lambda g: 0.8,
    lambda g: {"The episode ends without a purchase.": 0.03}.get(g, 0.75 if g in POSITIVE_OUTCOMES else 0.55),
], ids=["constant", "base-rate-like"])
def test_a_critic_that_says_the_same_for_every_draft_changes_no_move(level):
    env = make_env(CFG)
    revised = 0
    for i, tid in enumerate(env.tasks("test")[:12]):
        pnlc = episode("pnlc", FixedCritic(level), tid, i)
        assert moves(pnlc) == moves(episode("react", None, tid, i))
        revised += sum(len(s.decision["candidates"]) > 1 for s in pnlc.steps)
    assert revised > 0  # the warnings did ask for revisions; the policy went back to its first draft


def test_an_informative_critic_raises_the_score_with_thoughts_from_the_same_repertoire():
    env = make_env(CFG)
    react, pnlc, changed = [], [], 0
    for i, tid in enumerate(env.tasks("test")[:24]):
        react.append(episode("react", None, tid, i).metric)
        prior = W.make_sim_policy(CFG, "prior", KNOBS)
        critic = RolloutCritic(env, prior, rollouts=6)
        agent = make_agent("pnlc", prior, critic, AGENT)
        agent.begin_episode(tid, i)
        obs = env.reset(tid, i)
        while True:
            critic.obs = obs
            ctx = DecisionContext(env="webshop", observation=obs, summary=env.describe())
            page = repertoire.page_kind(obs.view)
            thought, action, decision = agent.decide(ctx, env)
            for t in decision["candidates"]:  # proposed and refined drafts: moves of this page
                assert repertoire.move_of(t) in repertoire.PAGE_MOVES[page]
            changed += thought != decision["candidates"][0]
            tr = env.step(action)
            obs = tr.observation
            if tr.done:
                break
        pnlc.append(env.metric())
    assert changed > 0
    diff = np.array(pnlc) - np.array(react)  # paired: same tasks and seeds
    assert diff.mean() > 0 and (diff > 0).sum() > (diff < 0).sum()


def test_revise_draws_from_the_moves_propose_draws_from():
    env, prior = make_env(CFG), W.make_sim_policy(CFG, "prior", KNOBS)
    tid = env.tasks("test")[0]
    prior.begin_episode(tid, 0)
    obs = env.reset(tid, 0)
    obs = env.step("search[" + " ".join(reading.parse_instruction(env.instruction).keywords) + "]").observation
    obs = env.step(f"click[{obs.view['results'][0]['asin']}]").observation
    ctx = DecisionContext(env="webshop", observation=obs, summary=env.describe())
    proposed = {repertoire.move_of(prior.propose_thought(ctx)) for _ in range(200)}
    warning = [ln for ln in __import__("pnlc.critic.render", fromlist=["parse_value"]).parse_value(
        render_value([], ["Some requested options are missing from the purchase."], [0.9]))][0]
    revised = {repertoire.move_of(prior.revise(ctx, "Buy this item now.", warning, {"Buy this item now."}))
               for _ in range(50)}
    available = set(prior.choices(ctx, np.random.default_rng(0)))  # one list of moves for both roles
    assert proposed <= available and revised <= available <= set(repertoire.PAGE_MOVES["item"])
    assert revised == {"select"} == available & player.ADDRESSES["options"]


def test_act_follows_the_thought_it_is_given():
    env, prior = make_env(CFG), W.make_sim_policy(CFG, "prior", KNOBS)
    tid = env.tasks("test")[1]
    prior.begin_episode(tid, 0)
    obs = env.reset(tid, 0)
    ctx = DecisionContext(env="webshop", observation=obs, summary="")
    assert prior.act(ctx, repertoire.write("search_short", q="teal watch band")) == "search[teal watch band]"
    obs = env.step("search[watch band]").observation
    ctx = DecisionContext(env="webshop", observation=obs, summary="")
    last = obs.view["results"][-1]
    assert prior.act(ctx, repertoire.write("open_cheap", asin=last["asin"], title="x")) == f"click[{last['asin']}]"
    assert prior.act(ctx, repertoire.write("new_search")) == "click[Back to Search]"
    obs = env.step(f"click[{last['asin']}]").observation
    ctx = DecisionContext(env="webshop", observation=obs, summary="")
    name, values = next(iter(obs.view["options"].items()))
    assert prior.act(ctx, repertoire.write("select", name=name, value=values[-1])) == f"click[{values[-1]}]"
    assert prior.act(ctx, repertoire.write("inspect", attr="x")) == "click[Features]"
    assert prior.act(ctx, repertoire.write("buy")) == "click[Buy Now]"


def test_the_oracle_is_its_own_privileged_class_and_the_player_never_reads_the_goal():
    oracle = W.make_sim_policy(CFG, "oracle", KNOBS)
    assert isinstance(oracle, W.WebShopOracle) and not isinstance(oracle, W.WebShopPlayer)
    env = make_env(CFG)
    scores = [episode("oracle", None, tid, i, oracle, env).metric for i, tid in enumerate(env.tasks("test")[:10])]
    assert np.mean(scores) > 0.95
    for module in (player, reading, repertoire, shopper):
        source = inspect.getsource(module)
        assert "task_goal" not in source and "catalogue" not in source and "self.goal" not in source
    with pytest.raises(ValueError, match="kind"):
        W.make_sim_policy(CFG, "expert", KNOBS)


def test_goal_roles_name_the_environments_outcomes():
    prior = W.make_sim_policy(CFG, "prior", KNOBS)
    prior.begin_episode("goal-0", 0)
    obs = make_env(CFG).reset("goal-0", 0)
    ctx = DecisionContext(env="webshop", observation=obs, summary="")
    goals = prior.propose_goals(ctx, "Buy this item now.", 2, 2)
    assert len(goals.positive) == 2 and len(goals.negative) == 2 and set(goals.all) <= set(GOAL_OUTCOMES)
    assert goals.negative[0] == "The purchased item is the wrong type of product."  # on the search page
    assert prior.propose_goals(ctx, "Search for 'x': just a few words, to see a broader range.", 2, 2) == goals
    assert all(0 < p < 1 for p in prior.estimate_goals(ctx, "Buy this item now.", goals.all))


def test_a_lesson_raises_the_moves_it_names():
    env, prior = make_env(CFG), W.make_sim_policy(CFG, "prior", KNOBS)
    tid = env.tasks("test")[2]
    prior.begin_episode(tid, 0)
    env.reset(tid, 0)
    obs = env.step("search[" + " ".join(reading.parse_instruction(env.instruction).keywords) + "]").observation
    obs = env.step(f"click[{obs.view['results'][0]['asin']}]").observation
    plain = prior.choices(DecisionContext(env="webshop", observation=obs, summary=""), np.random.default_rng(0))
    noted = prior.choices(DecisionContext(env="webshop", observation=obs, summary="",
                                          notes=(W.LESSON_PRODUCT,)), np.random.default_rng(0))
    assert noted["inspect"][0] > plain["inspect"][0] and noted["buy"][0] == plain["buy"][0]


def test_knobs_are_validated_by_name():
    assert KNOBS.refine.min_gain == RAW["refine"]["min_gain"]
    broken = {**RAW, "refine": {k: v for k, v in RAW["refine"].items() if k != "min_gain"}}
    with pytest.raises(ConfigError, match=r"agents\.sim\.webshop\.refine.*min_gain"):
        build(W.PARAMS_TYPE, broken, "agents.sim.webshop")
    with pytest.raises(ValueError, match="temperature"):
        dataclasses.replace(KNOBS, temperature=0.0)
    data = yaml.safe_load((ROOT / "params.yaml").read_text(encoding="utf-8"))
    data["agents"]["sim"]["webshop"]["p_open_first"] = 0.3
    with pytest.raises(ConfigError, match="p_open_first"):
        validate(data)


@pytest.mark.skipif(not (REAL / "products_1000.json").exists(), reason="real WebShop data not present")
def test_prior_plays_the_real_catalogue():
    cfg = dataclasses.replace(CFG, catalogue=str(REAL), n_test_goals=100)
    env, prior = make_env(cfg), W.make_sim_policy(cfg, "prior", KNOBS)
    eps = [run_episode(env, make_agent("react", prior, None, AGENT), tid, i, META)
           for i, tid in enumerate(env.tasks("test")[:20])]
    assert all(s.valid for e in eps for s in e.steps)
    assert 0.0 < np.mean([e.metric for e in eps]) < 1.0
