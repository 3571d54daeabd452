"""Planning methods and the runner on a tiny fake environment with a fake policy and critic."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest

from pnlc.agents.metered import MeteredPolicy, words
from pnlc.agents.methods import AgentConfig, AgentConfigError, make_agent
from pnlc.agents.roles import DecisionContext, GoalSet, Policy
from pnlc.agents.runner import EpisodeMeta, run_episode, run_task
from pnlc.critic import Critic, parse_value
from pnlc.data.records import Usage, episode_from_dict, to_dict
from pnlc.envs.base import Env, Observation, Transition

# --------------------------------------------------------------------------------------------- #
# Fakes
# --------------------------------------------------------------------------------------------- #


class LineEnv:
    """Walk a line from 0 to the goal at 3 within 6 moves: actions right, left, wait."""

    name = "line"

    def __init__(self, clones: list[int] | None = None) -> None:
        self.clones = clones if clones is not None else []
        self.pos = 0
        self.moves = 0
        self.done = False

    def tasks(self, split: str) -> list[str]:
        return ["t0", "t1"] if split == "train" else ["t2", "t3"]

    def _obs(self) -> Observation:
        return Observation(f"You stand at {self.pos}. The goal is at 3. Say right, left or wait.", {"pos": self.pos})

    def reset(self, task_id: str, seed: int) -> Observation:
        self.pos, self.moves, self.done = 0, 0, False
        return self._obs()

    def step(self, action: str) -> Transition:
        valid = action in ("right", "left", "wait")
        self.pos += {"right": 1, "left": -1}.get(action, 0) if valid else 0
        self.moves += 1
        reached = self.pos == 3
        self.done = reached or self.moves >= 6
        return Transition(self._obs(), 1.0 if reached else 0.0, self.done, {"valid": valid})

    def describe(self) -> str:
        text = f"The agent is at position {self.pos} after {self.moves} moves."
        return text + (" The agent has reached the goal." if self.pos == 3 else "")

    def outcome(self):
        return {"reached": self.pos == 3, "moves": self.moves}

    def metric(self) -> float:
        return 1.0 if self.pos == 3 else 0.0

    def goal_outcomes(self):
        return {"The agent reaches the goal.": self.pos == 3}

    def reseed(self, seed: int) -> None:
        """Nothing to redraw: the line has no chance in it."""

    def clone(self) -> "LineEnv":
        self.clones.append(1)
        other = LineEnv(self.clones)
        other.pos, other.moves, other.done = self.pos, self.moves, self.done
        return other


RIGHT = "Move right toward the goal."
THOUGHTS = (RIGHT, "Move left to look around.", "Wait and watch.")


class LinePolicy:
    """A seeded random walker that reads the value text and the notes like an LLM would."""

    name = "prior"

    def __init__(self) -> None:
        self.rng = np.random.default_rng(0)
        self.notes_seen: list[tuple[str, ...]] = []
        self.value_texts: list[str] = []
        self.reflections = 0

    def begin_episode(self, task_id: str, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def propose_thought(self, ctx: DecisionContext) -> str:
        self.notes_seen.append(ctx.notes)
        return str(THOUGHTS[self.rng.choice(3, p=[0.4, 0.3, 0.3])])

    def act(self, ctx: DecisionContext, thought: str) -> str:
        t = thought.lower()
        return "right" if "right" in t else "left" if "left" in t else "wait"

    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        pos = ["The agent reaches the goal.", "The agent moves closer to the goal."]
        neg = ["The agent moves away from the goal.", "The agent runs out of moves."]
        return GoalSet(tuple(pos[i % 2] for i in range(n_pos)), tuple(neg[i % 2] for i in range(n_neg)))

    def refine(self, ctx: DecisionContext, thought: str, value_text: str, drafts=(), final=False) -> str | None:
        self.value_texts.append(value_text)
        lines = parse_value(value_text)
        worst_bad = max((ln.probability for ln in lines if not ln.positive), default=0.0)
        best_good = max((ln.probability for ln in lines if ln.positive), default=1.0)
        return RIGHT if (worst_bad > 0.5 or best_good < 0.5) and thought != RIGHT else None

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals) -> list[float]:
        return [0.9] * len(goals)

    def estimate_value(self, ctx: DecisionContext) -> float:
        pos = int(re.search(r"position (-?\d+)", ctx.summary).group(1))
        return min(max(pos / 3.0, 0.0), 1.0)

    def reflect(self, final_summary: str, outcome_text: str) -> str:
        self.reflections += 1
        return f"Lesson {self.reflections}: move right every turn."


class KeywordEmbedder:
    """Embeds whether a text is about moving right, moving left, good or bad outcomes."""

    model_id = "fake-keywords"
    dim = 5

    def __init__(self) -> None:
        self.calls = 0

    def embed(self, texts):
        self.calls += 1
        rows = []
        for t in texts:
            t = t.lower()
            v = np.array(
                [
                    "right" in t,
                    "left" in t or "wait" in t,
                    "reaches" in t or "closer" in t or "successfully" in t,
                    "away" in t or "runs out" in t,
                    1.0,
                ],
                dtype=np.float32,
            )
            rows.append(v / np.linalg.norm(v))
        return np.stack(rows)


class KeywordModel:
    """P(goal | thought): right makes good outcomes likely, left/wait makes bad ones likely."""

    embedder_id = "fake-keywords"

    def __init__(self, goal_conditioned: bool = True) -> None:
        self.goal_conditioned = goal_conditioned

    def q(self, state, thought, goal):
        if not self.goal_conditioned:
            return 1.0 / (1.0 + np.exp(-4.0 * (thought[:, 0] - thought[:, 1])))
        z = 4.0 * ((thought[:, 0] - thought[:, 1]) * (goal[:, 2] - goal[:, 3]))
        return 1.0 / (1.0 + np.exp(-z))


def config(**over) -> AgentConfig:
    base = dict(
        n_pos=2,
        n_neg=2,
        refine_rounds=2,
        best_of_n=3,
        reflexion_trials=3,
        reflexion_stop_on_success=False,
        lats_branching=3,
        lats_depth=2,
        lats_exploration=1.0,
        lats_reward_weight=1.0,
        metric_scale=1.0,
    )
    base.update(over)
    return AgentConfig(**base)


META = EpisodeMeta(backend="sim", model="sim-prior", max_steps=10)


def critic(goal_conditioned: bool = True) -> Critic:
    return Critic(KeywordModel(goal_conditioned), KeywordEmbedder())


def agent_for(method: str, policy: Policy | None = None, cfg: AgentConfig | None = None):
    c = critic(goal_conditioned=method != "scalar_critic") if method in ("pnlc", "best_of_n", "scalar_critic") else None
    return make_agent(method, policy or LinePolicy(), c, cfg or config())


METHODS = ["react", "reflexion", "self_critique", "best_of_n", "scalar_critic", "pnlc", "oracle", "lats_n5"]
DECISION_KEYS = {
    "policy_calls": int,
    "input_tokens": int,
    "output_tokens": int,
    "seconds": float,
    "critic_ms": float,
    "candidates": list,
    "rounds": list,
    "final_thought": str,
}

# --------------------------------------------------------------------------------------------- #


def test_fakes_satisfy_the_protocols() -> None:
    assert isinstance(LineEnv(), Env) and isinstance(LinePolicy(), Policy)
    assert isinstance(MeteredPolicy(LinePolicy()), Policy)


@pytest.mark.parametrize("method", METHODS)
def test_every_method_plays_and_records_the_contract(method: str) -> None:
    agent = agent_for(method)
    ep = run_task(LineEnv(), agent, "t2", 7, META)
    assert ep.policy == method and ep.backend == "sim" and ep.model == "sim-prior" and ep.env == "line"
    for key in ("method", "reads_env_reward", "uses_critic", "privileged", "trial", "simulated"):
        assert key in ep.info
    assert ep.info["method"] == method and ep.info["simulated"] is True
    assert ep.info["reads_env_reward"] is (method in ("reflexion", "lats_n5"))
    assert ep.info["uses_critic"] is (method in ("pnlc", "best_of_n", "scalar_critic"))
    assert ep.info["privileged"] is (method == "oracle")
    assert ep.info["trial"] == (2 if method == "reflexion" else 0)
    assert ep.steps and ep.steps[-1].done and ep.outcome["moves"] == len(ep.steps)
    assert ep.metric == (1.0 if ep.outcome["reached"] else 0.0)
    assert ep.final_summary.startswith("The agent is at position")
    for step in ep.steps:
        d = step.decision
        for key, typ in DECISION_KEYS.items():
            assert isinstance(d[key], typ), (method, key)
        assert d["final_thought"] == step.thought and step.thought in d["candidates"]
        assert d["policy_calls"] >= 2 and d["input_tokens"] > 0 and d["output_tokens"] > 0
        assert (d["critic_ms"] > 0) == ep.info["uses_critic"]
        if method in ("react", "reflexion", "oracle", "lats_n5"):
            assert d["rounds"] == []
        for r in d["rounds"]:
            n_goals = len(r["goals"]["positive"]) + len(r["goals"]["negative"])
            assert len(r["probabilities"]) == n_goals and all(0 <= p <= 1 for p in r["probabilities"])
            assert r["value_text"].startswith("Positive outcomes:")
    # Usage sums the decisions (plus reflections between reflexion trials).
    calls = sum(s.decision["policy_calls"] for s in ep.steps)
    assert ep.usage.calls >= calls
    # The record survives JSON.
    text = json.dumps(to_dict(ep), sort_keys=True)
    assert json.dumps(to_dict(episode_from_dict(json.loads(text))), sort_keys=True) == text


def test_step_records_summary_before_action_and_validity() -> None:
    class Stubborn(LinePolicy):
        def act(self, ctx, thought):
            return "jump" if not ctx.history else "right"

    ep = run_episode(LineEnv(), agent_for("react", Stubborn()), "t2", 1, META)
    assert ep.steps[0].state_summary == "The agent is at position 0 after 0 moves."
    assert ep.steps[1].state_summary == "The agent is at position 0 after 1 moves."
    assert ep.steps[0].valid is False and ep.steps[1].valid is True
    assert ep.steps[0].observation.startswith("You stand at 0")
    assert ep.outcome["reached"] and ep.metric == 1.0 and len(ep.steps) == 4


def test_cut_off_after_max_steps_is_recorded() -> None:
    ep = run_episode(LineEnv(), agent_for("react"), "t2", 3, EpisodeMeta("sim", "sim-prior", max_steps=2))
    assert len(ep.steps) == 2 and ep.info["truncated"] is True


def test_same_seed_same_episode() -> None:
    a = run_task(LineEnv(), agent_for("pnlc"), "t2", 11, META)
    b = run_task(LineEnv(), agent_for("pnlc"), "t2", 11, META)
    assert [s.action for s in a.steps] == [s.action for s in b.steps]
    assert [s.decision["rounds"] for s in a.steps] == [s.decision["rounds"] for s in b.steps]


# -- the PNLC loop -----------------------------------------------------------------------------


class AlwaysRefine(LinePolicy):
    def __init__(self) -> None:
        super().__init__()
        self.n = 0

    def refine(self, ctx, thought, value_text, drafts=(), final=False):
        self.n += 1
        return f"Move right, version {self.n}."


class NeverRefine(LinePolicy):
    def refine(self, ctx, thought, value_text, drafts=(), final=False):
        self.value_texts.append(value_text)
        return None


def _decide(method: str, policy: Policy, cfg: AgentConfig):
    agent = agent_for(method, policy, cfg)
    env = LineEnv()
    obs = env.reset("t2", 0)
    agent.begin_episode("t2", 0)
    ctx = DecisionContext(env="line", observation=obs, summary=env.describe())
    return agent.decide(ctx, env)


@pytest.mark.parametrize("m", [0, 1, 2, 3])
def test_pnlc_scores_every_new_draft_and_stops_after_m(m: int) -> None:
    policy = AlwaysRefine()
    thought, action, d = _decide("pnlc", policy, config(refine_rounds=m))
    scored = m + 1 if m else 0  # the first thought and each of the m new drafts
    assert len(d["rounds"]) == scored and policy.n == scored
    assert d["role_calls"].get("refine", 0) == scored and d["role_calls"].get("propose_goals", 0) == scored
    assert d["policy_calls"] == 2 + 2 * scored  # propose + act + each scored draft × (goals + refine)
    if m:
        # goals are re-proposed and re-scored for each new draft
        assert [r["thought"] for r in d["rounds"][1:]] == [f"Move right, version {i}." for i in range(1, m + 1)]
        # a new draft written on the final round is acted on unscored, and the decision says so
        assert thought == f"Move right, version {m + 1}." and d["unscored_final"] is True
        assert action == "right"
    assert d["candidates"][-1] == thought and len(d["candidates"]) == (m + 2 if m else 1)


class GoesBack(LinePolicy):
    """Writes one new draft, then reads both values and goes back to the first draft."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[tuple[tuple[str, ...], bool]] = []

    def propose_thought(self, ctx):
        return "Move left to look around."

    def refine(self, ctx, thought, value_text, drafts=(), final=False):
        self.seen.append((tuple(d.thought for d in drafts), final))
        return "Wait and watch." if not drafts else drafts[0].thought


