"""The LLM policy: prompt files rendered strictly, strict parsers, one re-ask, safe defaults, usage."""

from __future__ import annotations

import hashlib
from importlib import resources

import pytest

from pnlc.agents.llm_policy import (
    DEFAULT_THOUGHT,
    ROLE_PROMPTS,
    FormatError,
    LLMPolicy,
    LLMPolicyConfig,
    Prompt,
    PromptError,
    Summarizer,
    load_policy_prompts,
    parse_goals,
    parse_probabilities,
    parse_refine,
    summarize,
)
from pnlc.agents.methods import AgentConfig, make_agent
from pnlc.agents.roles import DecisionContext, Draft, Policy
from pnlc.envs.base import Observation
from pnlc.llm.base import Completion, Request


class ScriptedLLM:
    """Answers from a script: a list of texts (in order) or a dict role tag -> list of texts."""

    backend = "scripted"
    model = "script-1"

    def __init__(self, script) -> None:
        self.script = script
        self.requests: list[Request] = []

    def complete(self, request: Request) -> Completion:
        self.requests.append(request)
        queue = self.script[request.tag] if isinstance(self.script, dict) else self.script
        text = queue.pop(0) if len(queue) > 1 else queue[0]
        n_in = sum(len(m.content.split()) for m in request.messages) + len(request.system.split())
        return Completion(text=text, input_tokens=n_in, output_tokens=len(text.split()), latency_s=0.01, model=self.model)


CFG = LLMPolicyConfig(temperature=0.7, max_tokens=256, history_turns=4, prefill=False)
CTX = DecisionContext(
    env="avalon",
    observation=Observation("Round 3. Player 2 proposes team [2, 4]. Vote: approve or reject."),
    summary="Two quests have succeeded; the Minion is on the proposed team.",
    history=(("Stay quiet this round.", "approve"),),
    notes=("Do not approve teams with the Minion.",),
)


def policy(script) -> tuple[LLMPolicy, ScriptedLLM]:
    llm = ScriptedLLM(script)
    return LLMPolicy(llm, "avalon", CFG), llm


def test_well_formed_answers_and_what_the_llm_is_shown() -> None:
    p, llm = policy({"propose_thought": ["Thought: Reject the team with the Minion."], "act": ["Action: reject"]})
    assert isinstance(p, Policy)
    thought = p.propose_thought(CTX)
    action = p.act(CTX, thought)
    assert (thought, action) == ("Reject the team with the Minion.", "reject")
    first, second = llm.requests
    assert first.tag == "propose_thought" and second.tag == "act"
    assert "you play Merlin" in first.system  # the environment's task description
    prompt = first.messages[0].content
    for part in (CTX.observation.text, CTX.summary, "Stay quiet this round.", "Do not approve teams with the Minion."):
        assert part in prompt
    assert "Thought: Reject the team with the Minion." in second.messages[0].content
    assert first.temperature == 0.7 and first.max_tokens == 256
    assert p.invalid_count == 0 and p.usage_total.calls == 2 and p.usage_total.input_tokens > 0


def test_malformed_then_fixed_is_reasked_once() -> None:
    p, llm = policy(["I would reject this team.", "Thought: Reject it."])
    assert p.propose_thought(CTX) == "Reject it."
    assert len(llm.requests) == 2 and p.invalid_count == 0
    retry = llm.requests[1].messages
    assert [m.role for m in retry] == ["user", "assistant", "user"]
    assert retry[1].content == "I would reject this team."
    assert "no line starting with 'Thought:'" in retry[2].content
    assert p.usage_total.calls == 2  # both attempts are paid for


def test_malformed_twice_gives_the_safe_default_recorded_invalid() -> None:
    p, llm = policy(["no idea", "still no idea"])
    assert p.propose_thought(CTX) == DEFAULT_THOUGHT
    assert p.act(CTX, "x") == ""  # the environment answers an empty action with its own safe move
    assert len(llm.requests) == 4
    assert p.invalid_count == 2 and p.invalid_by_role == {"propose_thought": 1, "act": 1}


