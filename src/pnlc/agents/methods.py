"""Planning methods built from the policy roles: react, reflexion, self_critique, best_of_n,
scalar_critic, lats, pnlc and the simulated-only oracle.

Every method answers `decide(ctx, env) -> (thought, action, decision)`, where `decision` is the
decision-trace dict the evaluation reads: policy calls, tokens, seconds, the critic's own
milliseconds, the candidate thoughts, one entry per critic round, and the final thought. Methods
never look inside the policy; they only call its roles, through a `MeteredPolicy` that counts them.
"""

from __future__ import annotations

import logging
import math
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np

from pnlc.agents.metered import MeteredPolicy
from pnlc.agents.roles import DecisionContext, Draft, GoalSet, Policy
from pnlc.critic.critic import SCALAR_GOAL, Critic, render_scalar
from pnlc.critic.render import render_value
from pnlc.envs.base import Env

log = logging.getLogger(__name__)

BASE_METHODS = ("react", "reflexion", "self_critique", "best_of_n", "scalar_critic", "pnlc", "oracle")
_LATS_NAME = re.compile(r"^lats_n(\d+)$")


class AgentConfigError(ValueError):
    """A method name or an agent config value is not usable; the message names the key."""


@dataclass(frozen=True)
class AgentConfig:
    """Knobs of every method (params.yaml `evaluate.agent`); each method reads only its own.

    n_pos, n_neg        goals per thought the policy imagines (paper: 2 + 2)
    refine_rounds       m: new drafts the policy may write per decision, each scored (ours: 2)
    best_of_n           thoughts sampled by best_of_n
    reflexion_trials    k: trials per task for reflexion (the last one is reported)
    reflexion_stop_on_success  end reflexion early once a trial reaches full success (metric >=
                        metric_scale), as Reflexion does; False plays all k trials
    lats_branching      thoughts sampled when a search node is expanded
    lats_depth          decisions simulated (policy rollout on a clone) below each new search node
                        before its value is read; 0 values the node directly
    lats_exploration    UCT exploration constant
    lats_reward_weight  at a terminal state: value = w * env reward + (1 - w) * policy estimate
    metric_scale        the environment's metric at full success (Avalon 1, WebShop 1, Persuasion 2
                        dollars): LATS reads metric / metric_scale as its reward in [0, 1]
    """

    n_pos: int
    n_neg: int
    refine_rounds: int
    best_of_n: int
    reflexion_trials: int
    reflexion_stop_on_success: bool
    lats_branching: int
    lats_depth: int
    lats_exploration: float
    lats_reward_weight: float
    metric_scale: float

    def __post_init__(self) -> None:
        at_least = {
            "n_pos": (self.n_pos, 1),
            "n_neg": (self.n_neg, 0),
            "refine_rounds": (self.refine_rounds, 0),
            "best_of_n": (self.best_of_n, 1),
            "reflexion_trials": (self.reflexion_trials, 1),
            "lats_branching": (self.lats_branching, 1),
            "lats_depth": (self.lats_depth, 0),
        }
        for key, (value, low) in at_least.items():
            if not isinstance(value, int) or value < low:
                raise AgentConfigError(f"agent config: {key} must be an integer >= {low}, got {value!r}")
        if not self.lats_exploration >= 0:
            raise AgentConfigError(f"agent config: lats_exploration must be >= 0, got {self.lats_exploration!r}")
        if not 0.0 <= self.lats_reward_weight <= 1.0:
            raise AgentConfigError(f"agent config: lats_reward_weight must be in [0, 1], got {self.lats_reward_weight!r}")
        if not self.metric_scale > 0:
            raise AgentConfigError(f"agent config: metric_scale must be > 0, got {self.metric_scale!r}")
        if not isinstance(self.reflexion_stop_on_success, bool):
            raise AgentConfigError(
                f"agent config: reflexion_stop_on_success must be true or false, got {self.reflexion_stop_on_success!r}"
            )


