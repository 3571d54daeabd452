"""The simulated persuader: a fallible player that chooses among its repertoire's moves.

It weighs every move it knows by what it believes about the dialogue (a noticed doubt makes answering
it likely, moves already made are less likely, asking has its own weight) and draws one: a broad,
mediocre prior, like the paper's GPT-3.5 ReAct agent. A revision draws from the same weights, tilted
towards the moves it believes counter the outcome it was warned of (its folk model in
`repertoire.AIMS`, right in some states and wrong in others), never towards a move it has already
drafted; whether the revision is kept is decided by the values it reads (`SimPolicyBase.refine`).
"""

from __future__ import annotations

import zlib
from typing import Sequence

import numpy as np

from pnlc.agents.roles import DecisionContext, GoalSet
from pnlc.agents.sim.base import SimPolicyBase, own_moves, succeeded
from pnlc.agents.sim.persuasion.beliefs import Beliefs, read_beliefs
from pnlc.agents.sim.persuasion.params import PersuasionSimParams
from pnlc.agents.sim.persuasion.repertoire import (
    ADDRESS,
    AIMS,
    THOUGHTS,
    WIN,
    goal_aim,
    parse_thought,
    thought_for,
    utterances,
)
from pnlc.critic.render import ValueLine
from pnlc.envs.persuasion.config import PersuasionConfig
from pnlc.envs.persuasion.summary import (
    AGREES,
    AT_LEAST_ONE,
    DISENGAGES,
    DOUBTS_ANSWERED,
    NEGATIVE_GOALS,
    POSITIVE_GOALS,
    PRESSURED,
    REFUSES,
    STAYS_SKEPTICAL,
    WARMS_UP,
)

LESSON_EARLY_ASK = "Lesson: build rapport and answer doubts before asking for money; do not ask in the first three turns."
LESSON_DOUBTS = "Lesson: answer the donor's stated doubt directly before making other appeals."
LESSON_NO_ASK = "Lesson: make a clear request for a donation before the conversation ends."
LESSON_GENERAL = "Lesson: keep building trust with varied appeals, then ask for a specific amount."

# How likely the persuader thinks a good ending is, by the donor's mood as it reads it.
MOOD_HOPE: dict[str, float] = {
    "agreed": 0.9,
    "warming": 0.6,
    "neutral": 0.4,
    "skeptical": 0.3,
    "declined": 0.25,
    "annoyed": 0.1,
    "refused": 0.05,
}

Option = tuple[str, "str | None"]  # (move, doubt)


