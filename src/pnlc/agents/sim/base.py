"""What the simulated policies of every environment share: seeded random streams per role, and the
way a policy reads the critic's value text to keep, revise or go back to a draft.

A simulated policy is a fallible player, not an oracle. Its `refine` has the competence of its
`propose_thought`: a revision is drawn from the same repertoire, tilted only by the policy's own
(fallible) beliefs about the outcome it was warned of. Whether a revision is kept is decided by
comparing the values the policy read for its drafts, as a model reading numbers would: a new
draft is kept only when it reads better than every earlier draft by more than `min_gain`;
otherwise the policy goes back to the best earlier draft. A critic that says the same for every
draft therefore never changes what the policy does.

Each role draws from its own random stream, so that asking the critic (which calls `propose_goals`
and `refine`) never shifts what `propose_thought` and `act` would have drawn: with an uninformative
critic a PNLC episode replays the ReAct episode of the same seed move for move.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from pnlc.agents.roles import DecisionContext, Draft
from pnlc.critic.render import ValueLine, parse_value

STREAMS = ("propose", "goals", "refine", "act", "estimate", "reflect")


@dataclass(frozen=True)
class RefineKnobs:
    """How a simulated policy reads a rendered value (params.yaml `agents.sim.<env>.refine`).

    worry_negative  a negative outcome read at or above this is a warning worth a revision
    worry_positive  a positive outcome read below this is a warning worth a revision
    min_gain        a new draft is kept only when its value reads better than every earlier
                    draft's by more than this (mean P(positive) - mean P(negative))
    """

    worry_negative: float
    worry_positive: float
    min_gain: float

    def __post_init__(self) -> None:
        for key in ("worry_negative", "worry_positive"):
            value = getattr(self, key)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"refine.{key}: {value!r} must be within [0, 1]")
        if not self.min_gain >= 0.0:
            raise ValueError(f"refine.min_gain: {self.min_gain!r} must be >= 0")


def value_score(lines: Sequence[ValueLine]) -> float:
    """What a draft's value reads as: mean P(positive outcomes) - mean P(negative outcomes)."""
    pos = [ln.probability for ln in lines if ln.positive]
    neg = [ln.probability for ln in lines if not ln.positive]
    return (float(np.mean(pos)) if pos else 0.0) - (float(np.mean(neg)) if neg else 0.0)


def warning(lines: Sequence[ValueLine], knobs: RefineKnobs) -> ValueLine | None:
    """The outcome that worries the reader most, or None when nothing reads as a warning: the most
    likely negative outcome at or above `worry_negative`, else the least likely positive outcome
    below `worry_positive`."""
    negatives = [ln for ln in lines if not ln.positive and ln.probability >= knobs.worry_negative]
    if negatives:
        return max(negatives, key=lambda ln: ln.probability)
    positives = [ln for ln in lines if ln.positive and ln.probability < knobs.worry_positive]
    if positives:
        return min(positives, key=lambda ln: ln.probability)
    return None


def own_moves(conduct: str) -> list[tuple[str, str]]:
    """The (thought, action) pairs of a reflection's conduct text (`runner.conduct_text`), in order."""
    moves: list[tuple[str, str]] = []
    thought = None
    for line in conduct.splitlines():
        text = line.strip()
        if text.split(". ", 1)[-1].startswith("Thought:"):
            thought = text.split("Thought:", 1)[1].strip()
        elif text.startswith("Action:") and thought is not None:
            moves.append((thought, text.split("Action:", 1)[1].strip()))
            thought = None
    return moves


def succeeded(result: str) -> bool:
    """Whether a reflection's result line (`runner.result_text`) reports success."""
    return result.strip().lower().startswith("result: success")


class SimPolicyBase:
    """Seeding and the draft-keeping rule of a simulated policy; environments supply the moves.

    Subclasses implement the `Policy` roles and `revise(ctx, thought, warned, avoid)`: a new thought
    aimed at the outcome `warned` (drawn from the policy's repertoire with its own beliefs), or None
    when it has no alternative other than the thoughts in `avoid`.
    """

    name = "sim"
    stream_salt = 0

    def __init__(self, knobs: RefineKnobs) -> None:
        self.refine_knobs = knobs
        self.rngs = {s: np.random.default_rng(0) for s in STREAMS}

    def begin_episode(self, task_id: str, seed: int) -> None:
        task = zlib.crc32(task_id.encode("utf-8"))
        self.rngs = {
            s: np.random.default_rng([int(seed), task, self.stream_salt, i]) for i, s in enumerate(STREAMS)
        }

    def rng(self, stream: str) -> np.random.Generator:
        return self.rngs[stream]

    def refine(
        self, ctx: DecisionContext, thought: str, value_text: str, drafts: Sequence[Draft] = (), final: bool = False
    ) -> str | None:
        lines = parse_value(value_text)
        if not lines:
            return None
        score = value_score(lines)
        if drafts:
            scored = [(value_score(parse_value(d.value_text)), i) for i, d in enumerate(drafts)]
            best_score, best = max(scored, key=lambda x: (x[0], -x[1]))  # the earliest of equal scores
            if score <= best_score + self.refine_knobs.min_gain:
                return drafts[best].thought
        if final:
            return None
        warned = warning(lines, self.refine_knobs)
        if warned is None:
            return None
        avoid = {d.thought for d in drafts} | {thought}
        new = self.revise(ctx, thought, warned, avoid)
        return None if new is None or new in avoid else new

    def revise(self, ctx: DecisionContext, thought: str, warned: ValueLine, avoid: set[str]) -> str | None:
        raise NotImplementedError