def test_pnlc_policy_can_go_back_to_an_earlier_draft() -> None:
    policy = GoesBack()
    thought, action, d = _decide("pnlc", policy, config(refine_rounds=2))
    assert thought == "Move left to look around." and action == "left"
    assert d["returned_to_draft"] == 0 and len(d["rounds"]) == 2
    # the second round shows the first draft next to the current one; neither round is final
    assert policy.seen == [((), False), (("Move left to look around.",), False)]
    assert d["rounds"][1]["refined_to"] == "Move left to look around."


def test_pnlc_last_round_is_final() -> None:
    policy = GoesBack()
    policy.refine = lambda ctx, thought, value_text, drafts=(), final=False: (  # type: ignore[method-assign]
        policy.seen.append((tuple(x.thought for x in drafts), final)) or (None if final else f"Draft {len(drafts) + 2}.")
    )
    thought, _, d = _decide("pnlc", policy, config(refine_rounds=2))
    assert [f for _, f in policy.seen] == [False, False, True]
    assert thought == "Draft 3." and "unscored_final" not in d


def test_pnlc_accepts_when_refine_returns_none() -> None:
    policy = NeverRefine()
    thought, _, d = _decide("pnlc", policy, config(refine_rounds=2))
    assert len(d["rounds"]) == 1 and d["rounds"][0]["refined_to"] is None
    assert thought == d["rounds"][0]["thought"] == d["candidates"][0]
    assert d["rounds"][0]["value_text"] == policy.value_texts[0]
    r = d["rounds"][0]
    assert r["goals"] == {
        "positive": ["The agent reaches the goal.", "The agent moves closer to the goal."],
        "negative": ["The agent moves away from the goal.", "The agent runs out of moves."],
    }


