"""The simulated persuader: one repertoire for every role, beliefs read from the dialogue, a critic
that only helps when it knows something, and the scripted oracle as its own class."""

from __future__ import annotations

import copy
import math
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml

from pnlc.agents.methods import AgentConfig, make_agent
from pnlc.agents.roles import DecisionContext, Policy
from pnlc.agents.runner import EpisodeMeta, run_episode
from pnlc.agents.sim.persuasion import (
    ADDRESS,
    MOVES,
    PARAMS_TYPE,
    THOUGHTS,
    PersuasionOracle,
    PersuasionPlayer,
    all_thoughts,
    make_sim_policy,
    parse_thought,
    thought_for,
)
from pnlc.agents.sim.persuasion.repertoire import AIMS, CALM, WIN
from pnlc.config import ConfigError, build, load_params, validate
from pnlc.critic.render import ValueLine, render_value
from pnlc.envs.persuasion import (
    AGREES,
    NEGATIVE_GOALS,
    POSITIVE_GOALS,
    PRESSURED,
    REFUSES,
    make_env,
)
from pnlc.envs.persuasion.strategies import CREDIBILITY_APPEAL, detect_strategies

REPO = Path(__file__).resolve().parents[2]
PARAMS = load_params(REPO / "params.yaml")
RAW_KNOBS = PARAMS.raw["agents"]["sim"]["persuasion"]
KNOBS = build(PARAMS_TYPE, RAW_KNOBS, "agents.sim.persuasion")
CFG = PARAMS.section("persuasion")
AGENT = AgentConfig(
    n_pos=2, n_neg=2, refine_rounds=2, best_of_n=3, reflexion_trials=2, reflexion_stop_on_success=True,
    lats_branching=3, lats_depth=2, lats_exploration=1.0, lats_reward_weight=0.5, metric_scale=2.0,
)  # fmt: skip
META = EpisodeMeta(backend="sim", model="sim-prior", max_steps=20)


def prior() -> PersuasionPlayer:
    return make_sim_policy(CFG, "prior", KNOBS)


class _Critic:
    """Test critics with the interface the PNLC loop reads."""

    goal_conditioned = True
    embedder_id = "test"
    total_ms = 0.0

    def render(self, goals, probs) -> str:
        return render_value(goals.positive, goals.negative, probs)


class ConstantCritic(_Critic):
    """The same probability for a goal whatever the state and thought (a base rate)."""

    def __init__(self, rates: dict[str, float]) -> None:
        self.rates = rates

    def score(self, summary, thoughts, goals):
        return np.array([[self.rates[g] for g in goals] for _ in thoughts])


