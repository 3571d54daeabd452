"""The simulated Avalon player behind the `Policy` roles: a fallible prior with one competence.

`propose_thought` draws a move from the repertoire with weights exp(skill * utility), the utility
read from the player's own beliefs (`beliefs.py`); `revise` draws from the same repertoire with the
same weights, tilted by `aim` toward the moves the player believes counter the outcome it was
warned of ("Merlin is assassinated." -> moves it believes reveal less; "Quest 3 fails." -> moves it
believes help the quests). Whether a revision is kept is the shared draft-keeping rule
(`SimPolicyBase.refine`): the player keeps a new draft only when the critic's value reads better.
Nothing here reads hidden state or a rule of the simulator.
"""

from __future__ import annotations

import re
import zlib
from typing import Sequence

import numpy as np

from pnlc.agents.roles import DecisionContext, GoalSet
from pnlc.agents.sim.avalon import seats
from pnlc.agents.sim.avalon.actions import carry_out, pick
from pnlc.agents.sim.avalon.beliefs import Beliefs, Misreading, move_belief, read_beliefs
from pnlc.agents.sim.avalon.knobs import AvalonSimParams
from pnlc.agents.sim.avalon.repertoire import (
    ABOUT_TEAM,
    MOVES_BY_DECISION,
    NEEDS_EVIL,
    NEEDS_GOOD,
    phrasings,
    thought_move,
)
from pnlc.agents.sim.avalon.seats import View
from pnlc.agents.sim.base import SimPolicyBase, succeeded
from pnlc.critic.render import ValueLine
from pnlc.envs.avalon import AvalonConfig
from pnlc.envs.avalon.rules import (
    EVIL_WINS,
    GOOD_WINS,
    MERLIN_ASSASSINATED,
    MERLIN_SURVIVES,
    OUTCOME_GOALS,
    THREE_FAIL,
    THREE_SUCCEED,
    quest_fails,
    quest_succeeds,
)

LESSON_ASSASSINATED = (
    "Lesson: my open accusations exposed me as Merlin and I was assassinated; steer quietly instead."
)
LESSON_QUESTS_FAILED = (
    "Lesson: quests failed because I let evil players onto teams; reject teams that include them."
)
_GOOD_SUCCESSES = re.compile(r"Good has (\d+) success")
LESSON_WON = "Lesson: keeping my knowledge quiet while steering teams worked; keep doing that."
_FEAR_QUESTS = re.compile(r"onto teams|quests failed", re.I)
_FEAR_COVER = re.compile(r"assassinated|exposed", re.I)
_ASSASSINATION = re.compile(r"assassinat|merlin survives", re.I)
_QUESTS = re.compile(r"\bquests?\b", re.I)