def test_goal_refine_estimate_and_reflect_roles() -> None:
    p, llm = policy(
        {
            "propose_goals": [
                "Positive:\n- Good wins the game.\n- The quest succeeds.\nNegative:\n- Merlin is assassinated.\n- Evil wins.",
            ],
            "refine": ["ACCEPT", "Thought: Propose a team of two servants."],
            "estimate_goals": ["1: 0.7\n2: 0.65\n3: 0.2\n4: .1"],
            "estimate_value": ["Value: 0.35"],
            "reflect": ["Reflection: Speak up earlier against the Minion."],
        }
    )
    goals = p.propose_goals(CTX, "Reject the team.", 2, 2)
    assert goals.positive == ("Good wins the game.", "The quest succeeds.")
    assert goals.negative == ("Merlin is assassinated.", "Evil wins.")
    assert "2 positive outcomes" in llm.requests[-1].messages[0].content
    assert p.refine(CTX, "Reject the team.", "Positive outcomes:\n0.62: Good wins the game.") is None
    assert "0.62: Good wins the game." in llm.requests[-1].messages[0].content
    assert p.refine(CTX, "Reject the team.", "Negative outcomes:\n0.80: Evil wins.") == "Propose a team of two servants."
    assert p.estimate_goals(CTX, "t", list(goals.all)) == [0.7, 0.65, 0.2, 0.1]
    assert "3. Merlin is assassinated." in llm.requests[-1].messages[0].content
    assert p.estimate_value(CTX) == 0.35
    assert p.reflect("Evil won.", "Outcome: good_win=false.") == "Speak up earlier against the Minion."
    assert p.invalid_count == 0


def test_malformed_goals_and_probabilities_fall_back() -> None:
    p, _ = policy({"propose_goals": ["Positive:\n- only one"], "estimate_goals": ["1: 0.7\n2: 1.5"]})
    goals = p.propose_goals(CTX, "t", 2, 2)
    assert len(goals.positive) == 2 and len(goals.negative) == 2 and len(set(goals.all)) == 4
    assert p.estimate_goals(CTX, "t", ["a", "b"]) == [0.5, 0.5]
    assert p.invalid_by_role == {"propose_goals": 1, "estimate_goals": 1}


def test_strict_parsers() -> None:
    with pytest.raises(FormatError, match="found 1 and 0"):
        parse_goals("Positive:\n- a\nNegative:", 2, 1)
    assert parse_goals("**Positive:**\n1. a\n2. b\n3. c\nNegative outcomes:\n* d", 2, 1).all == ("a", "b", "d")
    with pytest.raises(FormatError, match="ACCEPT"):
        parse_refine("Looks fine to me")
    assert parse_refine("accept") is None
    assert parse_refine("DRAFT 2", ["first", "second"]) == "second"
    with pytest.raises(FormatError, match="numbered 1 to 2"):
        parse_refine("Draft 3", ["first", "second"])
    with pytest.raises(FormatError, match="final round"):
        parse_refine("Thought: something new", ["first"], final=True)
    with pytest.raises(FormatError, match=r"missing \[2\]"):
        parse_probabilities("1: 0.3", 2)


def test_refine_shows_earlier_drafts_with_their_values_and_can_go_back() -> None:
    p, llm = policy({"refine": ["DRAFT 1"]})
    drafts = (Draft("Accuse Player 3.", "Negative outcomes:\n0.70: Merlin is assassinated."),)
    back = p.refine(CTX, "Stay quiet.", "Negative outcomes:\n0.90: Quest 2 fails.", drafts, final=True)
    assert back == "Accuse Player 3."
    prompt = llm.requests[0].messages[0].content
    assert "Draft 1: Accuse Player 3." in prompt and "0.70: Merlin is assassinated." in prompt
    assert "0.90: Quest 2 fails." in prompt and "final round" in prompt and "DRAFT <number>" in prompt
    assert "Thought: <improved thought>" not in prompt  # no new draft on the final round


def test_repeated_requests_get_distinct_sample_indices() -> None:
    p, llm = policy(["Thought: a"])
    for _ in range(3):
        p.propose_thought(CTX)
    assert [r.sample_index for r in llm.requests] == [0, 1, 2]
    p.begin_episode("t", 0)
    p.propose_thought(CTX)
    assert llm.requests[-1].sample_index == 0