def test_pnlc_refines_bad_thought_using_the_rendered_value() -> None:
    class StartsLeft(LinePolicy):
        def propose_thought(self, ctx):
            return "Move left to look around."

    thought, action, d = _decide("pnlc", StartsLeft(), config())
    first = d["rounds"][0]
    assert first["thought"] == "Move left to look around." and first["refined_to"] == RIGHT
    assert first["probabilities"][2] > 0.5  # the critic expects the bad outcome for "left"
    assert thought == RIGHT and action == "right" and len(d["rounds"]) == 2


def test_scalar_critic_renders_one_line() -> None:
    policy = NeverRefine()
    _, _, d = _decide("scalar_critic", policy, config())
    r = d["rounds"][0]
    assert r["goals"] == {"positive": ["The task ends successfully."], "negative": []}
    assert re.fullmatch(r"Positive outcomes:\n[01]\.\d\d: The task ends successfully\.", r["value_text"])
    assert "propose_goals" not in d["role_calls"]


def test_self_critique_uses_the_policys_own_probabilities() -> None:
    _, _, d = _decide("self_critique", NeverRefine(), config())
    assert d["rounds"][0]["probabilities"] == [0.9, 0.9, 0.9, 0.9]
    assert d["critic_ms"] == 0.0 and d["role_calls"]["estimate_goals"] == 1