class AvalonPlayer(SimPolicyBase):
    """A fallible Avalon player in any seat (the paper's agent plays Merlin)."""

    name = "sim-avalon-prior"
    stream_salt = 0xA7A1

    def __init__(self, cfg: AvalonConfig, params: AvalonSimParams) -> None:
        super().__init__(params.refine)
        self.cfg = cfg
        self.params = params
        self.misreading = Misreading(0.0, 0.0)

    def begin_episode(self, task_id: str, seed: int) -> None:
        super().begin_episode(task_id, seed)
        # The episode's misreading has its own generator, so that no role's stream moves.
        rng = np.random.default_rng([int(seed), zlib.crc32(task_id.encode("utf-8")), self.stream_salt, 0xB1])
        self.misreading = Misreading(
            exposure_log=float(rng.normal()) * self.params.exposure_noise,
            danger_shift=float(rng.normal()) * self.params.danger_noise,
        )

    # ---- beliefs ---------------------------------------------------------------------------
    def beliefs(self, ctx: DecisionContext) -> Beliefs:
        fear_quests = any(_FEAR_QUESTS.search(n) for n in ctx.notes)
        fear_cover = any(_FEAR_COVER.search(n) for n in ctx.notes)
        w = self.params.lesson_weight
        return read_beliefs(ctx.observation.view, self.misreading, (w * fear_quests, w * fear_cover))

    def moves(self, view: View) -> list[str]:
        """The moves open at this decision (a move that names a player needs one to name)."""
        decision = str(view.get("decision", "say"))
        has_evil, has_good = bool(seats.suspects(view)), bool(seats.friends(view))
        return [
            m
            for m in MOVES_BY_DECISION.get(decision, ("blend",))
            if (has_evil or m not in NEEDS_EVIL) and (has_good or m not in NEEDS_GOOD)
        ]

    def _draw(self, view: View, moves: Sequence[str], scores: Sequence[float], rng: np.random.Generator) -> str:
        """A thought for one of `moves`, drawn with weights exp(scores), phrased from the repertoire."""
        p = _softmax(scores)
        return self.phrase(view, moves[int(rng.choice(len(moves), p=p))], rng)

    def phrase(self, view: View, move: str, rng: np.random.Generator) -> str:
        """A thought for `move`, phrased from the repertoire, naming a suitable player (a vote: the
        suspect on the team, if any)."""
        e, g = self._named(view, move)
        e, g = pick(e, rng), pick(g, rng)
        options = phrasings(move, e, g)
        return options[int(rng.integers(len(options)))]

    def move_texts(self, view: View, move: str) -> dict[str, float]:
        """Every thought `phrase` can write for `move` here, with the chance it writes it."""
        against, spoken = self._named(view, move)
        against, spoken = against or [None], spoken or [None]
        texts: dict[str, float] = {}
        for e in against:
            for g in spoken:
                options = phrasings(move, e, g)
                for text in options:
                    texts[text] = texts.get(text, 0.0) + 1.0 / (len(options) * len(against) * len(spoken))
        return texts

    @staticmethod
    def _named(view: View, move: str) -> tuple[list[int], list[int]]:
        """The seats a thought of `move` may name: (acted against, spoken for)."""
        if move == "guess":
            return seats.suspects(view), [seats.guess_merlin(view)]
        if move in ABOUT_TEAM:
            return seats.suspects_on_team(view), seats.friends(view)
        return seats.suspects(view), seats.friends(view)

    # ---- roles ----------------------------------------------------------------------------
    def propose_weights(self, ctx: DecisionContext) -> dict[str, float]:
        """The probability with which `propose_thought` picks each open move here."""
        view = ctx.observation.view
        moves = self.moves(view)
        b = self.beliefs(ctx)
        p = _softmax([self.params.skill * b.utility(move_belief(view, m)) for m in moves])
        return {m: float(x) for m, x in zip(moves, p)}

    def propose_thought(self, ctx: DecisionContext) -> str:
        weights = self.propose_weights(ctx)
        moves = list(weights)
        p = np.array([weights[m] for m in moves])
        return self.phrase(ctx.observation.view, moves[int(self.rng("propose").choice(len(moves), p=p / p.sum()))],
                           self.rng("propose"))

    def revise(self, ctx: DecisionContext, thought: str, warned: ValueLine, avoid: set[str]) -> str | None:
        view = ctx.observation.view
        decision = str(view.get("decision", "say"))
        tried = {thought_move(decision, t) for t in avoid}
        moves = [m for m in self.moves(view) if m not in tried]
        if not moves:
            return None
        b = self.beliefs(ctx)
        p = self.params
        scores = [p.skill * b.utility(move_belief(view, m)) + p.aim * self._counters(view, b, m, warned) for m in moves]
        return self._draw(view, moves, scores, self.rng("refine"))

    def _counters(self, view: View, b: Beliefs, move: str, warned: ValueLine) -> float:
        """How much the player believes `move` counters the warned outcome (as it reads the words)."""
        belief = move_belief(view, move)
        if _ASSASSINATION.search(warned.goal) and view.get("side") == "good":
            return -belief.reveals
        if _QUESTS.search(warned.goal):
            return belief.helps
        return b.utility(belief)  # the game's result: whatever the player believes does best

    def act(self, ctx: DecisionContext, thought: str) -> str:
        return carry_out(ctx.observation.view, thought, self.rng("act"))

    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        """The outcomes at stake at this decision, the same for every draft of it."""
        view = ctx.observation.view
        q = int(view.get("quest", 1))
        good = view.get("side", "good") == "good"
        later = range(q + 1, 6)
        ours = [GOOD_WINS, quest_succeeds(q), MERLIN_SURVIVES, THREE_SUCCEED, *map(quest_succeeds, later)]
        theirs = [MERLIN_ASSASSINATED, quest_fails(q), EVIL_WINS, THREE_FAIL, *map(quest_fails, later)]
        if not good:
            ours = [EVIL_WINS, quest_fails(q), MERLIN_ASSASSINATED, THREE_FAIL, *map(quest_fails, later)]
            theirs = [GOOD_WINS, quest_succeeds(q), MERLIN_SURVIVES, THREE_SUCCEED, *map(quest_succeeds, later)]
        return GoalSet(_take(ours, n_pos), _take(theirs, n_neg))

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals: Sequence[str]) -> list[float]:
        """Self-critique: the player's beliefs about the thought's move, optimistic and noisy."""
        view = ctx.observation.view
        good = view.get("side", "good") == "good"
        b = self.beliefs(ctx)
        move = thought_move(str(view.get("decision", "say")), thought)
        belief = move_belief(view, move) if move is not None else move_belief(view, "blend")
        p_lose_quests = _squash(b.danger - 0.2 * belief.helps)
        p_found = _squash(0.2 + 0.2 * (b.exposure + belief.reveals)) if view.get("role") == "Merlin" else 0.3
        p_win = (1.0 - p_lose_quests) * (1.0 - p_found)
        bad = {MERLIN_ASSASSINATED: p_found, EVIL_WINS: 1.0 - p_win, THREE_FAIL: p_lose_quests}
        bad |= {quest_fails(n): p_lose_quests for n in range(1, 6)}
        p = self.params
        rng = self.rng("estimate")
        out = []
        for goal in goals:
            g = goal.strip()
            if g in bad:
                v = bad[g] if good else 1.0 - bad[g]
                v -= p.self_estimate_optimism
            else:
                v = _opposite(g, bad)
                v = (v if good else 1.0 - v) + p.self_estimate_optimism
            out.append(float(np.clip(v + p.self_estimate_noise * rng.normal(), 0.02, 0.98)))
        return out

    def estimate_value(self, ctx: DecisionContext) -> float:
        view = ctx.observation.view
        lead = int(view.get("successes", 0)) - int(view.get("failures", 0))
        if view.get("side") == "evil":
            lead = -lead
        b = self.beliefs(ctx)
        cover = 0.1 * min(b.exposure, 2.0) if view.get("role") == "Merlin" else 0.0
        v = 0.5 + 0.15 * lead - cover + self.params.value_noise * self.rng("estimate").normal()
        return float(np.clip(v, 0.0, 1.0))

    def reflect(self, conduct: str, result: str) -> str:
        """A lesson read from its own conduct, the board as it last saw it and whether it won; the
        roles hidden from Merlin are never shown. A loss after good had (nearly) won its quests reads
        as an assassination, otherwise as lost quests: the player's own guess, which can be wrong."""
        if succeeded(result):
            return LESSON_WON
        board = _GOOD_SUCCESSES.search(conduct.split("Before your last move:", 1)[-1])
        if board is not None and (board.group(1) in ("2", "3") or "name Merlin" in conduct):
            return LESSON_ASSASSINATED
        return LESSON_QUESTS_FAILED


def _softmax(scores: Sequence[float]) -> np.ndarray:
    x = np.asarray(scores, dtype=float)
    p = np.exp(x - x.max())
    return p / p.sum()


def _squash(x: float) -> float:
    return float(min(0.95, max(0.05, x)))


def _opposite(goal: str, bad: dict[str, float]) -> float:
    """P(goal) for a good-side goal, from the probability of its opposite."""
    pairs = {GOOD_WINS: EVIL_WINS, MERLIN_SURVIVES: MERLIN_ASSASSINATED, THREE_SUCCEED: THREE_FAIL}
    pairs |= {quest_succeeds(n): quest_fails(n) for n in range(1, 6)}
    other = pairs.get(goal)
    return 0.5 if other is None else 1.0 - bad[other]


def _take(items: Sequence[str], n: int) -> tuple[str, ...]:
    out: list[str] = []
    for it in items:
        if len(out) >= n:
            break
        if it not in out and it in OUTCOME_GOALS:
            out.append(it)
    return tuple(out)

