"""Simulated Avalon players: one repertoire and one competence for every role, a critic that says
nothing changes nothing, an informative critic pays, blind switching costs."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import numpy as np
import pytest

from pnlc.agents.methods import AgentConfig, make_agent
from pnlc.agents.roles import DecisionContext, Policy
from pnlc.agents.runner import EpisodeMeta, play_policy, run_task
from pnlc.agents.sim.avalon import (
    LESSON_ASSASSINATED,
    LESSON_WON,
    LESSON_QUESTS_FAILED,
    MOVES_BY_DECISION,
    PARAMS_TYPE,
    THOUGHTS,
    AvalonOracle,
    AvalonPlayer,
    make_sim_policy,
    thought_move,
)
from pnlc.agents.sim.avalon.repertoire import FOLK
from pnlc.config import ConfigError, build, load_params, validate
from pnlc.critic.render import ValueLine, render_value
from pnlc.envs.avalon import OUTCOME_GOALS, AvalonConfig, make_env
from pnlc.envs.avalon.speech import ACCUSE, DEFEND, ENDORSE, STRONG, parse_claims
from pnlc.evaluation.stats import paired_difference

REPO = Path(__file__).resolve().parents[2]
PARAMS = load_params(REPO / "params.yaml")
RAW = PARAMS.raw["agents"]["sim"]["avalon"]
KNOBS = build(PARAMS_TYPE, RAW, "agents.sim.avalon")
CFG = AvalonConfig(setup_file=None, agent_role="Merlin", agent_seat=None, n_train_tasks=200, n_test_tasks=200,
                   discussion=True)
AGENT = AgentConfig(n_pos=2, n_neg=2, refine_rounds=2, best_of_n=3, reflexion_trials=2, reflexion_stop_on_success=True,
                    lats_branching=3, lats_depth=2, lats_exploration=1.0, lats_reward_weight=1.0, metric_scale=1.0)
META = EpisodeMeta(backend="sim", model="sim-prior", max_steps=100)
_TEMPLATE = re.compile(r"\\\{[eg]\\\}")


class ToyCritic:
    """A test-only critic: `fn(summary, thought, goal) -> probability`."""

    goal_conditioned = True
    embedder_id = "toy"

    def __init__(self, fn) -> None:
        self.fn = fn
        self.total_ms = 0.0

    def score(self, summary, thoughts, goals) -> np.ndarray:
        return np.array([[self.fn(summary, t, g) for g in goals] for t in thoughts], dtype=float)

    def render(self, goalset, probabilities) -> str:
        return render_value(goalset.positive, goalset.negative, list(np.asarray(probabilities).reshape(-1)))


def run(method: str, critic, n: int, env=None) -> list:
    env = env or make_env(CFG)
    agent = make_agent(method, make_sim_policy(CFG, "prior", KNOBS), critic, AGENT)
    return [run_task(env, agent, f"test-{i:05d}", 500 + i, META) for i in range(n)]


def context_at(decision: str, seed: int = 0, role: str = "Merlin") -> DecisionContext:
    cfg = AvalonConfig(None, role, 1, 50, 5, True)
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


def test_the_factory_builds_the_player_and_the_oracle_is_its_own_class() -> None:
    prior = make_sim_policy(CFG, "prior", KNOBS)
    oracle = make_sim_policy(CFG, "oracle", KNOBS)
    assert isinstance(prior, Policy) and isinstance(oracle, Policy)
    assert type(prior) is AvalonPlayer and type(oracle) is AvalonOracle
    assert oracle.name == "sim-avalon-oracle" and prior.name == "sim-avalon-prior"
    with pytest.raises(ValueError, match="unknown 'genius'"):
        make_sim_policy(CFG, "genius", KNOBS)


def test_knobs_are_validated_by_key() -> None:
    assert KNOBS.refine.min_gain == RAW["refine"]["min_gain"]
    data = dict(PARAMS.raw)
    bad = {**RAW, "refine": {**RAW["refine"], "worry_negative": 1.5}}
    data["agents"] = {"sim": {**PARAMS.raw["agents"]["sim"], "avalon": bad}}
    with pytest.raises(ConfigError, match=r"worry_negative"):
        validate(data)
    data["agents"] = {"sim": {**PARAMS.raw["agents"]["sim"], "avalon": {**RAW, "hidden_default": 1}}}
    with pytest.raises(ConfigError, match="hidden_default"):
        validate(data)
    missing = {k: v for k, v in RAW.items() if k != "aim"}
    with pytest.raises(ConfigError, match="aim"):
        build(PARAMS_TYPE, missing, "agents.sim.avalon")
    with pytest.raises(ValueError, match="agents.sim.avalon.skill"):
        dataclasses.replace(KNOBS, skill=-1.0)


def test_every_phrasing_reads_back_as_its_move() -> None:
    for decision, moves in MOVES_BY_DECISION.items():
        for move in moves:
            for template in THOUGHTS[move]:
                assert thought_move(decision, template.format(e=3, g=2)) == move, (decision, template)


def test_a_vote_is_thought_about_the_team_it_is_cast_on() -> None:
    """A vote thought names the suspect on the team when there is one and says none is there
    otherwise, so that an approval of a team with a known evil player reads differently from an
    approval of a clean one; both kinds still read back as their move."""
    policy = make_sim_policy(CFG, "prior", KNOBS)
    policy.begin_episode("t", 0)
    found = {True: 0, False: 0}
    for seed in range(0, 20, 2):
        ctx = context_at("vote", seed)
        view = ctx.observation.view
        on_team = sorted(set(view["proposed_team"]) & set(view["known_evil"]))
        found[bool(on_team)] += 1
        for move in ("approve", "reject"):
            texts = policy.move_texts(view, move)
            assert abs(sum(texts.values()) - 1.0) < 1e-9
            for text in texts:
                assert thought_move("vote", text) == move
                named = {int(n) for n in re.findall(r"Player (\d)", text)}
                assert (named <= set(on_team) and len(named) == 1) if on_team else not named, (text, on_team)
                assert ("nobody I suspect" in text or "trust" in text or "quietly" in text) == (not on_team)
            drawn = policy.phrase(view, move, np.random.default_rng(seed))
            assert drawn in texts
    assert found[True] and found[False], found


def test_act_carries_out_the_thought() -> None:
    policy = make_sim_policy(CFG, "prior", KNOBS)
    policy.begin_episode("t", 0)
    ctx = context_at("say")
    evil = ctx.observation.view["known_evil"]
    e = evil[0]
    (claim,) = parse_claims(policy.act(ctx, f"Openly accuse Player {e} of being evil.")[4:-1])
    assert claim.kind == ACCUSE and claim.targets == (e - 1,) and claim.strength == STRONG
    (claim,) = parse_claims(policy.act(ctx, "Quietly push for a team of players I trust without naming anyone.")[4:-1])
    assert claim.kind == ENDORSE and not {s + 1 for s in claim.targets} & set(evil)
    assert parse_claims(policy.act(ctx, f"Act friendly toward Player {e} to hide my knowledge.")[4:-1])[0].kind == DEFEND
    assert parse_claims(policy.act(ctx, "Stay vague and agree with the others to stay hidden.")[4:-1]) == ()
    vote = context_at("vote")
    assert policy.act(vote, "Support this team of players I trust.") == "vote[approve]"
    assert policy.act(vote, "Vote against this team quietly.") == "vote[reject]"
    lead = context_at("propose")
    evil = set(lead.observation.view["known_evil"])
    clean = policy.act(lead, "Propose a team of players I trust.")
    assert not {int(x) for x in clean[8:-1].split(",")} & evil
    dirty = policy.act(lead, f"Include Player {min(evil)} to avoid looking too informed.")
    assert min(evil) in {int(x) for x in dirty[8:-1].split(",")}


def test_the_prior_plays_every_move_in_varied_states() -> None:
    env = make_env(CFG)
    policy = make_sim_policy(CFG, "prior", KNOBS)
    seen: dict[str, set] = {m: set() for d in ("say", "propose", "vote") for m in MOVES_BY_DECISION[d]}
    for i in range(40):
        policy.begin_episode(f"train-{i:05d}", i)
        obs = env.reset(f"train-{i:05d}", i)
        while not obs.view["done"]:
            view = obs.view
            ctx = DecisionContext("avalon", obs, env.describe())
            thought = policy.propose_thought(ctx)
            move = thought_move(view["decision"], thought)
            if move in seen:
                seen[move].add((view["successes"], view["failures"], view["quest"]))
            obs = env.step(policy.act(ctx, thought)).observation
    assert all(len(states) >= 3 for states in seen.values()), {m: len(s) for m, s in seen.items()}


def test_same_seed_same_thoughts() -> None:
    ctx = context_at("say")

    def thoughts(seed: int) -> list[str]:
        p = make_sim_policy(CFG, "prior", KNOBS)
        p.begin_episode("train-00001", seed)
        return [p.propose_thought(ctx) for _ in range(30)]

    assert thoughts(3) == thoughts(3) and thoughts(3) != thoughts(4)


def test_goals_are_the_same_for_every_draft_of_a_decision() -> None:
    policy = make_sim_policy(CFG, "prior", KNOBS)
    ctx = context_at("vote")
    q = ctx.observation.view["quest"]
    goals = {policy.propose_goals(ctx, t, 2, 2) for t in ("Approve this team.", "Reject this team.", "Hmm.")}
    (only,) = goals
    assert set(only.all) <= set(OUTCOME_GOALS)
    assert f"Quest {q} succeeds." in only.positive and f"Quest {q} fails." in only.negative


def test_a_revision_is_a_new_repertoire_move_aimed_at_the_warned_outcome() -> None:
    policy = make_sim_policy(CFG, "prior", KNOBS)
    policy.begin_episode("t", 0)
    ctx = context_at("say")
    q = ctx.observation.view["quest"]
    first = "Stay vague and agree with the others to stay hidden."

    def revealed(goal: str) -> float:
        warned = ValueLine(False, 0.9, goal)
        moves = [thought_move("say", policy.revise(ctx, first, warned, {first})) for _ in range(400)]
        assert "blend" not in moves and None not in moves
        return float(np.mean([FOLK[m].reveals for m in moves]))

    assert revealed("Merlin is assassinated.") < revealed(f"Quest {q} fails.") - 0.1
    every_move = {policy.phrase(ctx.observation.view, m, policy.rng("refine")) for m in MOVES_BY_DECISION["say"]}
    assert policy.revise(ctx, first, ValueLine(False, 0.9, "Merlin is assassinated."), every_move) is None


@pytest.mark.parametrize("probability", [lambda s, t, g: 0.8, lambda s, t, g: 0.1 + 0.05 * OUTCOME_GOALS.index(g)])
def test_a_critic_that_says_the_same_for_every_draft_replays_react(probability) -> None:
    env = make_env(CFG)
    react = run("react", None, 6, env)
    pnlc = run("pnlc", ToyCritic(probability), 6, env)
    revisions = 0
    for a, b in zip(react, pnlc):
        assert [(s.thought, s.action) for s in a.steps] == [(s.thought, s.action) for s in b.steps]
        revisions += sum(r["refined_to"] is not None for s in b.steps for r in s.decision["rounds"])
    assert revisions > 0  # the player did revise; the critic gave it no reason to keep a revision


def _paired(a: list, b: list) -> dict:
    return paired_difference({e.task_id: e.metric for e in a}, {e.task_id: e.metric for e in b}, 1000, 0.95, 0)


@pytest.fixture(scope="module")
def react_games() -> list:
    return run("react", None, 80)


def test_an_informative_critic_raises_the_win_rate_and_refined_thoughts_are_repertoire_moves(react_games) -> None:
    env = make_env(CFG)

    def knows_the_vote(summary: str, thought: str, goal: str) -> float:
        """Privileged (test-only): a team with evil on it fails its quest if it passes."""
        view = env.observe(env.agent).view
        if view["decision"] != "vote" or not re.fullmatch(r"Quest \d fails\.", goal):
            return 0.4
        dirty = bool(set(view["proposed_team"]) & set(view["known_evil"]))
        return 0.8 if (thought_move("vote", thought) == "approve") == dirty else 0.3

    pnlc = run("pnlc", ToyCritic(knows_the_vote), 80, env)
    diff = _paired(pnlc, react_games)
    assert diff["lo"] > 0, diff
    patterns = [re.compile("^" + _TEMPLATE.sub(r"\\d", re.escape(t)) + "$") for ts in THOUGHTS.values() for t in ts]
    thoughts = {c for e in pnlc for s in e.steps for c in s.decision["candidates"]}
    assert thoughts and all(any(p.match(t) for p in patterns) for t in thoughts)


def test_switching_on_noise_costs(react_games) -> None:
    rng = np.random.default_rng(0)
    noisy = run("pnlc", ToyCritic(lambda s, t, g: float(rng.random())), 80)
    assert _paired(noisy, react_games)["mean"] < 0


def test_lessons_shift_the_prior_mildly() -> None:
    policy = make_sim_policy(CFG, "prior", KNOBS)
    moves = "Your moves, in order:\n1. Thought: Stay quiet.\n   Action: say[nothing]\n"
    late = moves + "Before your last move: Good has 2 successes, evil 1. Now quest 4, proposal 1."
    early = moves + "Before your last move: Good has 1 success, evil 2. Now quest 4, proposal 1."
    failure, success = "Result: failure (score 0.00 of 1.00).", "Result: success (score 1.00 of 1.00)."
    assert policy.reflect(late, failure) == LESSON_ASSASSINATED
    assert policy.reflect(early, failure) == LESSON_QUESTS_FAILED
    assert policy.reflect(early, success) == LESSON_WON
    ctx = context_at("say")
    base = policy.propose_weights(ctx)["accuse"]
    taught = policy.propose_weights(DecisionContext("avalon", ctx.observation, ctx.summary, notes=(LESSON_ASSASSINATED,)))
    assert 0.02 < taught["accuse"] < base


def test_the_oracle_wins_more_than_the_prior() -> None:
    env = make_env(CFG)
    wins = {}
    for kind in ("prior", "oracle"):
        policy = make_sim_policy(CFG, kind, KNOBS)
        wins[kind] = np.mean([play_policy(env, policy, f"train-{i:05d}", i).metric() for i in range(60)])
    assert wins["oracle"] >= wins["prior"] + 0.15, wins


def test_every_role_plays_legal_games_with_self_estimates_and_values_in_range() -> None:
    for role in ("Servant", "Minion", "Assassin"):
        cfg = AvalonConfig(None, role, None, 20, 5, True)
        env = make_env(cfg)
        for kind in ("prior", "oracle"):
            for i in range(3):
                out = play_policy(env, make_sim_policy(cfg, kind, KNOBS), f"train-{i:05d}", i).outcome()
                assert out["agent_role"] == role and out["invalid_actions"] == 0
    policy = make_sim_policy(CFG, "prior", KNOBS)
    policy.begin_episode("t", 1)
    ctx = context_at("say")
    est = np.array(policy.estimate_goals(ctx, "Openly accuse Player 4 of being evil.", list(OUTCOME_GOALS)))
    assert ((est > 0) & (est < 1)).all()
    assert 0.0 <= policy.estimate_value(ctx) <= 1.0
