"""Simulated Avalon policies: thoughts decide actions, refinement, goals, self-estimates, lessons."""

from __future__ import annotations

import numpy as np
import pytest

from pnlc.agents.roles import DecisionContext, Policy
from pnlc.agents.sim.avalon import (
    CATEGORIES_BY_DECISION,
    LESSON_ASSASSINATED,
    LESSON_QUESTS_FAILED,
    THOUGHTS,
    AvalonSimPolicy,
    make_sim_policy,
    thought_category,
)
from pnlc.critic.render import render_value
from pnlc.envs.avalon import OUTCOME_GOALS, AvalonConfig, AvalonEnv, make_env
from pnlc.envs.avalon.speech import ACCUSE, DEFEND, ENDORSE, STRONG, parse_claims

CFG = AvalonConfig(setup_file=None, agent_role="Merlin", agent_seat=None, n_train_tasks=400, n_test_tasks=10,
                   discussion=True)


def play(env: AvalonEnv, policy, task: str, seed: int, notes: tuple[str, ...] = ()) -> dict:
    policy.begin_episode(task, seed)
    obs = env.reset(task, seed)
    while True:
        ctx = DecisionContext("avalon", obs, env.describe(), notes=notes)
        tr = env.step(policy.act(ctx, policy.propose_thought(ctx)))
        assert tr.info["valid"], tr.info
        obs = tr.observation
        if tr.done:
            return dict(env.outcome())


class Forced:
    """The prior, but with a fixed thought for one decision kind."""

    def __init__(self, inner: AvalonSimPolicy, decision: str, thought: str) -> None:
        self.inner, self.decision, self.thought = inner, decision, thought

    def begin_episode(self, task_id: str, seed: int) -> None:
        self.inner.begin_episode(task_id, seed)

    def propose_thought(self, ctx: DecisionContext) -> str:
        if ctx.observation.view["decision"] == self.decision:
            return self.thought
        return self.inner.propose_thought(ctx)

    def act(self, ctx: DecisionContext, thought: str) -> str:
        return self.inner.act(ctx, thought)


def context_at(decision: str, seed: int = 0, agent_role: str = "Merlin") -> DecisionContext:
    cfg = AvalonConfig(None, agent_role, 1, 50, 5, True)
    env = make_env(cfg)
    for s in range(seed, seed + 30):
        obs = env.reset(f"train-{s:05d}", s)
        while not obs.view["done"]:
            if obs.view["decision"] == decision and (decision != "vote" or obs.view["quest"] >= 2):
                return DecisionContext("avalon", obs, env.describe())
            d = obs.view["decision"]
            action = {"say": "say[Hello.]", "vote": "vote[approve]", "quest": "quest[fail]"}.get(d)
            if d == "propose":
                action = "propose[" + ",".join(str(i) for i in range(1, obs.view["team_size"] + 1)) + "]"
            obs = env.step(action).observation
    raise AssertionError(f"no {decision} decision found")


def test_policy_protocol_and_kinds() -> None:
    assert isinstance(make_sim_policy(CFG, "prior"), Policy)
    assert make_sim_policy(CFG, "oracle").name == "sim-avalon-oracle"
    with pytest.raises(ValueError, match="unknown 'genius'"):
        make_sim_policy(CFG, "genius")


def test_every_repertoire_thought_is_read_back_as_its_category() -> None:
    for decision, cats in CATEGORIES_BY_DECISION.items():
        for cat in cats:
            for template in THOUGHTS[cat]:
                thought = template.format(e=3, g=2)
                assert thought_category(decision, thought) == cat, (decision, thought)