@dataclass
class _Trace:
    candidates: list[str] = field(default_factory=list)
    rounds: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def _round(thought: str, goals: GoalSet, probs: Any, value_text: str, refined_to: str | None) -> dict[str, Any]:
    return {
        "thought": thought,
        "goals": {"positive": list(goals.positive), "negative": list(goals.negative)},
        "probabilities": [float(p) for p in np.asarray(probs, dtype=float).reshape(-1)],
        "value_text": value_text,
        "refined_to": refined_to,
    }


class Agent:
    """A planning method. Subclasses implement `_decide`; `decide` adds the cost accounting."""

    reads_env_reward = False
    uses_critic = False
    privileged = False
    trials = 1

    def __init__(self, name: str, policy: Policy, cfg: AgentConfig, critic: Critic | None = None) -> None:
        self.name = name
        self.policy = policy if isinstance(policy, MeteredPolicy) else MeteredPolicy(policy)
        self.cfg = cfg
        self.critic = critic

    def info(self) -> dict[str, Any]:
        """The method's flags for Episode.info (see the decision-trace contract)."""
        return {
            "method": self.name,
            "reads_env_reward": self.reads_env_reward,
            "uses_critic": self.uses_critic,
            "privileged": self.privileged,
        }

    def begin_episode(self, task_id: str, seed: int) -> None:
        self.policy.begin_episode(task_id, seed)

    def decide(self, ctx: DecisionContext, env: Env) -> tuple[str, str, dict[str, Any]]:
        start = time.perf_counter()
        before = self.policy.reading()
        critic_before = self.critic.total_ms if self.critic is not None else 0.0
        trace = _Trace()
        thought, action = self._decide(ctx, env, trace)
        cost = self.policy.reading() - before
        critic_ms = (self.critic.total_ms - critic_before) if self.critic is not None else 0.0
        decision: dict[str, Any] = {
            "method": self.name,
            "policy_calls": cost.calls,
            "input_tokens": cost.input_tokens,
            "output_tokens": cost.output_tokens,
            "seconds": time.perf_counter() - start,
            "critic_ms": float(critic_ms),
            "candidates": trace.candidates,
            "rounds": trace.rounds,
            "final_thought": thought,
            "role_calls": dict(cost.by_role),
            "invalid_outputs": cost.invalid,
        }
        if cost.malformed or cost.defaulted:  # LLM roles only: answers out of format, per role
            decision["malformed_by_role"] = dict(cost.malformed)
            decision["defaulted_by_role"] = dict(cost.defaulted)
        decision.update(trace.extra)
        return thought, action, decision

    def _decide(self, ctx: DecisionContext, env: Env, trace: _Trace) -> tuple[str, str]:
        raise NotImplementedError


class React(Agent):
    """The base policy: one thought, then the action it implies."""

    def _decide(self, ctx: DecisionContext, env: Env, trace: _Trace) -> tuple[str, str]:
        thought = self.policy.propose_thought(ctx)
        trace.candidates.append(thought)
        return thought, self.policy.act(ctx, thought)


class Reflexion(React):
    """React within a trial; between trials the runner asks the policy for a lesson (ctx.notes),
    showing it its own moves and whether the trial succeeded (runner.conduct_text, result_text).

    It reads the task's score between trials, so it is marked as reading the environment reward.
    """

    reads_env_reward = True

    def __init__(self, name: str, policy: Policy, cfg: AgentConfig, critic: Critic | None = None) -> None:
        super().__init__(name, policy, cfg, critic)
        self.trials = cfg.reflexion_trials


class Oracle(React):
    """The environment's privileged scripted player (simulated mode only): the ceiling."""

    privileged = True