def test_best_of_n_picks_the_best_mean_margin() -> None:
    class Cycle(LinePolicy):
        def __init__(self):
            super().__init__()
            self.i = 0

        def propose_thought(self, ctx):
            self.i += 1
            return THOUGHTS[(self.i + 1) % 3]  # left, wait, right

    thought, action, d = _decide("best_of_n", Cycle(), config(best_of_n=3))
    assert d["candidates"] == [THOUGHTS[2], THOUGHTS[0], THOUGHTS[1]]
    assert thought == RIGHT and action == "right"
    scores = d["scores"]
    assert scores[d["chosen_index"]] == max(scores) and len(d["rounds"]) == 3
    assert d["role_calls"] == {"propose_thought": 3, "propose_goals": 1, "act": 1}
    for r, s in zip(d["rounds"], scores):
        p = r["probabilities"]
        assert s == pytest.approx(np.mean(p[:2]) - np.mean(p[2:]))


# -- reflexion -------------------------------------------------------------------------------


def test_reflexion_carries_notes_between_trials() -> None:
    policy = LinePolicy()
    ep = run_task(LineEnv(), agent_for("reflexion", policy, config(reflexion_trials=3)), "t2", 5, META)
    assert policy.reflections == 2
    seen = sorted(set(policy.notes_seen), key=len)
    assert seen == [(), ("Lesson 1: move right every turn.",), ("Lesson 1: move right every turn.", "Lesson 2: move right every turn.")]
    assert ep.info["trial"] == 2 and [t["trial"] for t in ep.info["trials"]] == [0, 1, 2]
    assert ep.info["trials"][2]["notes"] == list(seen[2])
    # cost covers all three trials (each at least one decision of two calls) and both reflections
    assert ep.usage.calls >= sum(s.decision["policy_calls"] for s in ep.steps) + 2 * 2 + 2


