"""Cost accounting around any policy: calls, tokens and seconds, read per decision.

Calls are the LLM requests an LLM policy made (a malformed answer's re-ask is one more, as the API
bills it and the call cap counts it); a simulated policy makes one per role call.

A policy that talks to an LLM exposes `usage_total` (a `pnlc.data.Usage` it keeps summing from its
completions); the meter reads its tokens from there. A simulated policy has no tokens, so the meter
counts whitespace-separated words of what the role was shown (the decision context and the role's
arguments) and of what it answered ("tokens (words, simulated)" in tables).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from pnlc.agents.roles import DecisionContext, Draft, GoalSet, Policy
from pnlc.data.records import Usage


@dataclass(frozen=True)
class MeterReading:
    """Running totals of a metered policy; subtract two readings to get one decision's cost."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0
    invalid: int = 0
    by_role: Mapping[str, int] = field(default_factory=dict)
    malformed: Mapping[str, int] = field(default_factory=dict)  # per role: first answers out of format
    defaulted: Mapping[str, int] = field(default_factory=dict)  # per role: replaced by the default

    def __sub__(self, other: "MeterReading") -> "MeterReading":
        def minus(mine: Mapping[str, int], theirs: Mapping[str, int]) -> dict[str, int]:
            return {r: n - theirs.get(r, 0) for r, n in mine.items() if n - theirs.get(r, 0)}

        roles = {r: n - other.by_role.get(r, 0) for r, n in self.by_role.items()}
        return MeterReading(
            calls=self.calls - other.calls,
            input_tokens=self.input_tokens - other.input_tokens,
            output_tokens=self.output_tokens - other.output_tokens,
            cached_tokens=self.cached_tokens - other.cached_tokens,
            cost_usd=self.cost_usd - other.cost_usd,
            seconds=self.seconds - other.seconds,
            invalid=self.invalid - other.invalid,
            by_role={r: n for r, n in roles.items() if n},
            malformed=minus(self.malformed, other.malformed),
            defaulted=minus(self.defaulted, other.defaulted),
        )

    def as_usage(self) -> Usage:
        return Usage(
            calls=self.calls,
            input_tokens=self.input_tokens,
            output_tokens=self.output_tokens,
            cached_tokens=self.cached_tokens,
            cost_usd=self.cost_usd,
            seconds=self.seconds,
        )


def words(*texts: str) -> int:
    """Whitespace-separated words over all `texts` (the simulated stand-in for tokens)."""
    return sum(len(t.split()) for t in texts if t)


def _context_text(ctx: DecisionContext) -> list[str]:
    parts = [ctx.observation.text, ctx.summary, *ctx.notes]
    for thought, action in ctx.history:
        parts += [thought, action]
    return parts


class MeteredPolicy:
    """Wraps a policy; every role call is counted (calls, tokens, seconds, invalid answers)."""

    def __init__(self, policy: Policy) -> None:
        if isinstance(policy, MeteredPolicy):
            policy = policy.inner
        self.inner = policy
        self.name = policy.name
        self._llm = hasattr(policy, "usage_total")
        self._calls = 0
        self._in = 0
        self._out = 0
        self._cached = 0
        self._cost = 0.0
        self._seconds = 0.0
        self._by_role: dict[str, int] = {}

    @property
    def simulated(self) -> bool:
        """True when the wrapped policy reports no LLM usage (tokens are counted as words)."""
        return not self._llm

    @property
    def prompt_hashes(self) -> dict[str, str]:
        return dict(getattr(self.inner, "prompt_hashes", {}) or {})

    def reading(self) -> MeterReading:
        forms = self._forms()
        return MeterReading(
            calls=self._calls,
            input_tokens=self._in,
            output_tokens=self._out,
            cached_tokens=self._cached,
            cost_usd=self._cost,
            seconds=self._seconds,
            invalid=int(getattr(self.inner, "invalid_count", 0)),
            by_role=dict(self._by_role),
            malformed={r: s.asked - s.first_ok for r, s in forms.items()},
            defaulted={r: s.defaulted for r, s in forms.items()},
        )

    def _forms(self) -> Mapping[str, Any]:
        """How the wrapped LLM policy's answers came back, per role (none for a simulated policy)."""
        return getattr(self.inner, "answer_forms", {}) or {}

    def _call(self, role: str, fn: Callable[[], Any], inputs: Sequence[str], output_text: Callable[[Any], str]) -> Any:
        before = getattr(self.inner, "usage_total", None) if self._llm else None
        start = time.perf_counter()
        result = fn()
        self._seconds += time.perf_counter() - start
        self._by_role[role] = self._by_role.get(role, 0) + 1
        if self._llm:
            after = self.inner.usage_total  # type: ignore[attr-defined]
            self._calls += after.calls - before.calls  # requests, re-asks of malformed answers included
            self._in += after.input_tokens - before.input_tokens
            self._out += after.output_tokens - before.output_tokens
            self._cached += after.cached_tokens - before.cached_tokens
            self._cost += after.cost_usd - before.cost_usd
        else:
            self._calls += 1
            self._in += words(*inputs)
            self._out += words(output_text(result))
        return result

    # -- the Policy protocol -------------------------------------------------------------------
    def begin_episode(self, task_id: str, seed: int) -> None:
        self.inner.begin_episode(task_id, seed)

    def propose_thought(self, ctx: DecisionContext) -> str:
        return self._call("propose_thought", lambda: self.inner.propose_thought(ctx), _context_text(ctx), str)

    def act(self, ctx: DecisionContext, thought: str) -> str:
        return self._call("act", lambda: self.inner.act(ctx, thought), [*_context_text(ctx), thought], str)

    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        return self._call(
            "propose_goals",
            lambda: self.inner.propose_goals(ctx, thought, n_pos, n_neg),
            [*_context_text(ctx), thought],
            lambda g: "\n".join(g.all),
        )

    def refine(
        self, ctx: DecisionContext, thought: str, value_text: str, drafts: Sequence[Draft] = (), final: bool = False
    ) -> str | None:
        return self._call(
            "refine",
            lambda: self.inner.refine(ctx, thought, value_text, drafts, final),
            [*_context_text(ctx), thought, value_text, *(f"{d.thought}\n{d.value_text}" for d in drafts)],
            lambda r: "ACCEPT" if r is None else r,
        )

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals: Sequence[str]) -> list[float]:
        return self._call(
            "estimate_goals",
            lambda: self.inner.estimate_goals(ctx, thought, goals),
            [*_context_text(ctx), thought, *goals],
            lambda ps: " ".join(f"{p:.2f}" for p in ps),
        )

    def estimate_value(self, ctx: DecisionContext) -> float:
        return self._call("estimate_value", lambda: self.inner.estimate_value(ctx), _context_text(ctx), lambda v: f"{v:.2f}")

    def summarize_state(self, observation_text: str) -> str:
        """An LLM policy's outcome-style summary of an observation (the state text its critic read)."""
        return self._call("summarize", lambda: self.inner.summarize_state(observation_text), [observation_text], str)

    def reflect(self, conduct: str, result: str) -> str:
        return self._call(
            "reflect", lambda: self.inner.reflect(conduct, result), [conduct, result], str
        )