class _RefineLoop(Agent):
    """Thought → evaluate (goals + probabilities + value text) → refine, with up to m new drafts.

    Every draft is scored before the policy decides about it. Each round the policy reads the value
    of the current draft next to the earlier drafts of this decision and their values, and answers:
    accept the current draft (None), go back to an earlier draft (its text), or write a new draft,
    which the next round scores. After the m-th new draft has been scored the policy is told that
    the round is final (accept or go back). The loop never picks a draft by its score: the policy
    decides what it keeps (picking by score is best-of-n). A new draft written on the final round
    is acted on unscored, as the policy asked, and the decision records it (`unscored_final`).
    A round's `refined_to` is the new draft, or the earlier draft gone back to, or None (accepted).
    """

    def _evaluate(self, ctx: DecisionContext, thought: str) -> tuple[GoalSet, np.ndarray, str]:
        raise NotImplementedError

    def _decide(self, ctx: DecisionContext, env: Env, trace: _Trace) -> tuple[str, str]:
        thought = self.policy.propose_thought(ctx)
        trace.candidates.append(thought)
        drafts: list[Draft] = []
        rounds = self.cfg.refine_rounds + 1 if self.cfg.refine_rounds else 0
        for round_index in range(rounds):
            goals, probs, value_text = self._evaluate(ctx, thought)
            if not goals.all:
                log.warning("%s: the policy proposed no goals; accepting the thought unscored", self.name)
                trace.rounds.append(_round(thought, goals, probs, value_text, None))
                break
            final = round_index == self.cfg.refine_rounds
            new = self.policy.refine(ctx, thought, value_text, tuple(drafts), final)
            answer = new.strip() if isinstance(new, str) and new.strip() and new.strip() != thought else None
            trace.rounds.append(_round(thought, goals, probs, value_text, answer))
            if answer is None:
                break
            earlier = [d.thought for d in drafts]
            if answer in earlier:
                trace.extra["returned_to_draft"] = earlier.index(answer)
                thought = answer
                break
            drafts.append(Draft(thought, value_text))
            thought = answer
            trace.candidates.append(thought)
            if final:
                trace.extra["unscored_final"] = True
                break
        return thought, self.policy.act(ctx, thought)

    def _goals(self, ctx: DecisionContext, thought: str) -> GoalSet:
        return self.policy.propose_goals(ctx, thought, self.cfg.n_pos, self.cfg.n_neg)


class PNLC(_RefineLoop):
    """Planning with a natural-language critic: goal probabilities from the trained critic."""

    uses_critic = True

    def _evaluate(self, ctx: DecisionContext, thought: str) -> tuple[GoalSet, np.ndarray, str]:
        goals = self._goals(ctx, thought)
        if not goals.all:
            return goals, np.zeros(0), ""
        assert self.critic is not None
        probs = self.critic.score(ctx.summary, [thought], goals.all)[0]
        return goals, probs, self.critic.render(goals, probs)


class SelfCritique(_RefineLoop):
    """The PNLC loop with the policy's own probabilities for its goals (the paper's ReAct+Replan)."""

    def _evaluate(self, ctx: DecisionContext, thought: str) -> tuple[GoalSet, np.ndarray, str]:
        goals = self._goals(ctx, thought)
        if not goals.all:
            return goals, np.zeros(0), ""
        raw = list(self.policy.estimate_goals(ctx, thought, goals.all))
        if len(raw) != len(goals.all):
            log.warning("%s: %d probabilities for %d goals; padding with 0.5", self.name, len(raw), len(goals.all))
            raw = (raw + [0.5] * len(goals.all))[: len(goals.all)]
        probs = np.clip(np.asarray(raw, dtype=float), 0.0, 1.0)
        return goals, probs, render_value(goals.positive, goals.negative, probs)


class ScalarCritic(_RefineLoop):
    """The PNLC loop with the goal-free critic: one line `0.42: The task ends successfully.`"""

    uses_critic = True

    def _evaluate(self, ctx: DecisionContext, thought: str) -> tuple[GoalSet, np.ndarray, str]:
        assert self.critic is not None
        p = float(self.critic.score_scalar(ctx.summary, [thought])[0])
        return GoalSet((SCALAR_GOAL,), ()), np.array([p]), render_scalar(p)