def test_act_carries_out_the_thought() -> None:
    policy = make_sim_policy(CFG, "prior")
    policy.begin_episode("t", 0)
    ctx = context_at("say")
    evil = ctx.observation.view["known_evil"]
    e = evil[0]
    text = policy.act(ctx, f"Openly accuse Player {e} of being evil.")
    claims = parse_claims(text[4:-1])
    assert claims == (claims[0],) and claims[0].kind == ACCUSE and claims[0].targets == (e - 1,)
    assert claims[0].strength == STRONG
    text = policy.act(ctx, f"Steer the team away from Player {e} without naming anyone.")
    (claim,) = parse_claims(text[4:-1])
    assert claim.kind == ENDORSE and not {s + 1 for s in claim.targets} & set(evil)
    text = policy.act(ctx, f"Act friendly toward Player {e} to hide my knowledge.")
    assert parse_claims(text[4:-1])[0].kind == DEFEND
    assert parse_claims(policy.act(ctx, "Stay vague and agree with the others to stay hidden.")[4:-1]) == ()

    vote_ctx = context_at("vote")
    team = set(vote_ctx.observation.view["proposed_team"])
    dirty = bool(team & set(vote_ctx.observation.view["known_evil"]))
    assert policy.act(vote_ctx, "Support the proposal to look cooperative.") == "vote[approve]"
    assert policy.act(vote_ctx, "Vote against this team quietly.") == "vote[reject]"
    informed = policy.act(vote_ctx, "Approve only if the team has no evil players on it.")
    assert informed == ("vote[reject]" if dirty else "vote[approve]")

    prop_ctx = context_at("propose")
    evil = set(prop_ctx.observation.view["known_evil"])
    clean = policy.act(prop_ctx, "Propose a team of players I trust.")
    assert not {int(x) for x in clean[8:-1].split(",")} & evil
    e = min(evil)
    with_evil = policy.act(prop_ctx, f"Include Player {e} to avoid looking too informed.")
    assert e in {int(x) for x in with_evil[8:-1].split(",")}


def test_thoughts_are_varied_and_seeded() -> None:
    ctx = context_at("say")

    def thoughts(seed: int) -> list[str]:
        p = make_sim_policy(CFG, "prior")
        p.begin_episode("train-00001", seed)
        return [p.propose_thought(ctx) for _ in range(60)]

    assert thoughts(3) == thoughts(3) and thoughts(3) != thoughts(4)
    cats = {thought_category("say", t) for t in thoughts(3)}
    assert {"accuse", "steer", "blend"} <= cats


def test_prior_is_mediocre_and_the_strong_merlin_much_better() -> None:
    env = make_env(CFG)
    n = 150
    prior = make_sim_policy(CFG, "prior")
    oracle = make_sim_policy(CFG, "oracle")
    p = np.mean([play(env, prior, f"train-{i:05d}", i)["agent_win"] for i in range(n)])
    q = np.mean([play(env, oracle, f"train-{i:05d}", i)["agent_win"] for i in range(n)])
    assert 0.1 <= p <= 0.35
    assert q >= p + 0.2


def test_thought_choice_causes_the_outcome() -> None:
    env = make_env(CFG)
    n = 60
    accuse = Forced(make_sim_policy(CFG, "prior"), "say", "Openly accuse Player 9 of being evil.")
    steer = Forced(make_sim_policy(CFG, "prior"), "say", "Steer the team away from evil without naming anyone.")
    a = [play(env, accuse, f"train-{i:05d}", i) for i in range(n)]
    s = [play(env, steer, f"train-{i:05d}", i) for i in range(n)]
    assert np.mean([o["assassinated"] is True for o in a]) > np.mean([o["assassinated"] is True for o in s]) + 0.3

    approve = Forced(make_sim_policy(CFG, "prior"), "vote", "Support the proposal to look cooperative.")
    informed = Forced(make_sim_policy(CFG, "prior"), "vote", "Approve only if the team has no evil players on it.")
    fa = np.mean([play(env, approve, f"train-{i:05d}", i)["quests"].count("fail") for i in range(n)])
    fi = np.mean([play(env, informed, f"train-{i:05d}", i)["quests"].count("fail") for i in range(n)])
    assert fa > fi + 0.3


