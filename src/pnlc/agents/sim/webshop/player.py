"""The fallible simulated shopper (the prior): it sees only the page, reads titles with its own
misjudgement, and draws each thought from the repertoire by how much each move appeals to it.

`propose_thought` and `revise` share one competence: both rank the moves available on the page by
the same appeal (the shopper's beliefs about the page) and draw one with the same temperature.
`revise` differs only in what it is aimed at: the moves the shopper believes address the outcome
it was warned about, read from the warning's words ("options missing" -> select an option). It
never reads the hidden goal; whether a revision is kept is decided by `SimPolicyBase.refine`.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from pnlc.agents.roles import DecisionContext
from pnlc.agents.sim.webshop.reading import (
    Request,
    attribute_phrases,
    missing_attributes,
    over_limit,
    overlap,
    parse_instruction,
    price_low,
    reading_noise,
    wanted_options,
)
from pnlc.agents.sim.webshop.repertoire import PAGE_MOVES, page_kind, quoted, short_title, write
from pnlc.agents.sim.webshop.shopper import (
    LESSON_NO_PURCHASE,
    LESSON_OPTIONS,
    LESSON_PRICE,
    LESSON_PRODUCT,
    Shopper,
    goal_category,
)
from pnlc.critic.render import ValueLine
from pnlc.envs.webshop import NEXT_PAGE

# The moves a shopper believes address each kind of outcome (what it reads in a warning).
ADDRESSES: Mapping[str, frozenset[str]] = {
    "options": frozenset({"select", "search_options", "open_match"}),
    "product": frozenset({"inspect", "back", "open_match", "next_page", "new_search", "search_core"}),
    "price": frozenset({"open_cheap", "back", "new_search"}),
    "no_purchase": frozenset({"buy", "open_top", "search_short", "return_item"}),
}
# The moves a reflexion lesson reminds the shopper of.
LESSON_MOVES: Mapping[str, frozenset[str]] = {
    LESSON_OPTIONS: frozenset({"select"}),
    LESSON_PRODUCT: frozenset({"inspect", "open_match"}),
    LESSON_PRICE: frozenset({"open_cheap"}),
    LESSON_NO_PURCHASE: frozenset({"buy"}),
}
LESSON_BOOST = 0.3  # appeal a lesson at full strength adds to the moves it names

Choices = dict[str, tuple[float, str]]  # move -> (appeal, thought)


class WebShopPlayer(Shopper):
    """The fallible shopper (kind "prior"); see the module docstring."""

    name = "sim-webshop-prior"

    # ---- beliefs --------------------------------------------------------------------------------
    def belief(self, req: Request, title: str) -> float:
        """How well the shopper believes a title matches the instruction (its own misjudgement)."""
        noise = reading_noise(self.episode_seed, self.task_id, title)
        return overlap(req.keywords, title) + self.params.reading_noise * noise

    def choices(self, ctx: DecisionContext, rng: np.random.Generator) -> Choices:
        """Every move available on this page with its appeal and its thought text."""
        view = ctx.observation.view
        req = parse_instruction(str(view.get("instruction", "")))
        kind = page_kind(view)
        if kind == "search":
            out = self._search(req, rng)
        elif kind == "results":
            out = self._results(view, req)
        elif kind == "item":
            out = self._item(view, req)
        elif kind == "subpage":
            out = self._subpage(view, req)
        else:
            out = {}
        for lesson, moves in LESSON_MOVES.items():
            if lesson in ctx.notes:
                for m in moves & out.keys():
                    out[m] = (out[m][0] + LESSON_BOOST * self.params.lesson_strength, out[m][1])
        return out

    def _query(self, words: list[str], rng: np.random.Generator) -> str:
        kept = [w for w in words if rng.random() >= self.params.query_drop]
        return " ".join(kept or words)

    def _search(self, req: Request, rng: np.random.Generator) -> Choices:
        words = list(req.keywords) or req.core.split()
        out: Choices = {}
        core = self._query(words, rng)
        out["search_core"] = (0.6, write("search_core", q=core))
        if req.options:
            q = self._query(words + [v for _, v in req.options], rng)
            out["search_options"] = (0.5, write("search_options", q=q))
        k = min(len(words), 2 + int(rng.integers(0, 2)))
        idx = sorted(int(i) for i in rng.choice(len(words), size=k, replace=False)) if words else []
        out["search_short"] = (0.4, write("search_short", q=" ".join(words[i] for i in idx) or req.core))
        return {m: (a - (0.4 if quoted(t) in self.mem.queries else 0.0), t) for m, (a, t) in out.items()}

    def _results(self, view: Mapping[str, Any], req: Request) -> Choices:
        left = self.steps_left(view)
        shown = list(view.get("results", []))
        results = [r for r in shown if r["asin"] not in self.mem.rejected]
        out: Choices = {}
        if results:
            b = {r["asin"]: self.belief(req, r["title"]) for r in results}
            best = max(results, key=lambda r: b[r["asin"]])
            top = shown[0]
            if top["asin"] not in self.mem.rejected:
                out["open_top"] = (b[top["asin"]], write("open_top", asin=top["asin"], title=short_title(top["title"])))
            out["open_match"] = (b[best["asin"]],
                                 write("open_match", asin=best["asin"], title=short_title(best["title"])))
            near = [r for r in results if b[r["asin"]] >= b[best["asin"]] - 0.25]
            cheap = min(near, key=lambda r: price_low(r["price"]) or 0.0)
            pricey = over_limit(req, best["price"])
            out["open_cheap"] = (b[cheap["asin"]] + (0.2 if pricey else -0.05),
                                 write("open_cheap", asin=cheap["asin"], title=short_title(cheap["title"])))
            best_b = b[best["asin"]]
        else:
            best_b = 0.0
        if left > 2 or not results:
            if NEXT_PAGE in view.get("clickables", []):
                out["next_page"] = (0.6 - best_b, write("next_page"))
            out["new_search"] = (0.5 - best_b, write("new_search"))
        return out

    def _item(self, view: Mapping[str, Any], req: Request) -> Choices:
        left = self.steps_left(view)
        asin = str(view.get("asin"))
        title = str(view.get("title", ""))
        b = self.belief(req, title)
        missing_options = wanted_options(view, req)
        over = float(over_limit(req, str(view.get("price", ""))))
        seen = self.mem.seen_missing.get(asin)
        lacks = float(bool(seen))
        out: Choices = {"buy": (b - 0.15 * len(missing_options) - 0.3 * over - 0.3 * lacks, write("buy"))}
        if left <= 1:
            return out
        if missing_options:
            name, value = missing_options[0]
            out["select"] = (b + 0.05, write("select", name=name, value=value))
        if left >= 4:
            if seen is None:
                phrases = attribute_phrases(req)
                unsure = [a for a in phrases if a not in title.lower()] or phrases or ["the requested attributes"]
                out["inspect"] = (0.3 + 0.3 * (1.0 - min(b, 1.0)), write("inspect", attr=unsure[0]))
            out["back"] = (0.8 - b + 0.3 * over + 0.4 * lacks, write("back"))
        return out

    def _subpage(self, view: Mapping[str, Any], req: Request) -> Choices:
        text = " ".join(view.get("content", [])) + " " + str(view.get("title", ""))
        lacks = float(bool(missing_attributes(req, text)))
        out: Choices = {"return_item": (0.6 - 0.4 * lacks, write("return_item"))}
        if self.steps_left(view) > 6:
            out["new_search"] = (0.2 + 0.4 * lacks, write("new_search"))
        return out

    def draw(self, choices: Choices, rng: np.random.Generator) -> str:
        """One thought, drawn with probability softmax(appeal / temperature) in repertoire order."""
        moves = list(choices)
        appeal = np.array([choices[m][0] for m in moves]) / self.params.temperature
        p = np.exp(appeal - appeal.max())
        return choices[moves[int(rng.choice(len(moves), p=p / p.sum()))]][1]

    # ---- roles ----------------------------------------------------------------------------------
    def propose_thought(self, ctx: DecisionContext) -> str:
        rng = self.rng("propose")
        choices = self.choices(ctx, rng)
        if not choices:
            return write("buy")
        return self.draw(choices, rng)

    def revise(self, ctx: DecisionContext, thought: str, warned: ValueLine, avoid: set[str]) -> str | None:
        rng = self.rng("refine")
        choices = {m: c for m, c in self.choices(ctx, rng).items() if c[1] not in avoid}
        aimed = ADDRESSES.get(goal_category(warned.goal) or "", frozenset())
        pool = {m: c for m, c in choices.items() if m in aimed}
        return self.draw(pool, rng) if pool else None


__all__ = ["ADDRESSES", "PAGE_MOVES", "WebShopPlayer"]