class BestOfN(Agent):
    """n thoughts; the critic picks the one with the best mean P(positive) − mean P(negative)."""

    uses_critic = True

    def _decide(self, ctx: DecisionContext, env: Env, trace: _Trace) -> tuple[str, str]:
        assert self.critic is not None
        thoughts = [self.policy.propose_thought(ctx) for _ in range(self.cfg.best_of_n)]
        trace.candidates.extend(thoughts)
        goals = self.policy.propose_goals(ctx, thoughts[0], self.cfg.n_pos, self.cfg.n_neg)
        if not goals.all:
            log.warning("%s: the policy proposed no goals; taking the first thought", self.name)
            trace.extra["scores"] = [0.0] * len(thoughts)
            return thoughts[0], self.policy.act(ctx, thoughts[0])
        probs = self.critic.score(ctx.summary, thoughts, goals.all)
        n_pos = len(goals.positive)
        pos = probs[:, :n_pos].mean(axis=1) if n_pos else np.zeros(len(thoughts))
        neg = probs[:, n_pos:].mean(axis=1) if goals.negative else np.zeros(len(thoughts))
        scores = pos - neg
        best = int(np.argmax(scores))  # first of equal scores
        for t, p in zip(thoughts, probs):
            trace.rounds.append(_round(t, goals, p, self.critic.render(goals, p), None))
        trace.extra["scores"] = [float(s) for s in scores]
        trace.extra["chosen_index"] = best
        return thoughts[best], self.policy.act(ctx, thoughts[best])


@dataclass(eq=False)
class _Node:
    thought: str
    action: str
    parent: "_Node | None"
    depth: int
    env: Env | None = None
    ctx: DecisionContext | None = None
    children: list["_Node"] | None = None
    visits: int = 0
    value_sum: float = 0.0
    value: float = 0.0
    terminal: bool = False

    @property
    def mean(self) -> float:
        return self.value_sum / self.visits if self.visits else 0.0


