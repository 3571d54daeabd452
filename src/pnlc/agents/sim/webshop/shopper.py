"""What every simulated shopper shares: acting on a thought, imagining outcomes, estimating
values and writing lessons. The fallible player and the privileged oracle differ only in how they
choose a thought."""

from __future__ import annotations

import zlib
from typing import Any, Mapping, Sequence

import numpy as np

from pnlc.agents.roles import DecisionContext, GoalSet
from pnlc.agents.sim.base import SimPolicyBase, own_moves, succeeded
from pnlc.agents.sim.webshop.params import WebShopSimParams
from pnlc.agents.sim.webshop.reading import (
    missing_attributes,
    overlap,
    parse_instruction,
    wanted_options,
)
from pnlc.agents.sim.webshop.repertoire import Memory, action_for, fallback_action, move_of, page_kind
from pnlc.envs.webshop import (
    OUTCOME_ATTRIBUTES,
    OUTCOME_MISSING_ATTRIBUTES,
    OUTCOME_MISSING_OPTIONS,
    OUTCOME_NO_PURCHASE,
    OUTCOME_OPTIONS,
    OUTCOME_OVER_PRICE,
    OUTCOME_PRICE,
    OUTCOME_SUCCESS,
    OUTCOME_TYPE,
    OUTCOME_WRONG_TYPE,
    POSITIVE_OUTCOMES,
    WebShopConfig,
)

LESSON_OPTIONS = "Lesson: select every option named in the instruction before clicking Buy Now."
LESSON_PRODUCT = "Lesson: open a result whose title names the product type and the key attributes, and check its features."
LESSON_NO_PURCHASE = "Lesson: buy an item before the step limit runs out."
LESSON_PRICE = "Lesson: compare the price with the limit before buying."
LESSON_SUCCESS = "Lesson: the careful search, option selection and purchase worked; do the same again."


def goal_category(goal: str) -> str | None:
    """What an outcome sentence is about, read from its words: options | price | product |
    no_purchase, or None."""
    g = goal.lower()
    if "without a purchase" in g or "no purchase" in g or "does not buy" in g:
        return "no_purchase"
    if "option" in g:
        return "options"
    if "price" in g or "costs" in g or "cheap" in g or "expensive" in g:
        return "price"
    if "type" in g or "attribute" in g or "requirement" in g or "wrong" in g or "match" in g:
        return "product"
    return None


def _shuffle_tail(items: list[str], rng: np.random.Generator) -> list[str]:
    """Keep the most relevant outcome first; the rest in a random order."""
    tail = list(items[1:])
    return [items[0]] + [tail[int(i)] for i in rng.permutation(len(tail))]


