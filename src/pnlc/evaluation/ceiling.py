"""The full-information ceiling of outcome prediction, measured by Monte-Carlo rollouts (simulated data).

For a transition (s_t, a_t) of a recorded episode, the probability of each outcome goal is estimated
by replaying the episode's actions from its seed up to and including a_t, then finishing the game
`rollouts` times from clones of that state, each with fresh randomness (the environment reseeded,
the behaviour policy re-seeded playing the agent's seat). The estimate conditions on the complete
simulator state — hidden roles and every counterpart's beliefs included — and the best ranking of
outcomes by any function of that state is by its true probability, so the estimate's AUC against the
realised outcomes bounds what any critic can reach from a summary of the agent's view. Monte-Carlo
noise only lowers the estimate's AUC, so with few rollouts the bound is conservative.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator, Sequence

import numpy as np

from pnlc.agents.runner import play_on


class CeilingError(ValueError):
    """A recorded episode cannot be replayed or finished; the message names the episode."""


@dataclass(frozen=True)
class RolloutConfig:
    """rollouts   games finished from each replayed state
    seed      seeds every rollout's randomness (with the episode and step)
    max_steps decisions after which a rollout counts as a failure to finish (an error)
    """

    rollouts: int
    seed: int
    max_steps: int

    def __post_init__(self) -> None:
        if self.rollouts < 1:
            raise CeilingError(f"rollouts must be >= 1, got {self.rollouts}")
        if self.max_steps < 1:
            raise CeilingError(f"max_steps must be >= 1, got {self.max_steps}")


def _name(episode: Any) -> str:
    return f"{episode.policy}/{episode.task_id}/seed{episode.seed}"


def replay(env: Any, episode: Any) -> Iterator[tuple[int, Any, tuple[tuple[str, str], ...]]]:
    """Replay `episode`'s actions; before each step t yield (t, step, history before it) with `env`
    in the state the agent decided in. Refuses an episode the environment no longer reproduces."""
    env.reset(episode.task_id, episode.seed)
    history: tuple[tuple[str, str], ...] = ()
    for t, step in enumerate(episode.steps):
        if env.describe() != step.state_summary:
            raise CeilingError(
                f"episode {_name(episode)} step {t}: replaying its actions gives another state than the one "
                "recorded; the trajectories come from another version or configuration of the environment "
                "(regenerate them)"
            )
        yield t, step, history
        if env.step(step.action).done:
            return
        history += ((step.thought, step.action),)


def finish(env: Any, policy: Any, obs: Any, history: tuple[tuple[str, str], ...], max_steps: int) -> Any:
    """Play the policy from `env`'s current state (whose observation is `obs`) until the episode
    ends; returns `env`."""
    if not play_on(env, policy, obs, history, max_steps):
        raise CeilingError(f"a rollout did not finish within {max_steps} decisions (evaluate.max_steps)")
    return env


def rollout_probabilities(
    env: Any, policy: Any, episode: Any, goals: Sequence[str], cfg: RolloutConfig, episode_key: int
) -> np.ndarray:
    """float64 [T, K]: for every step t of `episode`, the share of rollouts in which each of the K
    outcome goals happened, where a rollout takes a clone of the state the agent decided in, gives it
    fresh randomness, applies the recorded action a_t and lets the policy finish the game. Everything
    after a_t is drawn anew, the counterparts' replies to it included."""
    from pnlc.envs.base import Reseedable

    if not isinstance(env, Reseedable):
        raise CeilingError(f"environment {env.name!r} cannot draw fresh randomness (no reseed()); "
                           "Monte-Carlo rollouts need it")
    out = np.zeros((len(episode.steps), len(goals)), dtype=np.float64)
    for t, step, history in replay(env, episode):
        after = history + ((step.thought, step.action),)
        counts = np.zeros(len(goals), dtype=np.float64)
        for r in range(cfg.rollouts):
            twin = env.clone()
            rollout_seed = int(np.random.SeedSequence([cfg.seed, episode_key, t, r]).generate_state(1)[0])
            twin.reseed(rollout_seed)
            policy.begin_episode(episode.task_id, rollout_seed)
            transition = twin.step(step.action)
            try:
                if not transition.done:
                    finish(twin, policy, transition.observation, after, cfg.max_steps)
            except CeilingError as exc:
                raise CeilingError(f"episode {_name(episode)} step {t}: {exc}") from None
            happened = twin.goal_outcomes()
            counts += [float(bool(happened.get(g, False))) for g in goals]
        out[t] = counts / cfg.rollouts
    return out