class LATS(Agent):
    """Monte-Carlo tree search over thoughts on environment clones (Language Agent Tree Search).

    One simulation: UCT selection down the tree (unvisited children first); a node is expanded by
    sampling `branching` thoughts and their actions; a new node is materialised the first time it is
    selected (one clone of its parent's state, one step) and valued after a bounded simulation of
    `lats_depth` policy decisions on a second clone — the policy's value estimate where the
    simulation stops, or at a terminal state the environment's reward blended with it (the search
    reads the env reward); the value is backed up the path. The tree's depth is bounded by the
    budget; the root child visited most is acted on. At most two clones per simulation.

    Every clone draws fresh randomness for everything hidden from the agent (counterparts, donor,
    any chance in the environment; `reseed`), seeded from the episode, the decision and the clone's
    number, so a simulation samples a possible future instead of replaying the real game's.
    """

    reads_env_reward = True

    def __init__(self, name: str, policy: Policy, cfg: AgentConfig, budget: int, critic: Critic | None = None) -> None:
        super().__init__(name, policy, cfg, critic)
        if budget < 1:
            raise AgentConfigError(f"{name}: the search budget must be >= 1 simulation, got {budget}")
        self.budget = budget
        self._episode_seed = 0
        self._decisions = 0
        self._clones = 0

    def begin_episode(self, task_id: str, seed: int) -> None:
        super().begin_episode(task_id, seed)
        self._episode_seed = int(seed)
        self._decisions = 0

    def fresh_clone(self, env: Env, stats: dict[str, Any]) -> Env:
        """A clone of `env` whose hidden randomness from here on is drawn anew."""
        from pnlc.envs.base import EnvError, Reseedable

        twin = env.clone()
        stats["clones"] += 1
        self._clones += 1
        if not isinstance(twin, Reseedable):
            raise AgentConfigError(
                f"{self.name}: environment {env.name!r} cannot draw fresh randomness (no reseed()); LATS would "
                "replay the real game's future on its clones"
            )
        seed = np.random.SeedSequence([self._episode_seed, self._decisions, self._clones]).generate_state(1)[0]
        try:
            twin.reseed(int(seed))
        except EnvError as exc:
            raise AgentConfigError(
                f"{self.name}: {exc}; LATS needs counterparts whose randomness a clone can redraw"
            ) from None
        return twin

    def _decide(self, ctx: DecisionContext, env: Env, trace: _Trace) -> tuple[str, str]:
        stats = {"simulations": 0, "clones": 1, "env_reward_reads": 0, "nodes": 1}
        self._decisions += 1
        self._clones = 0
        root = _Node("", "", None, 0, env=env.clone(), ctx=ctx)  # never stepped: its children reseed
        for _ in range(self.budget):
            node, path = root, [root]
            while True:
                if node.env is None:
                    self._materialise(node, stats)
                    value = self._evaluate(node, stats)
                    break
                if node.terminal:
                    value = node.value
                    break
                if node.children is None:
                    self._expand(node, stats)
                node = self._select(node)
                path.append(node)
            for n in path:
                n.visits += 1
                n.value_sum += value
            stats["simulations"] += 1
        children = [c for c in root.children or [] if c.visits]
        best = max(children, key=lambda c: (c.visits, c.mean))  # max keeps the first of equals
        trace.candidates.extend(c.thought for c in root.children or [])
        stats["root_children"] = [
            {"thought": c.thought, "action": c.action, "visits": c.visits, "value": c.mean} for c in root.children or []
        ]
        trace.extra["search"] = stats
        return best.thought, best.action

    def _expand(self, node: _Node, stats: dict[str, Any]) -> None:
        assert node.ctx is not None
        seen: set[str] = set()
        node.children = []
        for _ in range(self.cfg.lats_branching):
            thought = self.policy.propose_thought(node.ctx)
            if thought in seen:
                continue
            seen.add(thought)
            action = self.policy.act(node.ctx, thought)
            node.children.append(_Node(thought, action, node, node.depth + 1))
        stats["nodes"] += len(node.children)

    def _select(self, node: _Node) -> _Node:
        assert node.children
        for child in node.children:
            if child.visits == 0:
                return child
        log_n = math.log(max(node.visits, 1))
        c = self.cfg.lats_exploration
        return max(node.children, key=lambda ch: ch.mean + c * math.sqrt(log_n / ch.visits))

    def _materialise(self, node: _Node, stats: dict[str, Any]) -> None:
        parent = node.parent
        assert parent is not None and parent.env is not None and parent.ctx is not None
        env = self.fresh_clone(parent.env, stats)
        tr = env.step(node.action)
        node.env = env
        node.terminal = bool(tr.done)
        node.ctx = DecisionContext(
            env=parent.ctx.env,
            observation=tr.observation,
            summary=env.describe(),
            history=parent.ctx.history + ((node.thought, node.action),),
            notes=parent.ctx.notes,
        )

    def _terminal_value(self, env: Env, ctx: DecisionContext, stats: dict[str, Any]) -> float:
        stats["env_reward_reads"] += 1
        reward = min(max(float(env.metric()) / self.cfg.metric_scale, 0.0), 1.0)
        w = self.cfg.lats_reward_weight
        if w >= 1.0:
            return reward
        return w * reward + (1.0 - w) * self._estimate(ctx)

    def _estimate(self, ctx: DecisionContext) -> float:
        return min(max(float(self.policy.estimate_value(ctx)), 0.0), 1.0)

    def _evaluate(self, node: _Node, stats: dict[str, Any]) -> float:
        assert node.env is not None and node.ctx is not None
        if node.terminal:
            node.value = self._terminal_value(node.env, node.ctx, stats)
            return node.value
        env, ctx, done = node.env, node.ctx, False
        if self.cfg.lats_depth:
            env = self.fresh_clone(node.env, stats)
            for _ in range(self.cfg.lats_depth):
                thought = self.policy.propose_thought(ctx)
                action = self.policy.act(ctx, thought)
                tr = env.step(action)
                ctx = DecisionContext(
                    env=ctx.env,
                    observation=tr.observation,
                    summary=env.describe(),
                    history=ctx.history + ((thought, action),),
                    notes=ctx.notes,
                )
                if tr.done:
                    done = True
                    break
        node.value = self._terminal_value(env, ctx, stats) if done else self._estimate(ctx)
        return node.value