class Shopper(SimPolicyBase):
    """The roles every simulated shopper plays alike; subclasses choose thoughts."""

    stream_salt = 0x5B0B

    def __init__(self, cfg: WebShopConfig, params: WebShopSimParams) -> None:
        super().__init__(params.refine)
        self.cfg = cfg
        self.params = params
        self.mem = Memory()
        self.episode_seed = 0
        self.task_id = ""

    def begin_episode(self, task_id: str, seed: int) -> None:
        super().begin_episode(task_id, seed)
        self.mem = Memory()
        self.episode_seed = int(seed)
        self.task_id = task_id

    def steps_left(self, view: Mapping[str, Any]) -> int:
        return int(view.get("max_steps", self.cfg.max_steps)) - int(view.get("step", 0))

    # ---- acting ---------------------------------------------------------------------------------
    def act(self, ctx: DecisionContext, thought: str) -> str:
        view = ctx.observation.view
        action = action_for(view, thought) or fallback_action(view)
        missing: Sequence[str] = ()
        if page_kind(view) == "subpage":
            req = parse_instruction(str(view.get("instruction", "")))
            missing = missing_attributes(req, " ".join(view.get("content", [])) + " " + str(view.get("title", "")))
        self.mem.note(view, action, missing)
        return action

    # ---- critic-facing roles --------------------------------------------------------------------
    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        """The outcomes at stake at this decision, most relevant first. They depend on the page, not
        on the draft, so that every draft of one decision is read against the same outcomes."""
        kind = page_kind(ctx.observation.view)
        if kind == "item":
            pos = [OUTCOME_OPTIONS, OUTCOME_SUCCESS, OUTCOME_PRICE, OUTCOME_TYPE, OUTCOME_ATTRIBUTES]
            neg = [OUTCOME_MISSING_OPTIONS, OUTCOME_WRONG_TYPE, OUTCOME_MISSING_ATTRIBUTES, OUTCOME_OVER_PRICE,
                   OUTCOME_NO_PURCHASE]
        elif kind == "subpage":
            pos = [OUTCOME_ATTRIBUTES, OUTCOME_SUCCESS, OUTCOME_TYPE, OUTCOME_PRICE, OUTCOME_OPTIONS]
            neg = [OUTCOME_MISSING_ATTRIBUTES, OUTCOME_NO_PURCHASE, OUTCOME_WRONG_TYPE, OUTCOME_MISSING_OPTIONS,
                   OUTCOME_OVER_PRICE]
        else:
            pos = [OUTCOME_SUCCESS, OUTCOME_TYPE, OUTCOME_ATTRIBUTES, OUTCOME_PRICE, OUTCOME_OPTIONS]
            neg = [OUTCOME_WRONG_TYPE, OUTCOME_MISSING_ATTRIBUTES, OUTCOME_NO_PURCHASE, OUTCOME_OVER_PRICE,
                   OUTCOME_MISSING_OPTIONS]
        step = int(ctx.observation.view.get("step", 0))
        rng = np.random.default_rng([self.episode_seed, zlib.crc32(self.task_id.encode("utf-8")), step, 0x60A1])
        return GoalSet(tuple(_shuffle_tail(pos, rng)[:n_pos]), tuple(_shuffle_tail(neg, rng)[:n_neg]))

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals: Sequence[str]) -> list[float]:
        """Self-critique: over-optimistic and noisy."""
        p = self.params
        out = []
        for goal in goals:
            positive = goal.strip() in POSITIVE_OUTCOMES or goal_category(goal) is None
            base = 0.55 + p.self_estimate_optimism if positive else 0.45 - p.self_estimate_optimism
            out.append(float(np.clip(base + p.self_estimate_noise * self.rng("estimate").normal(), 0.02, 0.98)))
        return out

    def estimate_value(self, ctx: DecisionContext) -> float:
        view = ctx.observation.view
        req = parse_instruction(str(view.get("instruction", "")))
        kind = page_kind(view)
        if kind == "results":
            v = 0.35 + 0.4 * max((overlap(req.keywords, r["title"]) for r in view.get("results", [])), default=0.0)
        elif kind in ("item", "subpage"):
            n_opt = len(view.get("options", {})) or 1
            done = n_opt - len(wanted_options(view, req))
            v = 0.3 + 0.4 * overlap(req.keywords, str(view.get("title", ""))) + 0.2 * done / n_opt
        elif kind == "done":
            v = float(view.get("reward", 0.0))
        else:
            v = 0.5
        return float(np.clip(v + self.params.value_noise * self.rng("estimate").normal(), 0.0, 1.0))

    def reflect(self, conduct: str, result: str) -> str:
        """A lesson read from its own moves and its score, never the hidden goal's attributes."""
        if succeeded(result):
            return LESSON_SUCCESS
        moves = [move_of(thought) for thought, _action in own_moves(conduct)]
        if "buy" not in moves:
            return LESSON_NO_PURCHASE
        if "select" not in moves:
            return LESSON_OPTIONS
        return LESSON_PRODUCT
        if OUTCOME_MISSING_OPTIONS in text:
            return LESSON_OPTIONS
        if OUTCOME_OVER_PRICE in text:
            return LESSON_PRICE
        return LESSON_PRODUCT
