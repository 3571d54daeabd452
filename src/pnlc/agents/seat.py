"""A policy playing a counterpart seat: any `Policy` (an `LLMPolicy` above all) as an external
player of a multi-player environment (Avalon's `seat_players`, or every other seat with
`env.avalon.counterparts: llm`)."""

from __future__ import annotations

from pnlc.agents.roles import DecisionContext, Policy
from pnlc.data.records import Usage
from pnlc.envs.base import Observation


class PolicySeat:
    """Thinks, then acts, on the seat's own observation; its history is its own earlier turns."""

    def __init__(self, policy: Policy, env_name: str) -> None:
        self.policy = policy
        self.env_name = env_name
        self.history: tuple[tuple[str, str], ...] = ()

    def begin_episode(self, task_id: str, seed: int) -> None:
        self.history = ()
        self.policy.begin_episode(task_id, seed)

    @property
    def usage_total(self) -> Usage:
        """What the seat's policy has spent (nothing for a simulated one); the environment records it."""
        usage = getattr(self.policy, "usage_total", None)
        return usage if usage is not None else Usage()

    def act(self, observation: Observation) -> str:
        # A counterpart has no summarizer of its own: its observation text is all it reads.
        ctx = DecisionContext(env=self.env_name, observation=observation, summary="", history=self.history)
        thought = self.policy.propose_thought(ctx)
        action = self.policy.act(ctx, thought)
        self.history += ((thought, action),)
        return action