def lats_budget(method: str) -> int | None:
    """The simulation budget a LATS method name carries (`lats_n30` → 30), None for other methods."""
    m = _LATS_NAME.match(method)
    return int(m.group(1)) if m else None


def policy_backend(policy: Policy) -> str:
    """Who plays `policy`: its `backend` attribute (LLM policies), else "sim" (simulated policies)."""
    inner = policy.inner if isinstance(policy, MeteredPolicy) else policy
    return str(getattr(inner, "backend", "sim"))


CRITIC_LOOPS = ("pnlc", "best_of_n", "scalar_critic")


def make_agent(method: str, policy: Policy, critic: Critic | None, cfg: AgentConfig, loop: str | None = None) -> Agent:
    """Build the agent for `method` ("react", "pnlc", "lats_n30", ...) around `policy`.

    LATS budgets are part of the name (`lats_n<simulations>`), so that n = 5 and n = 30 are two
    methods in every table. The oracle exists only for simulated policies. `loop` runs a critic
    loop (pnlc, best_of_n, scalar_critic) under another method name (e.g. a negative control that
    runs the PNLC loop with a null critic); by default a method runs the loop of its own name.
    """
    if loop is not None:
        if loop not in CRITIC_LOOPS:
            raise AgentConfigError(f"method {method!r}: loop {loop!r} is not one of {', '.join(CRITIC_LOOPS)}")
        agent = make_agent(loop, policy, critic, cfg)
        agent.name = method
        return agent
    budget = lats_budget(method)
    if budget is not None:
        return LATS(method, policy, cfg, budget=budget)
    builders: dict[str, Callable[[], Agent]] = {
        "react": lambda: React(method, policy, cfg),
        "reflexion": lambda: Reflexion(method, policy, cfg),
        "self_critique": lambda: SelfCritique(method, policy, cfg),
        "oracle": lambda: Oracle(method, policy, cfg),
        "pnlc": lambda: PNLC(method, policy, cfg, critic),
        "best_of_n": lambda: BestOfN(method, policy, cfg, critic),
        "scalar_critic": lambda: ScalarCritic(method, policy, cfg, critic),
    }
    if method not in builders:
        raise AgentConfigError(
            f"unknown method {method!r}; choose one of {', '.join(BASE_METHODS)}, lats_n<simulations> "
            f"(e.g. lats_n5, lats_n30) or a name under evaluate.critics in params.yaml (e.g. pnlc_const)"
        )
    if method == "oracle" and policy_backend(policy) != "sim":
        raise AgentConfigError(
            f"method 'oracle' is the environment's privileged scripted player and exists only with "
            f"backend 'sim' (the policy given is played by {policy_backend(policy)!r}); remove 'oracle' "
            f"from the evaluated methods"
        )
    if method in ("pnlc", "best_of_n", "scalar_critic"):
        if critic is None:
            raise AgentConfigError(f"method {method!r} needs a trained critic; pass the loaded Critic")
        want_goals = method != "scalar_critic"
        if critic.goal_conditioned != want_goals:
            kind = "goal-conditioned" if want_goals else "scalar (goal-free)"
            raise AgentConfigError(
                f"method {method!r} needs the {kind} critic variant, but the critic given "
                f"(goal_conditioned={critic.goal_conditioned}) is not; pass that variant's checkpoint"
            )
    return builders[method]()