def test_prompts_render_strictly_and_are_hashed() -> None:
    with pytest.raises(PromptError, match=r"greet\.txt.*name"):
        Prompt("greet", "Hello {name}, {{literal}}").render()
    assert Prompt("greet", "Hello {name}, {{literal}}").render(name="A") == "Hello A, {literal}"
    p, _ = policy(["Thought: a"])
    hashes = p.prompt_hashes
    assert set(hashes) == set(ROLE_PROMPTS) | {"policy_avalon_task"}
    text = resources.files("pnlc").joinpath("prompts", "refine.txt").read_text(encoding="utf-8")
    assert hashes["refine"] == hashlib.sha256(text.encode("utf-8")).hexdigest()


@pytest.mark.parametrize("env", ["avalon", "webshop", "persuasion"])
def test_every_environment_has_a_task_description(env: str) -> None:
    prompts = load_policy_prompts(env)
    assert prompts["policy_task"].render().strip()


def test_unknown_environment_names_the_missing_file() -> None:
    with pytest.raises(PromptError, match="policy_chess_task.txt"):
        LLMPolicy(ScriptedLLM(["x"]), "chess", CFG)


def test_summarize() -> None:
    llm = ScriptedLLM(["Summary: The donor asked about the charity and has not agreed to donate."])
    assert summarize(llm, "Donor: Is this legit?") == "The donor asked about the charity and has not agreed to donate."
    assert llm.requests[0].temperature == 0.0 and "write an outcome-style description" in llm.requests[0].messages[0].content.lower()
    bad = Summarizer(ScriptedLLM(["I can't", "no"]), prefill=False)
    assert bad("Donor:   Is this\nlegit?") == "Donor: Is this legit?" and bad.invalid_count == 1


def test_agent_decision_counts_llm_tokens() -> None:
    p, _ = policy(
        {
            "propose_thought": ["Thought: Reject the team."],
            "propose_goals": ["Positive:\n- Good wins.\n- Quest succeeds.\nNegative:\n- Evil wins.\n- Merlin dies."],
            "estimate_goals": ["1: 0.9\n2: 0.8\n3: 0.1\n4: 0.1"],
            "refine": ["ACCEPT"],
            "act": ["Action: reject"],
        }
    )
    cfg = AgentConfig(
        n_pos=2, n_neg=2, refine_rounds=2, best_of_n=3, reflexion_trials=2, reflexion_stop_on_success=False,
        lats_branching=3, lats_depth=2, lats_exploration=1.0, lats_reward_weight=1.0, metric_scale=1.0,
    )
    agent = make_agent("self_critique", p, None, cfg)
    thought, action, d = agent.decide(CTX, env=None)  # self_critique never touches the environment
    assert (thought, action) == ("Reject the team.", "reject")
    assert d["policy_calls"] == 5 and d["input_tokens"] == p.usage_total.input_tokens
    assert d["output_tokens"] == p.usage_total.output_tokens and d["invalid_outputs"] == 0
    assert d["rounds"][0]["probabilities"] == [0.9, 0.8, 0.1, 0.1]


# -- answer forms: prefill, answer patterns, counts ------------------------------------------------


class ContinuingLLM(ScriptedLLM):
    """Answers with the continuation of a prefilled assistant turn, as the Messages API and
    transformers' continue_final_message do."""

    def complete(self, request: Request) -> Completion:
        c = super().complete(request)
        return Completion(text=c.text, input_tokens=c.input_tokens, output_tokens=c.output_tokens)


def test_prefill_sends_the_format_start_and_joins_the_continuation() -> None:
    import dataclasses

    llm = ContinuingLLM({"propose_thought": [" Test Player 4 with a vote."], "act": ["approve"],
                         "estimate_goals": [" 0.7\n2: 0.2"], "propose_goals": [" A\n- B\nNegative:\n- C\n- D"]})
    pol = LLMPolicy(llm, "avalon", dataclasses.replace(CFG, prefill=True))
    assert pol.propose_thought(CTX) == "Test Player 4 with a vote."
    first = llm.requests[0]
    assert first.messages[-1].role == "assistant" and first.messages[-1].content == "Thought:"
    assert first.stop == ("\n",) and first.pattern.startswith(" ")
    assert pol.act(CTX, "x") == "approve"  # "Action:" + "approve" reads as "Action: approve"
    assert pol.estimate_goals(CTX, "x", ["a", "b"]) == [0.7, 0.2]
    assert llm.requests[-1].messages[-1].content == "1:"
    goals = pol.propose_goals(CTX, "x", 2, 2)
    assert goals.positive == ("A", "B") and goals.negative == ("C", "D")
    forms = pol.answer_forms
    assert all(forms[r].first_ok == forms[r].asked == 1 for r in ("propose_thought", "act", "estimate_goals", "propose_goals"))


