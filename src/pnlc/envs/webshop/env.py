"""The WebShop environment: pages, the action grammar, the step cap and episode summaries.

Pages (as in the original): search page, results page ("Page N (Total results: T)", Back to
Search, < Prev / Next >, 10 products per page of the top 50), item page (options, title, price,
rating, Description / Features / Reviews / Buy Now), the three item sub-pages and the done page.
Actions: `search[free text]` on the search page and `click[label]` for any visible button, ASIN
or option value, matched case-insensitively. Anything else is answered with "Invalid action!"
and the unchanged page. Every action counts toward `max_steps`; an episode that reaches the cap
without a purchase ends with reward 0.

Text follows the format LLM agents were evaluated with in ReAct and LATS (one element a line,
clickables in square brackets, the selected option of a group in double brackets, "You have
clicked X." after an option click). One difference: every page repeats the instruction at the top,
because a decision here sees only the current observation, not the whole transcript.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from pnlc.envs.base import EnvError, Observation, Transition
from pnlc.envs.webshop.catalogue import CatalogueData, Goal, Product, index_goals, load_original
from pnlc.envs.webshop.config import WebShopConfig
from pnlc.envs.webshop.reward import RewardBreakdown, compute_reward
from pnlc.envs.webshop.search import SEARCH_RETURN_N, SearchIndex

log = logging.getLogger(__name__)

PRODUCT_WINDOW = 10
BACK_TO_SEARCH = "Back to Search"
PREV_PAGE = "< Prev"
NEXT_PAGE = "Next >"
BUY_NOW = "Buy Now"
SUBPAGES = ("Description", "Features", "Reviews")
INVALID = "Invalid action!"

OUTCOME_SUCCESS = "The purchased item matches every requirement."
OUTCOME_TYPE = "The agent buys a product of the requested type."
OUTCOME_ATTRIBUTES = "The purchased item has all requested attributes."
OUTCOME_OPTIONS = "All requested options are selected."
OUTCOME_PRICE = "The purchased item is within the price limit."
OUTCOME_NO_PURCHASE = "The episode ends without a purchase."
OUTCOME_WRONG_TYPE = "The purchased item is the wrong type of product."
OUTCOME_MISSING_OPTIONS = "Some requested options are missing from the purchase."
OUTCOME_MISSING_ATTRIBUTES = "The purchased item lacks a requested attribute."
OUTCOME_OVER_PRICE = "The purchased item costs more than the price limit."
POSITIVE_OUTCOMES = (OUTCOME_SUCCESS, OUTCOME_TYPE, OUTCOME_ATTRIBUTES, OUTCOME_OPTIONS, OUTCOME_PRICE)
NEGATIVE_OUTCOMES = (OUTCOME_NO_PURCHASE, OUTCOME_WRONG_TYPE, OUTCOME_MISSING_OPTIONS,
                     OUTCOME_MISSING_ATTRIBUTES, OUTCOME_OVER_PRICE)
GOAL_OUTCOMES = POSITIVE_OUTCOMES + NEGATIVE_OUTCOMES
# No two outcome sentences are complements: every "wrong / missing / over" sentence is false when
# nothing is bought, as is its positive counterpart, and "no purchase" is the complement of no one
# sentence.
COMPLEMENTARY_OUTCOMES: tuple[tuple[str, str], ...] = ()

_ACTION = re.compile(r"^\s*(search|click)\s*\[(.*)\]\s*$", re.IGNORECASE | re.DOTALL)


# ---------------------------------------------------------------- catalogue (cached per process)

@dataclass(frozen=True, eq=False)
class Catalogue:
    """Immutable products, goals and search index, shared by every env built from one config."""

    source: str
    products: tuple[Product, ...]
    by_asin: Mapping[str, Product]
    goals: tuple[Goal, ...]
    index: SearchIndex
    n_test_goals: int

    def search(self, query: str) -> list[Product]:
        return [self.products[i] for i in self.index.search(query, SEARCH_RETURN_N)]

    def task_ids(self, split: str) -> list[str]:
        n = min(self.n_test_goals, len(self.goals))
        if split == "test":
            return [task_id(i) for i in range(n)]
        if split == "train":
            return [task_id(i) for i in range(n, len(self.goals))]
        raise EnvError(f"unknown split {split!r}; use 'train' or 'test'")

    def goal(self, tid: str) -> Goal:
        m = re.fullmatch(r"goal-(\d+)", tid)
        if not m or int(m.group(1)) >= len(self.goals):
            raise EnvError(f"unknown webshop task {tid!r}; task ids are 'goal-0' .. 'goal-{len(self.goals) - 1}'")
        return self.goals[int(m.group(1))]


def task_id(index: int) -> str:
    return f"goal-{index}"


@functools.lru_cache(maxsize=8)
def _build(source: str, n_generated: int, seed: int, max_goals: int, human: bool, k1: float, b: float,
           n_test: int) -> Catalogue:
    if source == "generated":
        from pnlc.envs.webshop.generated import generate

        data: CatalogueData = generate(n_generated, seed, max_goals)
    else:
        data = load_original(Path(source), seed, max_goals, human)
    by_asin = {p.asin: p for p in data.products}
    goals = index_goals(data.raw_goals, by_asin, seed)
    if len(goals) <= n_test:
        raise EnvError(f"catalogue {source!r} yields {len(goals)} goals, not more than "
                       f"WebShopConfig.n_test_goals={n_test}; lower n_test_goals or use a larger catalogue")
    index = SearchIndex([p.search_document() for p in data.products], k1, b)
    log.info("webshop catalogue %s: %d products, %d goals", source, len(data.products), len(goals))
    return Catalogue(source, data.products, by_asin, goals, index, n_test)


def load_catalogue(cfg: WebShopConfig) -> Catalogue:
    """The catalogue, goals and BM25 index for `cfg`, built once per process."""
    source = "generated" if cfg.catalogue == "generated" else str(Path(cfg.catalogue).resolve())
    return _build(source, cfg.n_generated_products if source == "generated" else 0, cfg.seed,
                  cfg.max_goals_per_product, cfg.human_instructions, cfg.bm25_k1, cfg.bm25_b,
                  cfg.n_test_goals)


# ---------------------------------------------------------------- episode state

@dataclass
class _State:
    goal: Goal
    seed: int
    page: str = "search"  # search | results | item | description | features | reviews | done
    query: str | None = None
    results: tuple[str, ...] = ()
    page_num: int = 1
    asin: str | None = None
    selected: dict[str, str] = field(default_factory=dict)
    steps: int = 0
    done: bool = False
    reward: float = 0.0
    breakdown: RewardBreakdown | None = None
    purchased: str | None = None
    clicked: str | None = None
    invalid: bool = False
    events: list[tuple] = field(default_factory=list)


def _short(title: str, words: int = 6) -> str:
    parts = title.split()
    return " ".join(parts[:words]) + ("…" if len(parts) > words else "")


def _join_and(items: list[str], word: str = "and") -> str:
    if len(items) <= 1:
        return "".join(items)
    return ", ".join(items[:-1]) + f" {word} " + items[-1]


class WebShopEnv:
    """One shopper's session in the shop; see the module docstring for pages and actions."""

    name = "webshop"

    def __init__(self, cfg: WebShopConfig, catalogue: Catalogue | None = None):
        self.cfg = cfg
        self.catalogue = catalogue if catalogue is not None else load_catalogue(cfg)
        self._s: _State | None = None

    # -- protocol -------------------------------------------------------------------------------
    def tasks(self, split: str) -> list[str]:
        return self.catalogue.task_ids(split)

    def reset(self, task_id: str, seed: int) -> Observation:
        self._s = _State(goal=self.catalogue.goal(task_id), seed=seed)
        return self._observation()

    def step(self, action: str) -> Transition:
        s = self._state()
        if s.done:
            return Transition(self._observation(), 0.0, True, {"valid": False, "page": "done", "step": s.steps})
        s.clicked = None
        s.invalid = False
        valid = self._apply(action)
        s.invalid = not valid
        s.steps += 1
        reward = s.reward if (s.done and s.purchased is not None) else 0.0
        if not s.done and s.steps >= self.cfg.max_steps:
            s.done, s.page, s.reward = True, "done", 0.0
            s.events.append(("cap",))
        return Transition(self._observation(), reward, s.done, {"valid": valid, "page": s.page, "step": s.steps})

    def describe(self) -> str:
        s = self._state()
        return _describe(s, self.catalogue, self.cfg.max_steps)

    def outcome(self) -> Mapping[str, Any]:
        s = self._state()
        b = s.breakdown
        return {
            "reward": s.reward,
            "success": s.reward == 1.0,
            "purchased": s.purchased,
            "purchased_options": dict(s.selected) if s.purchased else {},
            "steps": s.steps,
            "finished": s.done,
            "goal_asin": s.goal.asin,
            "goal_source": s.goal.source,
            "attribute_hits": b.attribute_hits if b else 0,
            "n_attributes": len(s.goal.attributes),
            "option_hits": b.option_hits if b else 0,
            "n_options": len(s.goal.options),
            "price_hit": bool(b.price_hit) if b else False,
            "type_factor": b.type.factor if b else 0.0,
            "title_score": b.type.title_score if b else 0.0,
        }

    def metric(self) -> float:
        return self._state().reward

    def goal_outcomes(self) -> Mapping[str, bool]:
        s = self._state()
        if not s.done:
            raise EnvError("goal_outcomes() needs a finished episode; step until done is True")
        return outcome_flags(s.breakdown)

    def reseed(self, seed: int) -> None:
        """Nothing to do: after reset the shop is deterministic (search and pages depend on the actions only)."""
        self._state()

    def clone(self) -> "WebShopEnv":
        other = WebShopEnv(self.cfg, self.catalogue)
        if self._s is not None:
            st = copy.copy(self._s)
            st.selected = dict(self._s.selected)
            st.events = list(self._s.events)
            other._s = st
        return other

    # -- public helpers -------------------------------------------------------------------------
    @property
    def instruction(self) -> str:
        return self._state().goal.instruction

    # -- internals ------------------------------------------------------------------------------
    def _state(self) -> _State:
        if self._s is None:
            raise EnvError("call reset(task_id, seed) before using the environment")
        return self._s

    def _product(self) -> Product:
        s = self._state()
        assert s.asin is not None
        return self.catalogue.by_asin[s.asin]

    def _n_pages(self) -> int:
        return max(1, -(-len(self._state().results) // PRODUCT_WINDOW))

    def _page_asins(self) -> tuple[str, ...]:
        s = self._state()
        return s.results[(s.page_num - 1) * PRODUCT_WINDOW: s.page_num * PRODUCT_WINDOW]

    def clickables(self) -> list[str]:
        """Labels clickable on the current page, in display order."""
        s = self._state()
        if s.page == "results":
            out = [BACK_TO_SEARCH]
            if s.page_num > 1:
                out.append(PREV_PAGE)
            if s.page_num < self._n_pages():
                out.append(NEXT_PAGE)
            return out + list(self._page_asins())
        if s.page == "item":
            p = self._product()
            values = [v for vals in p.options.values() for v in vals]
            return [BACK_TO_SEARCH, PREV_PAGE] + values + list(SUBPAGES) + [BUY_NOW]
        if s.page in ("description", "features", "reviews"):
            return [BACK_TO_SEARCH, PREV_PAGE]
        return []

    def _apply(self, action: str) -> bool:
        s = self._state()
        m = _ACTION.match(action or "")
        if not m:
            return False
        verb, arg = m.group(1).lower(), m.group(2).strip()
        if verb == "search":
            if s.page != "search" or not arg:
                return False
            s.query = arg
            s.results = tuple(p.asin for p in self.catalogue.search(arg))
            s.page, s.page_num, s.asin = "results", 1, None
            s.events.append(("search", arg, len(s.results)))
            return True
        label = arg.lower()
        match = next((c for c in self.clickables() if c.lower() == label), None)
        if match is None:
            return False
        if match == BACK_TO_SEARCH:
            s.page, s.asin, s.selected = "search", None, {}
            s.events.append(("back",))
        elif match == NEXT_PAGE:
            s.page_num += 1
            s.events.append(("page", s.page_num))
        elif match == PREV_PAGE:
            if s.page == "results":
                s.page_num -= 1
                s.events.append(("page", s.page_num))
            elif s.page == "item":
                s.page, s.asin, s.selected = "results", None, {}
                s.events.append(("results", s.page_num))
            else:
                s.page = "item"
        elif s.page == "results":
            s.page, s.asin, s.selected = "item", match, {}
            s.events.append(("open", match))
        elif match in SUBPAGES:
            s.page = match.lower()
            s.events.append(("inspect", s.page, s.asin))
        elif match == BUY_NOW:
            p = self._product()
            s.breakdown = compute_reward(p, s.goal, s.selected)
            s.reward = s.breakdown.reward
            s.purchased, s.done, s.page = p.asin, True, "done"
            s.events.append(("buy", p.asin))
        else:  # an option value
            p = self._product()
            for name, vals in p.options.items():
                if match in vals:
                    s.selected[name] = match
                    s.clicked = match
                    s.events.append(("select", name, match, s.asin))
                    break
        return True

    # -- rendering ------------------------------------------------------------------------------
    def _observation(self) -> Observation:
        s = self._state()
        view: dict[str, Any] = {
            "page": s.page,
            "instruction": s.goal.instruction,
            "has_search_bar": s.page == "search",
            "clickables": self.clickables(),
            "step": s.steps,
            "max_steps": self.cfg.max_steps,
            "invalid": s.invalid,
            "query": s.query,
        }
        lines = [f"Instruction:\n{s.goal.instruction}"] if s.page != "search" else []
        if s.page == "search":
            lines = ["WebShop", "Instruction:", s.goal.instruction, "[Search]"]
        elif s.page == "results":
            total = len(s.results)
            view.update(page_number=s.page_num, total_results=total, results=[
                {"asin": a, "title": self.catalogue.by_asin[a].title, "price": self.catalogue.by_asin[a].price_tag}
                for a in self._page_asins()
            ])
            lines.append(f"[{BACK_TO_SEARCH}]")
            lines.append(f"Page {s.page_num} (Total results: {total})")
            if s.page_num > 1:
                lines.append(f"[{PREV_PAGE}]")
            if s.page_num < self._n_pages():
                lines.append(f"[{NEXT_PAGE}]")
            for r in view["results"]:
                lines += [f"[{r['asin']}]", r["title"], r["price"]]
        elif s.page == "item":
            p = self._product()
            view.update(self._item_view(p))
            if s.clicked:
                lines.insert(0, f"You have clicked {s.clicked}.")
            lines += [f"[{BACK_TO_SEARCH}]", f"[{PREV_PAGE}]"]
            for name, vals in p.options.items():
                marks = "".join(f"[[{v}]]" if s.selected.get(name) == v else f"[{v}]" for v in vals)
                lines.append(f"{name} {marks}")
            lines += [p.title, f"Price: {p.price_tag}", f"Rating: {p.rating}"]
            lines += [f"[{x}]" for x in SUBPAGES] + [f"[{BUY_NOW}]"]
        elif s.page in ("description", "features", "reviews"):
            p = self._product()
            view.update(self._item_view(p))
            if s.page == "description":
                content = [p.description or "No description."]
            elif s.page == "features":
                content = [b.strip() for b in p.bullets if b.strip()] or ["No features listed."]
            else:
                content = list(p.reviews) or ["No reviews yet."]
            view["content"] = content
            lines += [f"[{BACK_TO_SEARCH}]", f"[{PREV_PAGE}]"] + content
        else:  # done
            view["reward"] = s.reward
            view["purchased"] = s.purchased
            view["selected"] = dict(s.selected) if s.purchased else {}
            lines = ["Thank you for shopping with us!"]
            if s.purchased:
                p = self.catalogue.by_asin[s.purchased]
                opts = ", ".join(f"{k}: {v}" for k, v in s.selected.items()) or "none"
                lines += [f"Purchased: [{p.asin}] {p.title}", f"Options: {opts}"]
            else:
                lines += [f"No purchase was made within {self.cfg.max_steps} steps."]
            lines.append(f"Your score (min 0.0, max 1.0): {s.reward:.2f}")
        text = "\n".join(lines)
        if s.invalid:
            text = f"{INVALID}\n{text}"
        return Observation(text=text, view=view)

    def _item_view(self, p: Product) -> dict[str, Any]:
        s = self._state()
        return {
            "asin": p.asin,
            "title": p.title,
            "price": p.price_tag,
            "rating": p.rating,
            "options": {k: list(v) for k, v in p.options.items()},
            "selected": dict(s.selected),
            "page_number": s.page_num,
        }


def outcome_flags(b: RewardBreakdown | None) -> dict[str, bool]:
    """Which GOAL_OUTCOMES sentences hold for a finished episode (b is None: no purchase)."""
    bought = b is not None
    right_type = bought and b.type.factor == 1.0
    flags = {
        OUTCOME_SUCCESS: bought and b.reward == 1.0,
        OUTCOME_TYPE: right_type,
        OUTCOME_ATTRIBUTES: bought and b.all_attributes,
        OUTCOME_OPTIONS: bought and b.all_options,
        OUTCOME_PRICE: bought and b.price_hit,
        OUTCOME_NO_PURCHASE: not bought,
        OUTCOME_WRONG_TYPE: bought and not right_type,
        OUTCOME_MISSING_OPTIONS: bought and not b.all_options,
        OUTCOME_MISSING_ATTRIBUTES: bought and not b.all_attributes,
        OUTCOME_OVER_PRICE: bought and not b.price_hit,
    }
    return {k: bool(v) for k, v in flags.items()}


def _describe(s: _State, cat: Catalogue, max_steps: int) -> str:
    searches = [e[1] for e in s.events if e[0] == "search"]
    opened = [e[1] for e in s.events if e[0] == "open"]
    parts: list[str] = []
    if not searches:
        parts.append("Has not searched yet")
    elif len(searches) == 1:
        parts.append(f"Searched '{_short(searches[0], 10)}'")
    else:
        parts.append(f"Searched {len(searches)} times, last '{_short(searches[-1], 10)}'")
    if opened:
        shown = [f"{a} ({_short(cat.by_asin[a].title)})" for a in opened[-2:]]
        more = f" after {len(opened) - 2} others" if len(opened) > 2 else ""
        parts.append("opened " + ", then ".join(shown) + more)
    current = s.asin if s.page in ("item", "description", "features", "reviews") else None
    if s.done and s.purchased:
        current = s.purchased
    if current:
        p = cat.by_asin[current]
        sel = [f"{k} {v}" for k, v in s.selected.items()]
        if sel:
            parts.append("selected " + _join_and(sel))
        inspected = sorted({e[1] for e in s.events if e[0] == "inspect" and e[2] == current})
        if inspected:
            parts.append("checked the " + _join_and(inspected))
        missing = [f"a {k}" for k in p.options if k not in s.selected]
        if missing and not s.done:
            parts.append("has not chosen " + _join_and(missing, "or"))
    elif s.page == "results":
        parts.append(f"viewing results page {s.page_num}")
    elif s.page == "search" and searches:
        parts.append("back on the search page")
    if not s.done:
        parts.append(f"{s.steps} of {max_steps} steps used")
        return "; ".join(parts) + "."
    flags = outcome_flags(s.breakdown)
    if s.purchased:
        p = cat.by_asin[s.purchased]
        head = "; ".join(parts) + f"; bought {p.asin} for {p.price_tag} after {s.steps} steps (reward {s.reward:.2f})."
        if flags[OUTCOME_SUCCESS]:
            match = "It matched the request fully."
        elif s.reward >= 0.5:
            match = "It partly matched the request."
        else:
            match = "It matched the request poorly."
    else:
        head = "; ".join(parts) + f"; ran out of steps after {s.steps} actions without buying."
        match = ""
    facts = " ".join(k for k, v in flags.items() if v)
    return " ".join(x for x in (head, match, facts) if x)
