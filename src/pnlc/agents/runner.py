"""Play one task with an agent and record it: steps with their decision traces, outcome, cost.

`run_task` is what an evaluation calls for every method: one episode, or for reflexion k trials of
the same task and seed with the policy's lessons carried between them (the last trial is reported;
its cost, and how the LLM's answers came back, are summed over all trials and reflections).
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from pnlc.agents.methods import Agent
from pnlc.agents.roles import DecisionContext
from pnlc.data.records import Episode, Step, Usage
from pnlc.envs.base import Env, EnvError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EpisodeMeta:
    """Who played and how long a game may run.

    backend    "sim" | "anthropic" | "hf" (who plays the policy roles)
    model      base model name ("sim-prior" for the simulated policy)
    max_steps  decisions after which an unfinished episode is cut off (recorded as truncated)
    state_text the state text the agent (and its critic) is given: "describe" (the environment's
               rule-based summary) or "llm:..." (the policy's LLM summarizes each observation, as
               the annotation phase did for the critic's training data)
    """

    backend: str
    model: str
    max_steps: int
    state_text: str = "describe"

    def __post_init__(self) -> None:
        if self.max_steps < 1:
            raise ValueError(f"EpisodeMeta.max_steps must be >= 1, got {self.max_steps}")


def trial_seed(seed: int, trial: int) -> int:
    """The policy's seed for reflexion trial `trial`; trial 0 uses the task seed itself (= react)."""
    if trial == 0:
        return seed
    return int(np.random.SeedSequence([seed, trial]).generate_state(1)[0])


def conduct_text(episode: Episode) -> str:
    """What the policy is shown of a finished trial when reflecting: its own thoughts and actions,
    and the state as it saw it before its last move. Never the episode's final summary or outcome
    record, which reveal what the game hid (Avalon's roles, the donor's persona)."""
    moves = [f"{i + 1}. Thought: {s.thought}\n   Action: {s.action}" for i, s in enumerate(episode.steps)]
    seen = episode.steps[-1].state_summary if episode.steps else "(no move was made)"
    return "Your moves, in order:\n" + "\n".join(moves or ["(none)"]) + f"\nBefore your last move: {seen}"


def result_text(metric: float, scale: float) -> str:
    """Whether the trial succeeded, as the policy is shown it when reflecting (its score only)."""
    if metric >= scale:
        return f"Result: success (score {metric:.2f} of {scale:.2f})."
    return f"Result: failure (score {metric:.2f} of {scale:.2f})."


def run_episode(
    env: Env,
    agent: Agent,
    task_id: str,
    seed: int,
    meta: EpisodeMeta,
    *,
    notes: tuple[str, ...] = (),
    policy_seed: int | None = None,
    trial: int = 0,
) -> Episode:
    """Play `task_id` with environment seed `seed` (the policy is seeded with `policy_seed`, by default
    the same seed) and return the recorded episode."""
    if agent.privileged and meta.backend != "sim":
        raise ValueError(
            f"method {agent.name!r} is a privileged simulated player; it cannot run with backend "
            f"{meta.backend!r} (only 'sim')"
        )
    agent.begin_episode(task_id, seed if policy_seed is None else policy_seed)
    start_reading = agent.policy.reading()
    obs = env.reset(task_id, seed)
    history: tuple[tuple[str, str], ...] = ()
    steps: list[Step] = []
    done = False
    for index in range(meta.max_steps):
        summary = env.describe() if meta.state_text == "describe" else agent.policy.summarize_state(obs.text)
        ctx = DecisionContext(env=env.name, observation=obs, summary=summary, history=history, notes=notes)
        thought, action, decision = agent.decide(ctx, env)
        tr = env.step(action)
        steps.append(
            Step(
                index=index,
                observation=obs.text,
                state_summary=summary,
                thought=thought,
                action=action,
                reward=float(tr.reward),
                done=bool(tr.done),
                valid=bool(tr.info.get("valid", True)),
                decision=decision,
                info=dict(tr.info),
            )
        )
        history += ((thought, action),)
        obs = tr.observation
        if tr.done:
            done = True
            break
    if not done:
        log.warning("%s on %s task %s seed %d: cut off after %d steps", agent.name, env.name, task_id, seed, meta.max_steps)
        try:
            env.outcome()
        except EnvError as exc:
            raise EnvError(
                f"{agent.name} on {env.name} task {task_id}: cut off after evaluate.max_steps = {meta.max_steps} "
                f"decisions, and {exc}; raise evaluate.max_steps so that every episode can finish"
            ) from None
    spent = agent.policy.reading() - start_reading
    usage = spent.as_usage()
    info: dict[str, Any] = {
        **agent.info(),
        "trial": trial,
        "simulated": meta.backend == "sim",
        "truncated": not done,
    }
    if agent.critic is not None:
        info["critic_embedder_id"] = agent.critic.embedder_id
    if meta.state_text != "describe":
        info["state_text"] = meta.state_text
    if meta.backend != "sim":  # how the LLM's answers came back, per role (the report's well-formed rates)
        info["answers"] = answers_of(spent)
    return Episode(
        env=env.name,
        task_id=task_id,
        seed=seed,
        policy=agent.name,
        backend=meta.backend,
        model=meta.model,
        steps=tuple(steps),
        final_observation=obs.text,
        final_summary=env.describe(),
        outcome=dict(env.outcome()),
        metric=float(env.metric()),
        usage=usage,
        prompt_hashes=agent.policy.prompt_hashes,
        info=info,
    )


def answers_of(spent: Any) -> dict[str, dict[str, int]]:
    """Per role, from a meter reading's difference: answers asked for, malformed at first, defaulted."""
    return {
        role: {"asked": n, "malformed": spent.malformed.get(role, 0), "defaulted": spent.defaulted.get(role, 0)}
        for role, n in sorted(spent.by_role.items())
    }


def _add_answers(total: dict[str, dict[str, int]], more: Mapping[str, Mapping[str, int]]) -> None:
    for role, counts in more.items():
        mine = total.setdefault(role, {"asked": 0, "malformed": 0, "defaulted": 0})
        for key in mine:
            mine[key] += int(counts.get(key, 0))


def run_task(env: Env, agent: Agent, task_id: str, seed: int, meta: EpisodeMeta) -> Episode:
    """One evaluated episode of `task_id`: a single run, or reflexion's trials with lessons carried."""
    if agent.trials <= 1:
        return run_episode(env, agent, task_id, seed, meta)
    stop_at = agent.cfg.metric_scale if agent.cfg.reflexion_stop_on_success else None
    notes: tuple[str, ...] = ()
    usage = Usage()
    answers: dict[str, dict[str, int]] = {}  # like the usage: over every trial and reflection
    trials: list[dict[str, Any]] = []
    for trial in range(agent.trials):
        episode = run_episode(
            env, agent, task_id, seed, meta, notes=notes, policy_seed=trial_seed(seed, trial), trial=trial
        )
        usage = usage + episode.usage
        _add_answers(answers, episode.info.get("answers", {}))
        trials.append({"trial": trial, "metric": episode.metric, "outcome": dict(episode.outcome), "notes": list(notes)})
        last = trial == agent.trials - 1 or (stop_at is not None and episode.metric >= stop_at)
        if last:
            break
        before = agent.policy.reading()
        lesson = agent.policy.reflect(conduct_text(episode), result_text(episode.metric, agent.cfg.metric_scale))
        spent = agent.policy.reading() - before
        usage = usage + spent.as_usage()
        if "answers" in episode.info:
            _add_answers(answers, answers_of(spent))
        if lesson.strip():
            notes = notes + (lesson.strip(),)
    info = {**episode.info, "trials": trials}
    if "answers" in info:
        info["answers"] = {role: answers[role] for role in sorted(answers)}
    return dataclasses.replace(episode, usage=usage, info=info)


def play_policy(env: Env, policy: Any, task_id: str, seed: int) -> Env:
    """Play one episode with a bare policy (thought, then action; no planning, no records) and
    return the finished environment. The cheapest loop, for benchmarks and quick checks."""
    policy.begin_episode(task_id, seed)
    play_on(env, policy, env.reset(task_id, seed), ())
    return env


def play_on(
    env: Env, policy: Any, obs: Any, history: tuple[tuple[str, str], ...], max_steps: int | None = None
) -> bool:
    """Let a bare policy play from `env`'s current state (whose observation is `obs`, after the
    (thought, action) turns in `history`) until the episode ends (True) or `max_steps` decisions
    have been made without an end (False)."""
    made = 0
    while max_steps is None or made < max_steps:
        ctx = DecisionContext(env=env.name, observation=obs, summary=env.describe(), history=history)
        thought = policy.propose_thought(ctx)
        action = policy.act(ctx, thought)
        transition = env.step(action)
        history += ((thought, action),)
        obs = transition.observation
        made += 1
        if transition.done:
            return True
    return False