class PersuasionPlayer(SimPolicyBase):
    """The prior persuader (`make_sim_policy(..., "prior")`): every role from one repertoire and
    one set of beliefs read from the dialogue."""

    name = "sim-persuasion-prior"
    stream_salt = 0x9E45

    def __init__(self, cfg: PersuasionConfig, params: PersuasionSimParams) -> None:
        super().__init__(params.refine)
        self.cfg = cfg
        self.params = params
        self._key: tuple[int, ...] = (0, 0, self.stream_salt)

    def begin_episode(self, task_id: str, seed: int) -> None:
        super().begin_episode(task_id, seed)
        self._key = (int(seed), zlib.crc32(task_id.encode("utf-8")), self.stream_salt)

    # -- beliefs and the weights they give ------------------------------------------------------------

    def beliefs(self, ctx: DecisionContext) -> Beliefs:
        notice = self.params.notice_doubt
        if _has(ctx.notes, LESSON_DOUBTS):
            notice += (1.0 - notice) * self.params.lesson_strength
        return read_beliefs(ctx.observation.view, self._key, notice, self.params.misread_mood)

    def options(self, ctx: DecisionContext, b: Beliefs) -> dict[Option, float]:
        """Every move it would consider now, with its weight (the proposal distribution)."""
        p = self.params
        strength = p.lesson_strength
        repeat = p.repeat_weight * ((1.0 - strength) if _has(ctx.notes, LESSON_GENERAL) else 1.0)
        weights: dict[Option, float] = {}
        for move in THOUGHTS:
            w = p.ask_weight if move == "ask" else 1.0
            if move == "ask" and b.turn <= 3 and _has(ctx.notes, LESSON_EARLY_ASK):
                w *= 1.0 - strength
            if move == "ask" and b.last_turn and b.asks == 0 and _has(ctx.notes, LESSON_NO_ASK):
                w /= 1.0 - strength
            if b.used.get(move, 0):
                w *= repeat
            weights[(move, None)] = w
        if b.doubt is not None:
            weights[(ADDRESS, b.doubt)] = p.address_weight
        return weights

    def _draw(self, weights: dict[Option, float], stream: str) -> Option:
        keys = list(weights)
        w = np.array([weights[k] for k in keys], dtype=float)
        return keys[int(self.rng(stream).choice(len(keys), p=w / w.sum()))]

    # -- roles ------------------------------------------------------------------------------------------

    def propose_thought(self, ctx: DecisionContext) -> str:
        return thought_for(*self._draw(self.options(ctx, self.beliefs(ctx)), "propose"))

    def revise(self, ctx: DecisionContext, thought: str, warned: ValueLine, avoid: set[str]) -> str | None:
        """Another move from the same weights, tilted towards what it believes counters `warned`."""
        weights = self.options(ctx, self.beliefs(ctx))
        aim = goal_aim(warned.goal)
        tilted = {
            option: w * (self.params.revise_tilt if aim in AIMS[option[0]] else 1.0)
            for option, w in weights.items()
            if thought_for(*option) not in avoid
        }
        if not tilted:
            return None
        return thought_for(*self._draw(tilted, "refine"))

    def act(self, ctx: DecisionContext, thought: str) -> str:
        move, doubt = parse_thought(thought, self.beliefs(ctx).doubt)
        options = utterances(move, doubt)
        return options[int(self.rng("act").integers(len(options)))]

    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        """The outcomes that decide the situation as it reads it; the same for every draft of one
        decision, so the values of its drafts compare."""
        if n_pos > len(POSITIVE_GOALS) or n_neg > len(NEGATIVE_GOALS) or n_pos < 0 or n_neg < 0:
            raise ValueError(
                f"propose_goals: n_pos={n_pos}, n_neg={n_neg}; the simulated persuader knows "
                f"{len(POSITIVE_GOALS)} positive and {len(NEGATIVE_GOALS)} negative outcomes"
            )
        b = self.beliefs(ctx)
        pos_first = [AGREES, DOUBTS_ANSWERED if b.doubt is not None else AT_LEAST_ONE, WARMS_UP]
        if b.turn <= 2 and b.asks == 0:
            second = PRESSURED
        else:
            second = STAYS_SKEPTICAL if b.doubt is not None else DISENGAGES
        pos = _ordered(pos_first, POSITIVE_GOALS)[:n_pos]
        neg = _ordered([REFUSES, second], NEGATIVE_GOALS)[:n_neg]
        return GoalSet(tuple(pos), tuple(neg))

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals: Sequence[str]) -> list[float]:
        """Its own guesses: good outcomes look likely, bad ones unlikely, more so for an outcome it
        believes the move serves."""
        move, _ = parse_thought(thought, self.beliefs(ctx).doubt)
        p = self.params
        out = []
        for g in goals:
            sign = 1.0 if _is_good(g) else -1.0
            serves = 1.0 if goal_aim(g) in AIMS[move] else 0.0
            guess = 0.5 + sign * p.estimate_optimism * (1.0 + serves) + float(self.rng("estimate").normal(0.0, p.estimate_noise))
            out.append(float(np.clip(guess, 0.01, 0.99)))
        return out

    def estimate_value(self, ctx: DecisionContext) -> float:
        hope = MOOD_HOPE.get(self.beliefs(ctx).mood, 0.4)
        return float(np.clip(hope + self.rng("estimate").normal(0.0, self.params.value_noise), 0.0, 1.0))

    def reflect(self, conduct: str, result: str) -> str:
        """A lesson read from its own moves and the dialogue as it last saw it, never the persona."""
        s = conduct.lower()
        if "before building rapport" in s or "annoyed" in s or "pressured" in s:
            return LESSON_EARLY_ASK
        if "asked whether" in s or "doubted" in s or "said money is tight" in s or "asked why" in s:
            return LESSON_DOUBTS
        asked = any(parse_thought(thought)[0] == "ask" for thought, _action in own_moves(conduct))
        if not asked and not succeeded(result):
            return LESSON_NO_ASK
        return LESSON_GENERAL


def _has(notes: Sequence[str], lesson: str) -> bool:
    return any(lesson in n for n in notes)


def _is_good(goal: str) -> bool:
    if goal in POSITIVE_GOALS:
        return True
    if goal in NEGATIVE_GOALS:
        return False
    return goal_aim(goal) == WIN and not any(w in goal.lower() for w in ("refus", "not ", "never"))


def _ordered(first: list[str], pool: Sequence[str]) -> list[str]:
    return first + [g for g in pool if g not in first]