def test_reflexion_first_trial_is_react() -> None:
    react = run_task(LineEnv(), agent_for("react"), "t2", 5, META)
    first = run_task(LineEnv(), agent_for("reflexion", LinePolicy(), config(reflexion_trials=1)), "t2", 5, META)
    assert [s.action for s in first.steps] == [s.action for s in react.steps]


class GoesRight(LinePolicy):
    def propose_thought(self, ctx):
        return RIGHT


@pytest.mark.parametrize("stop", [True, False])
def test_reflexion_stops_on_success_only_when_configured(stop: bool) -> None:
    policy = GoesRight()
    ep = run_task(LineEnv(), agent_for("reflexion", policy, config(reflexion_stop_on_success=stop)), "t2", 5, META)
    assert ep.metric == 1.0
    assert (ep.info["trial"], policy.reflections) == ((0, 0) if stop else (2, 2))


# -- lats --------------------------------------------------------------------------------------


@pytest.mark.parametrize("budget", [1, 5, 30])
def test_lats_stays_within_budget_and_counts_calls(budget: int) -> None:
    clones: list[int] = []
    agent = make_agent(f"lats_n{budget}", LinePolicy(), None, config())
    env = LineEnv(clones)
    obs = env.reset("t2", 0)
    agent.begin_episode("t2", 0)
    thought, action, d = agent.decide(DecisionContext("line", obs, env.describe()), env)
    s = d["search"]
    assert s["simulations"] == budget
    assert len(clones) == s["clones"] <= 1 + 2 * budget  # root copy + node and simulation copies
    assert env.pos == 0 and env.moves == 0  # the real environment is untouched
    assert d["policy_calls"] == sum(d["role_calls"].values())
    # each simulation: at most one expansion (branching × (thought + act)), a simulation of
    # lats_depth decisions (thought + act) and one value call
    assert d["policy_calls"] <= budget * (2 * 3 + 2 * 2 + 1)
    assert sum(c["visits"] for c in s["root_children"]) == budget
    assert thought in d["candidates"] and action in ("right", "left", "wait")


def test_lats_reads_env_reward_at_terminal_states_and_prefers_winning() -> None:
    agent = make_agent("lats_n30", LinePolicy(), None, config(lats_depth=0))
    env = LineEnv()
    obs = env.reset("t2", 0)
    env.pos = 2  # one step from the goal
    agent.begin_episode("t2", 0)
    thought, action, d = agent.decide(DecisionContext("line", obs, env.describe()), env)
    assert d["search"]["env_reward_reads"] > 0
    assert action == "right"