class RandomCritic(_Critic):
    """Probabilities that know nothing, different for every draft."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def score(self, summary, thoughts, goals):
        return self.rng.random((len(thoughts), len(goals)))


class PeekingCritic(_Critic):
    """Reads the donor's hidden state one message ahead (privileged; a test's informative critic)."""

    def __init__(self, env) -> None:
        self.env = env
        self.speaker = prior()

    def score(self, summary, thoughts, goals):
        rows = []
        for thought in thoughts:
            env = self.env.clone()
            env.reseed(0)
            self.speaker.begin_episode(env.task, 0)
            ctx = DecisionContext(env="persuasion", observation=env._observation(), summary=env.describe())
            done = env.step(self.speaker.act(ctx, thought)).done
            donor = env._donor
            if done:
                p = 1.0 if env.metric() > 0 else 0.0
            else:
                strain = max(0.0, donor.annoyance / donor.persona.patience - 0.5)
                x = donor.willingness + 0.25 * min(donor.rapport, 3.0) - 0.4 * (donor.open_concern is not None) - 2 * strain
                p = 1.0 / (1.0 + math.exp(-x))
            rows.append([p if g in POSITIVE_GOALS else 1.0 - p for g in goals])
        return np.array(rows)


def play(method: str, critic, tasks: range) -> list:
    env = make_env(CFG)
    if isinstance(critic, PeekingCritic):
        critic.env = env
    agent = make_agent(method, prior(), critic, AGENT)
    return [run_episode(env, agent, f"donor-test-{i:04d}", i, META) for i in tasks]


def moves_of(episode) -> list[tuple[str, str]]:
    return [(s.thought, s.action) for s in episode.steps]


# --------------------------------------------------------------------------------------------- #


def test_knobs_are_params_keys_validated_by_the_schema_and_the_dataclass():
    assert KNOBS.refine.min_gain >= 0 and 0 < KNOBS.notice_doubt <= 1
    for key, bad in [("notice_doubt", 1.5), ("lesson_strength", 1.0), ("revise_tilt", 0.0), ("value_noise", -0.1)]:
        with pytest.raises(ValueError, match=f"agents.sim.persuasion.{key}"):
            build(PARAMS_TYPE, {**RAW_KNOBS, key: bad}, "agents.sim.persuasion")
    with pytest.raises(ValueError, match="refine.worry_negative"):
        build(PARAMS_TYPE, {**RAW_KNOBS, "refine": {**RAW_KNOBS["refine"], "worry_negative": 2.0}}, "agents.sim.persuasion")
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    data["agents"]["sim"]["persuasion"]["prior_address_rate"] = 0.3
    with pytest.raises(ConfigError, match="prior_address_rate"):
        validate(data)
    data = yaml.safe_load((REPO / "params.yaml").read_text(encoding="utf-8"))
    del data["agents"]["sim"]["persuasion"]["refine"]["min_gain"]
    with pytest.raises(ConfigError, match="min_gain"):
        validate(data)


def test_the_oracle_is_its_own_class_and_the_ceiling():
    oracle, player = make_sim_policy(CFG, "oracle", KNOBS), prior()
    assert type(oracle) is PersuasionOracle and type(player) is PersuasionPlayer
    assert isinstance(player, Policy) and isinstance(oracle, Policy)
    with pytest.raises(ValueError, match="kind"):
        make_sim_policy(CFG, "genius", KNOBS)
    react = np.mean([e.metric for e in play("react", None, range(40))])
    env = make_env(CFG)
    expert = make_agent("oracle", oracle, None, AGENT)
    best = np.mean([run_episode(env, expert, f"donor-test-{i:04d}", i, META).metric for i in range(40)])
    assert best > react + 0.3


@pytest.mark.parametrize(
    "critic",
    [
        ConstantCritic({g: 0.5 for g in POSITIVE_GOALS + NEGATIVE_GOALS}),
        # base rates of a skeptical donor: every draft reads as a warning, no revision reads better
        ConstantCritic({**{g: 0.15 for g in POSITIVE_GOALS}, **{g: 0.4 for g in NEGATIVE_GOALS}, REFUSES: 0.85}),
    ],
)
def test_a_critic_that_says_the_same_for_every_draft_replays_react_move_for_move(critic):
    react, pnlc = play("react", None, range(15)), play("pnlc", critic, range(15))
    revisions = 0
    for a, b in zip(react, pnlc):
        assert moves_of(a) == moves_of(b) and a.metric == b.metric
        revisions += sum(r["refined_to"] is not None for s in b.steps for r in s.decision["rounds"])
    if critic.rates[REFUSES] > KNOBS.refine.worry_negative:
        assert revisions > 0  # it was warned and wrote alternatives, and went back to its first draft


def test_an_informative_critic_raises_the_donation_over_react():
    react, pnlc = play("react", None, range(40)), play("pnlc", PeekingCritic(None), range(40))
    diff = np.array([b.metric - a.metric for a, b in zip(react, pnlc)])
    assert diff.mean() > 0.0 and (diff > 0).sum() > 2 * (diff < 0).sum()


def test_refined_thoughts_come_from_the_repertoire_and_never_repeat_a_draft():
    repertoire = set(all_thoughts())
    refined: Counter[str] = Counter()
    for episode in play("pnlc", RandomCritic(0), range(25)):
        for step in episode.steps:
            candidates = step.decision["candidates"]
            assert set(candidates) <= repertoire
            assert len(candidates) == len(set(candidates))
            assert step.thought in candidates
            refined.update(parse_thought(c)[0] for c in candidates[1:])
    assert len(refined) >= 8  # revisions range over the repertoire, not one fixed answer


def _ctx_after(messages: list[str], task: str = "donor-train-0006", seed: int = 0) -> DecisionContext:
    env = make_env(CFG)
    obs = env.reset(task, seed)
    for m in messages:
        obs = env.step(m).observation
    return DecisionContext(env="persuasion", observation=obs, summary=env.describe())


def test_a_revision_is_tilted_towards_what_the_persuader_believes_counters_the_warning():
    ctx = _ctx_after([])
    player = prior()

    def share(draw, aim: str, n: int = 400) -> float:
        hits = 0
        for seed in range(n):
            player.begin_episode("donor-train-0006", seed)
            hits += aim in AIMS[parse_thought(draw())[0]]
        return hits / n

    proposed_calm = share(lambda: player.propose_thought(ctx), CALM)
    warned = ValueLine(positive=False, probability=0.8, goal=PRESSURED)
    revised_calm = share(lambda: player.revise(ctx, THOUGHTS["ask"], warned, {THOUGHTS["ask"]}), CALM)
    assert revised_calm > proposed_calm + 0.15
    warned = ValueLine(positive=False, probability=0.8, goal=REFUSES)
    revised_win = share(lambda: player.revise(ctx, THOUGHTS["rapport"], warned, {THOUGHTS["rapport"]}), WIN)
    assert revised_win > share(lambda: player.propose_thought(ctx), WIN) + 0.15


def test_the_prior_plays_every_move_in_varied_states():
    turns: dict[str, set[int]] = {m: set() for m in MOVES}
    for episode in play("react", None, range(60)):
        for step in episode.steps:
            turns[parse_thought(step.thought)[0]].add(step.index)
    for move, seen in turns.items():
        assert len(seen) >= (2 if move == ADDRESS else 4), (move, seen)


def test_beliefs_come_from_the_dialogue_only():
    """Two donors who said the same things are read the same way, whatever their hidden persona."""
    words = ["Hi there! How are you doing today?"]
    ctx = _ctx_after(words, "donor-train-0001")
    other = copy.deepcopy(ctx)
    player = prior()
    player.begin_episode("donor-train-0001", 3)
    a = [player.propose_thought(ctx) for _ in range(5)]
    player.begin_episode("donor-train-0001", 3)
    b = [player.propose_thought(other) for _ in range(5)]
    assert a == b
    assert player.beliefs(ctx) == player.beliefs(other)


def test_thoughts_parse_back_and_free_form_thoughts_are_carried_out():
    for move, thought in THOUGHTS.items():
        assert parse_thought(thought) == (move, None)
    assert parse_thought(thought_for(ADDRESS, "overhead")) == (ADDRESS, "overhead")
    player = prior()
    player.begin_episode("donor-train-0006", 0)
    utter = player.act(_ctx_after([]), "Reassure them with Save the Children's ratings and reputation.")
    assert CREDIBILITY_APPEAL in detect_strategies(utter)


def test_goals_are_the_situation_s_and_the_same_for_every_draft():
    player = prior()
    player.begin_episode("donor-train-0006", 1)
    ctx = _ctx_after([])
    sets = {player.propose_goals(ctx, t, 2, 2) for t in all_thoughts()}
    assert len(sets) == 1
    goals = sets.pop()
    assert goals.positive[0] == AGREES and PRESSURED in goals.negative  # the first turns: an early ask
    with pytest.raises(ValueError, match="n_pos"):
        player.propose_goals(ctx, THOUGHTS["ask"], 9, 2)
    probs = player.estimate_goals(ctx, THOUGHTS["logical"], [AGREES, REFUSES])
    assert probs[0] > probs[1] and all(0 <= p <= 1 for p in probs)
    assert 0.0 <= player.estimate_value(ctx) <= 1.0


def test_a_reflexion_lesson_shifts_the_weights_it_names():
    player = prior()
    lesson = player.reflect(
        "After 3 persuader turns, the persuader asked for money before building rapport; the donor is getting annoyed. "
        "The donor becomes annoyed and disengages.",
        "Outcome: donation=0.0",
    )
    ctx = _ctx_after([])
    noted = DecisionContext(env="persuasion", observation=ctx.observation, summary=ctx.summary, notes=(lesson,))

    def ask_rate(c: DecisionContext) -> float:
        n = 0
        for seed in range(300):
            player.begin_episode("donor-train-0006", seed)
            n += parse_thought(player.propose_thought(c))[0] == "ask"
        return n / 300

    assert ask_rate(noted) < ask_rate(ctx)