def test_malformed_answers_are_counted_per_role_as_reasked_or_defaulted() -> None:
    pol, _ = policy({"estimate_value": ["no idea", "Value: 0.4", "maybe", "still no"]})
    assert pol.estimate_value(CTX) == 0.4  # malformed, then well formed when asked again
    assert pol.estimate_value(CTX) == 0.5  # malformed twice: the default
    stats = pol.answer_forms["estimate_value"]
    assert (stats.asked, stats.first_ok, stats.reask_ok, stats.defaulted) == (2, 0, 1, 1)


@pytest.mark.parametrize(
    ("role", "shape", "good", "bad"),
    [
        ("propose_thought", {}, ["Thought: go left"], ["Thought:", "Thought: a\nb", "go left"]),
        ("estimate_goals", {"n_goals": 3}, ["1: 0.5\n2: 1\n3: .25"], ["1: 0.5\n2: 1.5\n3: 0", "1: 0.5\n2: 0.1"]),
        ("estimate_value", {}, ["Value: 0", "Value: 0.125", "Value: 1.0"], ["Value: 2", "Value: high"]),
        ("refine", {"n_drafts": 2, "final": False}, ["ACCEPT", "DRAFT 2", "Thought: try again"], ["DRAFT 3", "maybe"]),
        ("refine", {"n_drafts": 0, "final": True}, ["ACCEPT"], ["DRAFT 1", "Thought: more"]),
        ("propose_goals", {"n_pos": 1, "n_neg": 2}, ["Positive:\n- won\nNegative:\n- lost\n- stuck"],
         ["Positive:\n- won\nNegative:\n- lost"]),
    ],
)
def test_answer_patterns_accept_what_the_parsers_accept(role, shape, good, bad) -> None:
    """Whole answers (no prefill): every string the pattern matches parses; the bad ones match not."""
    import re

    from pnlc.agents.llm_policy import answer_pattern, parse_thought, parse_value

    pattern = re.compile(answer_pattern(role, False, **shape))
    parse = {
        "propose_thought": parse_thought,
        "estimate_goals": lambda t: parse_probabilities(t, shape.get("n_goals", 0)),
        "estimate_value": parse_value,
        "refine": lambda t: parse_refine(t, ["a", "b"][: shape.get("n_drafts", 0)], shape.get("final", False)),
        "propose_goals": lambda t: parse_goals(t, shape.get("n_pos", 0), shape.get("n_neg", 0)),
    }[role]
    for text in good:
        assert pattern.fullmatch(text), text
        parse(text)
    for text in bad:
        assert not pattern.fullmatch(text), text
    with_prefill = answer_pattern(role, True, **shape)
    assert pattern.pattern.endswith(with_prefill)


def test_a_reask_is_one_more_policy_call_of_the_decision() -> None:
    """Calls are requests, as the API bills them: the re-ask of a malformed thought counts."""
    p, llm = policy({"propose_thought": ["I would reject.", "Thought: Reject the team."], "act": ["Action: reject"]})
    cfg = AgentConfig(
        n_pos=2, n_neg=2, refine_rounds=2, best_of_n=3, reflexion_trials=2, reflexion_stop_on_success=False,
        lats_branching=3, lats_depth=2, lats_exploration=1.0, lats_reward_weight=1.0, metric_scale=1.0,
    )
    _, _, d = make_agent("react", p, None, cfg).decide(CTX, env=None)
    assert len(llm.requests) == 3 and d["policy_calls"] == 3 and p.usage_total.calls == 3
    assert d["role_calls"] == {"propose_thought": 1, "act": 1}