def test_lats_rollout_and_blended_value_run() -> None:
    agent = make_agent("lats_n5", LinePolicy(), None, config(lats_depth=3, lats_reward_weight=0.5))
    ep = run_task(LineEnv(), agent, "t2", 4, META)
    assert all(s.decision["search"]["simulations"] == 5 for s in ep.steps)
    assert all(0 < s.decision["role_calls"].get("estimate_value", 0) <= 5 for s in ep.steps)


def test_lats_terminal_value_blends_env_reward_with_the_policy_estimate() -> None:
    class RightPessimist(LinePolicy):
        def propose_thought(self, ctx):
            return RIGHT

        def estimate_value(self, ctx):
            return 0.2

    agent = make_agent("lats_n1", RightPessimist(), None, config(lats_depth=0, lats_reward_weight=0.5))
    env = LineEnv()
    obs = env.reset("t2", 0)
    env.pos = 2
    _, action, d = agent.decide(DecisionContext("line", obs, env.describe()), env)
    child = d["search"]["root_children"][0]
    assert action == "right" and child["value"] == pytest.approx(0.5 * 1.0 + 0.5 * 0.2)
    assert d["search"]["env_reward_reads"] == 1 and d["role_calls"]["estimate_value"] == 1


def test_pnlc_makes_ten_times_fewer_policy_calls_than_lats_n30() -> None:
    def calls_per_decision(method: str) -> float:
        ep = run_task(LineEnv(), agent_for(method), "t2", 9, META)
        return float(np.mean([s.decision["policy_calls"] for s in ep.steps]))

    assert calls_per_decision("lats_n30") >= 10 * calls_per_decision("pnlc")


# -- factory and metering ------------------------------------------------------------------------


def test_factory_errors_are_clear() -> None:
    with pytest.raises(AgentConfigError, match="unknown method 'mcts'"):
        make_agent("mcts", LinePolicy(), None, config())
    with pytest.raises(AgentConfigError, match="needs a trained critic"):
        make_agent("pnlc", LinePolicy(), None, config())
    with pytest.raises(AgentConfigError, match="scalar"):
        make_agent("scalar_critic", LinePolicy(), critic(True), config())
    with pytest.raises(AgentConfigError, match="refine_rounds"):
        config(refine_rounds=-1)

    class LLMBacked(LinePolicy):
        backend = "anthropic"

    with pytest.raises(AgentConfigError, match="oracle.*sim"):
        make_agent("oracle", LLMBacked(), None, config())
    oracle = make_agent("oracle", LinePolicy(), None, config())
    with pytest.raises(ValueError, match="privileged"):
        run_episode(LineEnv(), oracle, "t2", 0, EpisodeMeta("hf", "smollm2", 5))


def test_meter_counts_words_for_simulated_policies() -> None:
    m = MeteredPolicy(LinePolicy())
    env = LineEnv()
    ctx = DecisionContext("line", env.reset("t2", 0), env.describe())
    before = m.reading()
    thought = m.propose_thought(ctx)
    m.act(ctx, thought)
    cost = m.reading() - before
    assert m.simulated and cost.calls == 2 and cost.by_role == {"propose_thought": 1, "act": 1}
    ctx_words = words(ctx.observation.text, ctx.summary)
    assert cost.input_tokens == 2 * ctx_words + words(thought)
    assert cost.output_tokens == words(thought) + 1


def test_meter_reads_llm_usage_when_the_policy_reports_it() -> None:
    class Reporting(LinePolicy):
        usage_total = Usage()
        invalid_count = 0

        def propose_thought(self, ctx):
            self.usage_total = self.usage_total + Usage(calls=1, input_tokens=120, output_tokens=15, cost_usd=0.01)
            self.invalid_count += 1
            return RIGHT

    m = MeteredPolicy(Reporting())
    env = LineEnv()
    m.propose_thought(DecisionContext("line", env.reset("t2", 0), env.describe()))
    r = m.reading()
    assert not m.simulated and (r.input_tokens, r.output_tokens, r.invalid) == (120, 15, 1)
    assert r.cost_usd == pytest.approx(0.01)
