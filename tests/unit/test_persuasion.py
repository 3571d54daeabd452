"""Persuasion: environment protocol, donation parsing, text rules, simulated and LLM donors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from pnlc.agents.donor import llm_donors
from pnlc.agents.roles import DecisionContext
from pnlc.agents.sim.persuasion import PARAMS_TYPE, THOUGHTS, make_sim_policy, thought_for
from pnlc.config import build, load_params
from pnlc.envs.base import Env, EnvError
from pnlc.envs.persuasion import (
    AGREES,
    DISENGAGES,
    NEGATIVE_GOALS,
    POSITIVE_GOALS,
    PRESSURED,
    REFUSES,
    PersuasionConfig,
    SimDonor,
    detect_attitude,
    detect_concern,
    detect_strategies,
    make_env,
    parse_donation,
    sample_persona,
)
from pnlc.data.prompts import PromptError, load_prompt
from pnlc.envs.persuasion.summary import COMPLEMENTARY_OUTCOMES
from pnlc.envs.persuasion.strategies import (
    CONCERNS,
    CREDIBILITY_APPEAL,
    EMOTION_APPEAL,
    P4G_STRATEGIES,
    PROPOSITION,
    answers_concern,
)
from pnlc.llm.base import Completion, Request


def _cfg(donor: str = "sim", max_turns: int = 10) -> PersuasionConfig:
    return PersuasionConfig(
        max_turns=max_turns, n_train_tasks=50, n_test_tasks=20, donor=donor, donor_temperature=0.0, donor_max_tokens=200
    )


_PARAMS = load_params(Path(__file__).resolve().parents[2] / "params.yaml")
KNOBS = build(PARAMS_TYPE, _PARAMS.raw["agents"]["sim"]["persuasion"], "agents.sim.persuasion")


def _persuader(kind: str = "prior"):
    return make_sim_policy(_cfg(), kind, KNOBS)


class _Forced:
    """The prior persuader, except that the thoughts of some decisions are forced."""

    def __init__(self, inner, forced):
        self.inner, self.forced, self.name = inner, forced, "forced"

    def begin_episode(self, task_id, seed):
        self.inner.begin_episode(task_id, seed)

    def propose_thought(self, ctx):
        th = self.forced(ctx)
        return th if th is not None else self.inner.propose_thought(ctx)

    def act(self, ctx, thought):
        return self.inner.act(ctx, thought)


def _play(env, policy, task: str, seed: int):
    """Play one episode: thought, action, step until the donor decides. Returns (steps, outcome)."""
    policy.begin_episode(task, seed)
    obs = env.reset(task, seed)
    history: tuple[tuple[str, str], ...] = ()
    steps = []
    while True:
        ctx = DecisionContext(env="persuasion", observation=obs, summary=env.describe(), history=history)
        th = policy.propose_thought(ctx)
        a = policy.act(ctx, th)
        tr = env.step(a)
        steps.append((ctx, th, a, tr))
        history += ((th, a),)
        obs = tr.observation
        if tr.done:
            return steps, dict(env.outcome())


def _mean_donation(env, policy, seeds) -> float:
    return float(np.mean([_play(env, policy, f"donor-train-{s % 50:04d}", s)[1]["donation"] for s in seeds]))


# --------------------------------------------------------------------------------------------- #
# Donation line
# --------------------------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    "text, status, amount",
    [
        ("Okay, I'll give.\nDONATION: $0.50", "ok", 0.5),
        ("DONATION: $2.00", "ok", 2.0),
        ("fine\ndonation: 1", "ok", 1.0),
        ("DONATION: $0", "ok", 0.0),
        ("I think I'll give half a dollar.", "missing", None),
        ("DONATION: a little", "malformed", None),
        ("DONATION: $-1.00", "malformed", None),
        ("DONATION: $0.505", "malformed", None),
        ("DONATION: $5.00", "out_of_range", 5.0),
        ("DONATION: $1.00\nactually\nDONATION: $0.25", "ok", 0.25),
    ],
)
def test_parse_donation(text, status, amount):
    parsed = parse_donation(text)
    assert parsed.status == status
    assert parsed.amount == amount


# --------------------------------------------------------------------------------------------- #
# Environment protocol
# --------------------------------------------------------------------------------------------- #


def test_env_protocol_tasks_and_errors():
    env = make_env(_cfg())
    assert isinstance(env, Env)
    train, test = env.tasks("train"), env.tasks("test")
    assert len(train) == 50 and len(test) == 20 and not set(train) & set(test)
    with pytest.raises(EnvError, match="split"):
        env.tasks("dev")
    with pytest.raises(EnvError, match="outside the test split"):
        env.reset("donor-test-0020", 0)
    with pytest.raises(EnvError, match="unknown persuasion task"):
        env.reset("webshop-1", 0)
    with pytest.raises(EnvError, match="before reset"):
        make_env(_cfg()).step("hello")
    with pytest.raises(EnvError, match="no donor builder"):
        make_env(_cfg("llm"))
    with pytest.raises(EnvError, match="donor must be one of"):
        _cfg("gpt")


def test_turn_limit_and_ending():
    """A persuader that never asks and says nothing persuasive: the donor decides at turn 10 at the latest."""
    env = make_env(_cfg(max_turns=10))
    obs = env.reset("donor-train-0001", 7)
    assert "Your message 1 of 10" in obs.text and obs.view["turn"] == 0
    turns = 0
    done = False
    while not done:
        tr = env.step("Save the Children has reached over 150 million children, the facts are clear.")
        turns += 1
        done = tr.done
        assert turns <= 10
        if not done:
            assert tr.reward == 0.0 and f"Your message {turns + 1} of 10" in tr.observation.text
    out = env.outcome()
    assert out["turns"] == turns
    assert 0.0 <= out["donation"] <= 2.0 and tr.reward == out["donation"] == env.metric()
    assert "The conversation is over." in tr.observation.text
    with pytest.raises(EnvError, match="after the episode ended"):
        env.step("one more thing")


def test_unfinished_episode_has_no_outcome_and_empty_action_is_invalid():
    env = make_env(_cfg())
    env.reset("donor-train-0002", 1)
    with pytest.raises(EnvError, match="not finished"):
        env.metric()
    tr = env.step("   ")
    assert tr.info["valid"] is False and not tr.done
    assert env.turn == 1


def test_observation_hides_persona_and_is_deterministic():
    env = make_env(_cfg())
    a = [env.reset("donor-train-0005", 3).text]
    for msg in ("Hi! How are you?", "Have you heard of Save the Children?", "Would you like to donate?"):
        tr = env.step(msg)
        a.append(tr.observation.text)
        if tr.done:
            break
    persona = env._donor.persona
    env2 = make_env(_cfg())
    b = [env2.reset("donor-train-0005", 3).text]
    for msg in ("Hi! How are you?", "Have you heard of Save the Children?", "Would you like to donate?")[: len(a) - 1]:
        b.append(env2.step(msg).observation.text)
    assert a == b
    joined = "\n".join(a)
    for hidden in (f"{persona.trust:.2f}", f"{persona.skepticism:.2f}", f"{persona.empathy:.2f}", "skepticism", "willingness"):
        assert hidden not in joined
    view_keys = set(tr.observation.view)
    assert not view_keys & {"persona", "willingness", "budget", "trust", "patience"}


def test_clone_is_independent():
    env = make_env(_cfg())
    env.reset("donor-train-0003", 2)
    env.step("Hello! How is your day going so far?")
    twin = env.clone()
    r1 = env.step("Have you ever heard of Save the Children?")
    r2 = twin.step("Have you ever heard of Save the Children?")
    assert r1.observation.text == r2.observation.text
    twin.step("Imagine a child who goes to bed hungry.")
    assert env.turn == 2 and twin.turn == 3


def test_describe_and_goal_outcomes():
    env = make_env(_cfg())
    env.reset("donor-train-0004", 0)
    assert "has not agreed to donate" in env.describe()
    tr = env.step("Would you like to donate to Save the Children?")
    summary = env.describe()
    assert summary.startswith("After 1 persuader turn,") and "asked for money before building rapport" in summary
    while not tr.done:
        tr = env.step("Save the Children was founded in 1919 and has a long track record.")
    final = env.describe()
    donation = env.metric()
    assert (f"agrees to donate ${donation:.2f}" in final) if donation > 0 else (
        REFUSES in final or DISENGAGES in final
    )
    goals = env.goal_outcomes()
    assert set(goals) == set(POSITIVE_GOALS) | set(NEGATIVE_GOALS)
    assert goals[AGREES] == (donation > 0) and goals[REFUSES] == (donation == 0)
    assert all(goals[a] != goals[b] for a, b in COMPLEMENTARY_OUTCOMES)  # what the critic sums to one
    assert goals[PRESSURED] is True


# --------------------------------------------------------------------------------------------- #
# Text rules
# --------------------------------------------------------------------------------------------- #


def test_strategy_detection_covers_the_ten_strategies_and_the_ask():
    policy = _persuader()
    from pnlc.agents.sim.persuasion.repertoire import ADDRESS_UTTERANCES, MOVE_STRATEGY, UTTERANCES

    seen = set()
    for plan, options in UTTERANCES.items():
        for text in options:
            found = detect_strategies(text)
            assert MOVE_STRATEGY[plan] in found, (plan, text, found)
            seen.update(found)
    assert set(P4G_STRATEGIES) | {PROPOSITION} <= seen
    for key, options in ADDRESS_UTTERANCES.items():
        for text in options:
            assert answers_concern(text, key), (key, text)
    assert detect_strategies("lol ok") == ()
    assert policy.name == "sim-persuasion-prior"


def test_concern_and_attitude_detection_on_donor_text():
    from pnlc.envs.persuasion.donor_sim import _CONCERN_LINES, _REPLIES

    for concern in CONCERNS:
        for line in _CONCERN_LINES[concern.key]:
            assert detect_concern(line) == concern.key
    for key, expected in [("early_ask", "annoyed"), ("decline", "declined"), ("disengage", "annoyed"), ("final_refuse", "refused")]:
        for line in _REPLIES[key]:
            assert detect_attitude(line) == expected, line
    assert detect_attitude("Alright, I'll donate $0.50 of my bonus.") == "agreed"


# --------------------------------------------------------------------------------------------- #
# Simulated donor reactions
# --------------------------------------------------------------------------------------------- #


def test_prior_average_is_skeptical_and_oracle_is_strong():
    env = make_env(_cfg())
    prior = _mean_donation(env, _persuader(), range(150))
    oracle = _mean_donation(env, _persuader("oracle"), range(60))
    assert 0.03 <= prior <= 0.40
    assert oracle > prior + 0.3


def test_early_ask_lowers_the_donation_on_matched_seeds():
    env = make_env(_cfg())
    prior = _persuader()
    first = lambda thought: (lambda ctx: thought if ctx.observation.view["turn"] == 0 else None)  # noqa: E731
    early = _mean_donation(env, _Forced(prior, first(THOUGHTS["ask"])), range(80))
    rapport = _mean_donation(env, _Forced(prior, first(THOUGHTS["rapport"])), range(80))
    assert early < rapport - 0.05


def test_answering_the_doubt_raises_the_donation_on_matched_seeds():
    env = make_env(_cfg())
    prior = _persuader()

    def answer(ctx):
        c = ctx.observation.view["open_concern"]
        return thought_for("address", c) if c else None

    def ignore(ctx):
        c = ctx.observation.view["open_concern"]
        return THOUGHTS["self_model"] if c else None

    answered = _mean_donation(env, _Forced(prior, answer), range(80))
    ignored = _mean_donation(env, _Forced(prior, ignore), range(80))
    assert answered > ignored + 0.1


def test_repetition_wears_off_and_persona_shapes_appeals():
    persona = sample_persona(np.random.default_rng(0))
    donor = SimDonor(persona, np.random.default_rng(1))
    gains = []
    for turn in range(1, 4):
        before = donor.willingness
        donor.respond("Imagine a child who goes to bed hungry and scared every night.", turn, 10)
        gains.append(donor.willingness - before)
    assert gains[0] > gains[1] > gains[2] - 0.1  # noise is small next to the halving
    caring = SimDonor(persona.__class__(**{**persona.__dict__, "empathy": 0.95}), np.random.default_rng(2))
    cold = SimDonor(persona.__class__(**{**persona.__dict__, "empathy": 0.05}), np.random.default_rng(2))
    assert caring._appeal_effect(EMOTION_APPEAL) > cold._appeal_effect(EMOTION_APPEAL) + 0.3
    skeptic = SimDonor(persona.__class__(**{**persona.__dict__, "skepticism": 0.95}), np.random.default_rng(2))
    trusting = SimDonor(persona.__class__(**{**persona.__dict__, "skepticism": 0.05}), np.random.default_rng(2))
    assert skeptic._appeal_effect(CREDIBILITY_APPEAL) > trusting._appeal_effect(CREDIBILITY_APPEAL)


def test_donor_replies_vary_and_carry_no_numbers_before_deciding():
    env = make_env(_cfg())
    replies = set()
    policy = _persuader()
    for seed in range(30):
        steps, _ = _play(env, policy, f"donor-train-{seed:04d}", seed)
        for _, _, _, tr in steps:
            reply = tr.observation.view["last_donor_reply"]
            replies.add(reply)
            if not tr.done:
                assert "DONATION" not in reply and "$" not in reply
    assert len(replies) > 40


# --------------------------------------------------------------------------------------------- #
# LLM donor with a scripted fake LLM
# --------------------------------------------------------------------------------------------- #


class ScriptedLLM:
    backend = "fake"
    model = "scripted"

    def __init__(self, replies):
        self.replies = list(replies)
        self.requests: list[Request] = []

    def complete(self, request: Request) -> Completion:
        self.requests.append(request)
        return Completion(text=self.replies.pop(0), input_tokens=10, output_tokens=5)


def _llm_env(replies, max_turns=3):
    llm = ScriptedLLM(replies)
    cfg = _cfg("llm", max_turns=max_turns)
    return make_env(cfg, donor=llm_donors(llm, cfg.donor_temperature, cfg.donor_max_tokens)), llm


def test_llm_donor_valid_decision_midway():
    env, llm = _llm_env(["Hmm, who are they?", "Okay, fine.\nDONATION: $0.75"])
    env.reset("donor-test-0001", 0)
    tr = env.step("Hello! Have you heard of Save the Children?")
    assert not tr.done and tr.observation.view["last_donor_reply"] == "Hmm, who are they?"
    tr = env.step("They were founded in 1919 and are rated highly.")
    assert tr.done and tr.reward == 0.75
    out = env.outcome()
    assert out["donation"] == 0.75 and out["parse_failure"] is False and out["donor_calls"] == 2
    assert "DONATION" not in tr.observation.view["last_donor_reply"]
    prompt = llm.requests[1].messages[0].content
    assert "Persuader: Hello! Have you heard of Save the Children?" in prompt and "You: Hmm, who are they?" in prompt
    assert env.prompt_hashes["persuasion_donor"]


def test_clone_with_llm_donor_shares_the_backend_and_copies_the_dialogue():
    env, llm = _llm_env(["Who are they?", "Tell me more.", "Still listening."])
    env.reset("donor-test-0001", 0)
    env.step("Hello! Have you heard of Save the Children?")
    twin = env.clone()
    twin.step("They help children in need.")
    env.step("They were founded in 1919.")
    assert len(llm.requests) == 3 and twin._donor.llm is llm
    assert twin._donor.lines != env._donor.lines
    assert "You: Tell me more." in twin._donor.lines and "You: Still listening." in env._donor.lines
    assert env._donor.calls == 2 and twin._donor.calls == 2  # each counts its own calls


def test_llm_donor_missing_at_the_end_reasks_then_records_parse_failure():
    env, llm = _llm_env(["Meh.", "I'm not sure.", "I really can't say."], max_turns=2)
    env.reset("donor-test-0002", 0)
    env.step("Hi!")
    tr = env.step("Would you like to donate?")
    assert tr.done and tr.reward == 0.0
    out = env.outcome()
    assert out["parse_failure"] is True and out["decision"] == "parse_failure" and out["donor_calls"] == 3
    assert "DONATION: $x.xx" in llm.requests[-1].messages[-1].content


def test_llm_donor_missing_at_the_end_recovers_on_reask():
    env, _ = _llm_env(["Bye then.", "DONATION: $0.20"], max_turns=1)
    env.reset("donor-test-0003", 0)
    tr = env.step("Would you donate?")
    assert tr.done and tr.reward == 0.2 and env.outcome()["parse_failure"] is False
    assert tr.info["reasked"] is True


@pytest.mark.parametrize("bad", ["DONATION: some money", "DONATION: $3.50"])
def test_llm_donor_malformed_or_out_of_range_midway(bad):
    # Unreadable twice: $0 recorded as a parse failure.
    env, _ = _llm_env([f"Sure.\n{bad}", bad])
    env.reset("donor-test-0004", 0)
    tr = env.step("Would you like to donate?")
    assert tr.done and tr.reward == 0.0 and env.outcome()["parse_failure"] is True
    # Readable on the re-ask: the corrected amount is taken.
    env, _ = _llm_env([f"Sure.\n{bad}", "Sure.\nDONATION: $1.50"])
    env.reset("donor-test-0004", 0)
    tr = env.step("Would you like to donate?")
    assert tr.done and tr.reward == 1.5 and env.outcome()["parse_failure"] is False


def test_donor_prompt_renders_strictly():
    template = load_prompt("persuasion_donor")
    text = template.render(persona="P", dialogue="D", instruction="I")
    assert "DONATION: $x.xx" in text
    with pytest.raises(PromptError, match="missing field"):
        template.render(persona="P", dialogue="D")
    with pytest.raises(PromptError, match="unexpected field"):
        template.render(persona="P", dialogue="D", instruction="I", extra="x")