def test_refine_avoids_the_flagged_outcome() -> None:
    policy = make_sim_policy(CFG, "prior")
    policy.begin_episode("t", 0)
    ctx = context_at("say")
    e = ctx.observation.view["known_evil"][0]
    thought = f"Openly accuse Player {e} of being evil."
    risky = render_value(["Good wins the game."], ["Merlin is assassinated."], [0.4, 0.8])
    revised = policy.refine(ctx, thought, risky)
    assert revised is not None and thought_category("say", revised) == "steer"
    fine = render_value(["Good wins the game."], ["Merlin is assassinated."], [0.6, 0.2])
    assert policy.refine(ctx, thought, fine) is None
    assert policy.refine(ctx, thought, "no numbers here") is None

    vote_ctx = context_at("vote")
    q = vote_ctx.observation.view["quest"]
    failing = render_value([f"Quest {q} succeeds."], [f"Quest {q} fails."], [0.3, 0.7])
    revised = policy.refine(vote_ctx, "Support the proposal to look cooperative.", failing)
    assert revised is not None and thought_category("vote", revised) == "reject"
    hopeless = render_value(["Good wins the game."], ["Evil wins the game."], [0.1, 0.3])
    revised = policy.refine(vote_ctx, "Support the proposal to look cooperative.", hopeless)
    assert revised is not None and thought_category("vote", revised) == "informed"

    prop_ctx = context_at("propose")
    q = prop_ctx.observation.view["quest"]
    failing = render_value([], [f"Quest {q} fails."], [0.75])
    revised = policy.refine(prop_ctx, f"Include Player {e} to avoid looking too informed.", failing)
    assert revised is not None and thought_category("propose", revised) == "clean_team"


def test_propose_goals_are_public_outcome_texts() -> None:
    policy = make_sim_policy(CFG, "prior")
    ctx = context_at("vote")
    q = ctx.observation.view["quest"]
    goals = policy.propose_goals(ctx, "Support the proposal to look cooperative.", 2, 2)
    assert len(goals.positive) == 2 and len(goals.negative) == 2
    assert set(goals.all) <= set(OUTCOME_GOALS)
    assert f"Quest {q} fails." in goals.negative and f"Quest {q} succeeds." in goals.positive
    say = context_at("say")
    goals = policy.propose_goals(say, "Openly accuse Player 4 of being evil.", 1, 1)
    assert goals.negative == ("Merlin is assassinated.",) and goals.positive == ("Good wins the game.",)
    many = policy.propose_goals(say, "Stay vague and agree with the others to stay hidden.", 4, 4)
    assert len(set(many.positive)) == 4 and len(set(many.negative)) == 4


def test_self_estimates_are_optimistic_and_values_bounded() -> None:
    policy = make_sim_policy(CFG, "prior")
    policy.begin_episode("t", 1)
    ctx = context_at("say")
    goals = ["Good wins the game.", "Merlin survives the assassination.", "Evil wins the game.",
             "Merlin is assassinated."]
    est = np.array([policy.estimate_goals(ctx, "Openly accuse Player 4 of being evil.", goals) for _ in range(50)])
    assert ((est >= 0) & (est <= 1)).all()
    assert est[:, :2].mean() > 0.7 and est[:, 2:].mean() < 0.35
    values = [policy.estimate_value(ctx) for _ in range(20)]
    assert all(0.0 <= v <= 1.0 for v in values) and len(set(values)) > 1


def test_reflect_and_lessons_shift_the_prior() -> None:
    policy = make_sim_policy(CFG, "prior")
    lost = "Good won three quests; the Assassin named Player 2, who was Merlin: evil wins."
    assert policy.reflect(lost, "Outcome: assassinated=true.") == LESSON_ASSASSINATED
    assert policy.reflect("Evil failed three quests: evil wins.", "Outcome: assassinated=null.") == LESSON_QUESTS_FAILED
    ctx = context_at("say")

    def accuse_rate(notes: tuple[str, ...]) -> float:
        policy.begin_episode("t", 7)
        c = DecisionContext("avalon", ctx.observation, ctx.summary, notes=notes)
        return np.mean([thought_category("say", policy.propose_thought(c)) == "accuse" for _ in range(600)])

    base, taught = accuse_rate(()), accuse_rate((LESSON_ASSASSINATED,))
    assert taught < base - 0.05 and taught > 0.05  # mild, not a switch to the oracle


def test_non_merlin_roles_play_legal_games() -> None:
    for role in ("Servant", "Minion", "Assassin"):
        cfg = AvalonConfig(None, role, None, 20, 5, True)
        env = make_env(cfg)
        for kind in ("prior", "oracle"):
            for i in range(4):
                out = play(env, make_sim_policy(cfg, kind), f"train-{i:05d}", i)
                assert out["agent_role"] == role and out["invalid_actions"] == 0
