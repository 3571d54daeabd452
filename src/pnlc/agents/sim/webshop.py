"""Simulated WebShop shoppers behind the `Policy` roles: a noisy prior and a privileged oracle.

Every decision starts with a thought that names a strategy in words ("Search for 'teal watch band'
with the product type and the key attributes.", "Open the first result that mentions 'teal'.",
"Check the features before buying.", "Select size medium before buying.", "Buy now."). `act` reads
the thought back (it may come from `refine`, not from `propose_thought`) and carries it out, so the
thought causally decides the move, and the outcome sentences of `pnlc.envs.webshop` follow from it:

- "Buy now." while a requested option is unselected → "Some requested options are missing ...";
- opening the first result, or one that shares few words with the instruction, → a wrong product
  ("... lacks a requested attribute.", "... the wrong type of product.");
- a short query finds fewer matching products than one with the type and key attributes;
- checking the features reveals a missing attribute, and going back then avoids it.

The prior (`kind="prior"`) mixes these with mediocre probabilities (noisy queries, noisy word
overlap, sometimes inspecting, sometimes forgetting an option) so its trajectories hold good and
bad thoughts for a critic to learn from. The oracle (`kind="oracle"`) is PRIVILEGED: it reads the
hidden goal of the task (target product, options) and is only an upper reference, never a method.
The prior sees only the `DecisionContext` (the public page in `observation.view`).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np

from pnlc.agents.roles import DecisionContext, Draft, GoalSet
from pnlc.critic.render import parse_value
from pnlc.envs.webshop import (
    BACK_TO_SEARCH,
    BUY_NOW,
    GOAL_OUTCOMES,
    NEXT_PAGE,
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
    PREV_PAGE,
    WebShopConfig,
    task_goal,
)
from pnlc.envs.webshop.catalogue import Goal

# ---- thoughts (the repertoire) ---------------------------------------------------------------
T_SEARCH_FULL = "Search for '{q}' with the product type and the key attributes."
T_SEARCH_SHORT = "Search for '{q}' with just a few words from the instruction."
T_SEARCH_AGAIN = "Go back to search and try different words."
T_OPEN_FIRST = "Open the first result."
T_OPEN_MENTION = "Open the first result that mentions '{w}'."
T_OPEN_BEST = "Open {asin}, the result that matches the most words of the instruction."
T_NEXT_PAGE = "Go to the next page of results."
T_INSPECT = "Check the {sub} before buying."
T_SELECT = "Select {name} {value} before buying."
T_BUY = "Buy now."
T_BACK_RESULTS = "Go back to the results and pick a result that matches more words."
T_BACK_ITEM = "Go back to the item page."
T_PRICE_BACK = "The price is above the limit; go back and pick a cheaper result."
T_MISSING_BACK = "The {sub} do not mention '{attr}'; go back and pick another result."

LESSON_OPTIONS = "Lesson: select every option named in the instruction before clicking Buy Now."
LESSON_PRODUCT = "Lesson: open a result whose title names the product type and the key attributes, and check its features."
LESSON_NO_PURCHASE = "Lesson: buy an item before the step limit runs out."
LESSON_PRICE = "Lesson: compare the price with the limit before buying."
LESSON_SUCCESS = "Lesson: the careful search, option selection and purchase worked; do the same again."

_STOP = frozenset(
    """i im i'm am looking for find me need want to buy a an the that is which with and of in it my some
    get would like please are be this has have also can you product products item items its one
    price lower than dollars under less""".split()
)
_TOKEN = re.compile(r"[a-z0-9]+(?:[-'][a-z0-9]+)*")
_PRICE = re.compile(r"price lower than ([\d.]+) dollars")
_OPTION_TAIL = re.compile(r" with ((?:[a-z]+(?: [a-z]+){0,2}): .*)$")
_MONEY = re.compile(r"\$([\d,]+(?:\.\d+)?)")
_ASIN = re.compile(r"\b(B[0-9A-Z]{9})\b", re.I)


def _stem(tok: str) -> str:
    return tok[:-1] if len(tok) > 3 and tok.endswith("s") and not tok.endswith("ss") else tok


def _words(text: str) -> list[str]:
    return [_stem(t) for t in _TOKEN.findall(text.lower())]


@dataclass(frozen=True)
class Request:
    """What the instruction asks for, read from its public text."""

    core: str
    keywords: tuple[str, ...]  # content words of the core, in order
    options: tuple[tuple[str, str], ...]  # explicit "name: value" pairs
    price_limit: float | None


def parse_instruction(instruction: str) -> Request:
    text = instruction.strip().lower()
    m = _PRICE.search(text)
    limit = float(m.group(1)) if m else None
    text = _PRICE.sub("", text).rstrip(" ,").removesuffix(", and").removesuffix(" and").strip()
    options: list[tuple[str, str]] = []
    mo = _OPTION_TAIL.search(text)
    if mo:
        for part in mo.group(1).split(", and "):
            if ": " in part:
                k, v = part.split(": ", 1)
                options.append((k.strip(), v.strip().rstrip(",")))
        text = text[: mo.start()]
    seen: list[str] = []
    for tok in _TOKEN.findall(text):
        if tok not in _STOP and tok not in seen:
            seen.append(tok)
    return Request(core=text.strip(), keywords=tuple(seen), options=tuple(options), price_limit=limit)


def overlap(keywords: Sequence[str], title: str) -> float:
    """Share of the instruction's keywords found in a title (crude plural stemming)."""
    if not keywords:
        return 0.0
    tw = set(_words(title))
    return sum(_stem(k) in tw for k in keywords) / len(keywords)


def wanted_value(req: Request, instruction: str, name: str, values: Sequence[str]) -> str | None:
    """The value of option group `name` that the instruction asks for, if any."""
    lower = {v.lower(): v for v in values}
    for k, v in req.options:
        if k == name.lower() and v in lower:
            return lower[v]
    for k, v in req.options:
        if v in lower:
            return lower[v]
    text = instruction.lower()
    squashed = text.replace(" ", "")
    best = None
    for v in sorted(values, key=len, reverse=True):
        lv = v.lower()
        if len(lv) < 2:
            continue
        if re.search(rf"(?<![a-z0-9]){re.escape(lv)}(?![a-z0-9])", text) or (
            len(lv) >= 4 and lv.replace(" ", "") in squashed
        ):
            best = v
            break
    return best


def _price_low(tag: str) -> float | None:
    m = _MONEY.search(tag or "")
    return float(m.group(1).replace(",", "")) if m else None


@dataclass(frozen=True)
class WebShopSimParams:
    """Knobs of the simulated shopper (probabilities per decision unless stated).

    p_short_query: search with a few words instead of the type and key attributes.
    query_drop: chance to drop each keyword from a full query.
    p_open_first / p_open_mention: open the first result / the first mentioning a keyword
        (else the result with the best noisy word overlap).
    overlap_noise: standard deviation of the noise on word overlap when ranking results.
    p_next_page: go to the next page when no result on this one looks good.
    p_inspect: look at the features (or description) of an item before buying.
    p_notice_missing: after inspecting, notice a requested attribute that is missing and go back.
    p_forget_option: forget to select a requested option (per option group).
    p_check_price: notice a price above the limit and go back.
    lesson_strength: how much a matching lesson in ctx.notes lowers the matching mistake (0..1).
    refine_negative_threshold: refine when a negative outcome's probability is above this.
    refine_positive_floor: refine when the relevant positive outcome's probability is below this.
    self_estimate_optimism / self_estimate_noise: bias and noise of self-estimated goal probabilities.
    value_noise: standard deviation of the noise on `estimate_value`.
    """

    p_short_query: float
    query_drop: float
    p_open_first: float
    p_open_mention: float
    overlap_noise: float
    p_next_page: float
    p_inspect: float
    p_notice_missing: float
    p_forget_option: float
    p_check_price: float
    lesson_strength: float
    refine_negative_threshold: float
    refine_positive_floor: float
    self_estimate_optimism: float
    self_estimate_noise: float
    value_noise: float


PARAMS_TYPE = WebShopSimParams  # built from params.yaml agents.sim.webshop

DEFAULT_PARAMS = WebShopSimParams(
    p_short_query=0.2,
    query_drop=0.1,
    p_open_first=0.3,
    p_open_mention=0.3,
    overlap_noise=0.1,
    p_next_page=0.2,
    p_inspect=0.3,
    p_notice_missing=0.5,
    p_forget_option=0.15,
    p_check_price=0.4,
    lesson_strength=0.6,
    refine_negative_threshold=0.5,
    refine_positive_floor=0.35,
    self_estimate_optimism=0.25,
    self_estimate_noise=0.12,
    value_noise=0.1,
)


@dataclass
class _Memory:
    """What the shopper remembers within an episode (an LLM would read it from its transcript)."""

    opened: list[str] = field(default_factory=list)
    rejected: set[str] = field(default_factory=set)
    forgotten: dict[tuple[str, str], bool] = field(default_factory=dict)
    inspect_plan: dict[str, str | None] = field(default_factory=dict)
    inspected: set[str] = field(default_factory=set)
    searches: int = 0
    leave_item: str | None = None


class WebShopSimPolicy:
    """Simulated shopper. `kind` is "prior" (noisy base policy) or "oracle" (PRIVILEGED: reads the goal)."""

    def __init__(self, cfg: WebShopConfig, kind: str, params: WebShopSimParams) -> None:
        if kind not in ("prior", "oracle"):
            raise ValueError(f"make_sim_policy kind: unknown {kind!r}; use 'prior' or 'oracle'")
        self.cfg = cfg
        self.kind = kind
        self.params = params
        self.name = f"sim-webshop-{kind}" + (" (privileged)" if kind == "oracle" else "")
        self.rng = np.random.default_rng(0)
        self.mem = _Memory()
        self._goal: Goal | None = None

    # ---- episode ------------------------------------------------------------------------------
    def begin_episode(self, task_id: str, seed: int) -> None:
        self.rng = np.random.default_rng([int(seed), zlib.crc32(task_id.encode("utf-8")), 0x5B0B])
        self.mem = _Memory()
        self._goal = task_goal(self.cfg, task_id) if self.kind == "oracle" else None

    # ---- helpers --------------------------------------------------------------------------------
    @staticmethod
    def _view(ctx: DecisionContext) -> Mapping[str, Any]:
        return ctx.observation.view

    def _p(self, ctx: DecisionContext, base: float, lesson: str, lower: bool = True) -> float:
        """A mistake probability, reduced (or a care probability raised) when the lesson is in notes."""
        if lesson not in ctx.notes:
            return base
        k = self.params.lesson_strength
        return base * (1 - k) if lower else base + (1 - base) * k

    def _steps_left(self, view: Mapping[str, Any]) -> int:
        return int(view.get("max_steps", self.cfg.max_steps)) - int(view.get("step", 0))

    def _missing_options(self, view: Mapping[str, Any], req: Request) -> list[tuple[str, str]]:
        selected = view.get("selected", {})
        out = []
        for name, values in view.get("options", {}).items():
            want = wanted_value(req, str(view.get("instruction", "")), name, values)
            if want is not None and selected.get(name) != want:
                out.append((name, want))
        return out

    def _best_result(self, view: Mapping[str, Any], req: Request, noise: float) -> str | None:
        results = [r for r in view.get("results", []) if r["asin"] not in self.mem.rejected]
        if not results:
            return None
        scores = [overlap(req.keywords, r["title"]) + noise * self.rng.normal() for r in results]
        if req.price_limit is not None:
            scores = [s - (0.3 if (_price_low(r["price"]) or 0) > req.price_limit else 0) for s, r in zip(scores, results)]
        return results[int(np.argmax(scores))]["asin"]

    # ---- thoughts -------------------------------------------------------------------------------
    def propose_thought(self, ctx: DecisionContext) -> str:
        view = self._view(ctx)
        req = parse_instruction(str(view.get("instruction", "")))
        if self.kind == "oracle":
            return self._oracle_thought(view, req)
        page = view.get("page")
        p = self.params
        if page == "search":
            if self.mem.searches >= 1:
                return T_SEARCH_FULL.format(q=" ".join(req.keywords))
            if self.rng.random() < self._p(ctx, p.p_short_query, LESSON_PRODUCT):
                k = min(len(req.keywords), 2 + int(self.rng.integers(0, 2)))
                idx = sorted(self.rng.choice(len(req.keywords), size=k, replace=False)) if req.keywords else []
                return T_SEARCH_SHORT.format(q=" ".join(req.keywords[i] for i in idx) or req.core)
            kept = [w for w in req.keywords if self.rng.random() >= p.query_drop] or list(req.keywords)
            return T_SEARCH_FULL.format(q=" ".join(kept) or req.core)
        if page == "results":
            return self._results_thought(ctx, view, req)
        if page == "item":
            return self._item_thought(ctx, view, req)
        if page in ("description", "features", "reviews"):
            return self._subpage_thought(ctx, view, req)
        return T_BUY

    def _results_thought(self, ctx: DecisionContext, view: Mapping[str, Any], req: Request) -> str:
        p = self.params
        results = [r for r in view.get("results", []) if r["asin"] not in self.mem.rejected]
        if not results:
            if NEXT_PAGE in view.get("clickables", []):
                return T_NEXT_PAGE
            return T_SEARCH_AGAIN
        best_overlap = max(overlap(req.keywords, r["title"]) for r in results)
        if (best_overlap < 0.4 and NEXT_PAGE in view.get("clickables", []) and self._steps_left(view) > 6
                and self.rng.random() < p.p_next_page):
            return T_NEXT_PAGE
        u = self.rng.random()
        p_first = self._p(ctx, p.p_open_first, LESSON_PRODUCT)
        if u < p_first and results[0]["asin"] == view.get("results", [{}])[0].get("asin"):
            return T_OPEN_FIRST
        if u < p_first + p.p_open_mention and req.keywords:
            word = req.keywords[int(self.rng.integers(len(req.keywords)))]
            return T_OPEN_MENTION.format(w=word)
        asin = self._best_result(view, req, p.overlap_noise)
        return T_OPEN_BEST.format(asin=asin)

    def _item_thought(self, ctx: DecisionContext, view: Mapping[str, Any], req: Request) -> str:
        p = self.params
        asin = str(view.get("asin"))
        if self.mem.leave_item == asin:
            return T_BACK_RESULTS
        left = self._steps_left(view)
        if left <= 1:
            return T_BUY
        if asin not in self.mem.inspect_plan:
            care = self._p(ctx, p.p_inspect, LESSON_PRODUCT, lower=False)
            self.mem.inspect_plan[asin] = (
                ("features" if self.rng.random() < 0.7 else "description") if self.rng.random() < care else None
            )
        plan = self.mem.inspect_plan[asin]
        if plan and asin not in self.mem.inspected and left > 3:
            return T_INSPECT.format(sub=plan)
        for name, want in self._missing_options(view, req):
            key = (asin, name)
            if key not in self.mem.forgotten:
                self.mem.forgotten[key] = self.rng.random() < self._p(ctx, p.p_forget_option, LESSON_OPTIONS)
            if not self.mem.forgotten[key]:
                return T_SELECT.format(name=name, value=want)
        price = _price_low(str(view.get("price", "")))
        if (req.price_limit is not None and price is not None and price > req.price_limit and left > 4
                and self.rng.random() < self._p(ctx, p.p_check_price, LESSON_PRICE, lower=False)):
            self.mem.leave_item = asin
            return T_PRICE_BACK
        return T_BUY

    def _subpage_thought(self, ctx: DecisionContext, view: Mapping[str, Any], req: Request) -> str:
        asin = str(view.get("asin"))
        text = " ".join(view.get("content", [])).lower() + " " + str(view.get("title", "")).lower()
        attrs = [a for a in _attribute_phrases(req) if a not in text]
        if attrs and self._steps_left(view) > 4 and self.rng.random() < self.params.p_notice_missing:
            self.mem.leave_item = asin
            return T_MISSING_BACK.format(sub=view.get("page"), attr=attrs[0])
        return T_BACK_ITEM

    def _oracle_thought(self, view: Mapping[str, Any], req: Request) -> str:
        """PRIVILEGED: steers by the hidden goal."""
        g = self._goal
        assert g is not None
        page = view.get("page")
        if page == "search":
            if self.mem.searches == 0:
                return T_SEARCH_FULL.format(q=" ".join(req.keywords))
            return T_SEARCH_FULL.format(q=g.name.lower())
        if page == "results":
            if any(r["asin"] == g.asin for r in view.get("results", [])):
                return T_OPEN_BEST.format(asin=g.asin)
            if NEXT_PAGE in view.get("clickables", []) and self._steps_left(view) > 6:
                return T_NEXT_PAGE
            if self.mem.searches < 2 and self._steps_left(view) > 5:
                return T_SEARCH_AGAIN
            return T_OPEN_BEST.format(asin=self._best_result(view, req, 0.0))
        if page == "item":
            if view.get("asin") != g.asin and self.mem.searches < 2 and self._steps_left(view) > 5:
                self.mem.leave_item = str(view.get("asin"))
                return T_BACK_RESULTS
            selected = view.get("selected", {})
            for name, values in view.get("options", {}).items():
                want = _oracle_value(g, name, values)
                if want is not None and selected.get(name) != want and self._steps_left(view) > 1:
                    return T_SELECT.format(name=name, value=want)
            return T_BUY
        return T_BACK_ITEM

    # ---- acting ---------------------------------------------------------------------------------
    def act(self, ctx: DecisionContext, thought: str) -> str:
        view = self._view(ctx)
        action = self._parse(view, thought)
        if action is None:
            action = self._default_action(view)
        self._remember(view, action)
        return action

    def _parse(self, view: Mapping[str, Any], thought: str) -> str | None:
        t = thought.strip()
        low = t.lower()
        page = view.get("page")
        clickables = [str(c) for c in view.get("clickables", [])]
        results = view.get("results", [])
        if page == "search":
            m = re.search(r"search(?: again)?(?: for)?\s*'(.+)'", t, re.I) or re.search(r"search\[(.+?)\]", t, re.I)
            if m:
                return f"search[{m.group(1).strip()}]"
            return None
        if page == "results":
            if "back to search" in low or "search again" in low or "different words" in low:
                return f"click[{BACK_TO_SEARCH}]"
            if "next page" in low and NEXT_PAGE in clickables:
                return f"click[{NEXT_PAGE}]"
            if "previous page" in low and PREV_PAGE in clickables:
                return f"click[{PREV_PAGE}]"
            m = _ASIN.search(t)
            if m and m.group(1).upper() in clickables:
                return f"click[{m.group(1).upper()}]"
            m = re.search(r"mentions? '(.+)'", t, re.I)
            if m and results:
                word = _stem(m.group(1).lower())
                results = [r for r in results if r["asin"] not in self.mem.rejected] or results
                for r in results:
                    if word in _words(r["title"]) or m.group(1).lower() in r["title"].lower():
                        return f"click[{r['asin']}]"
                return f"click[{results[0]['asin']}]"
            if "first result" in low and results:
                return f"click[{results[0]['asin']}]"
            if ("matches more" in low or "most words" in low or "another result" in low) and results:
                req = parse_instruction(str(view.get("instruction", "")))
                return f"click[{self._best_result(view, req, 0.0)}]"
            return None
        if page == "item":
            if re.search(r"\bbuy\b", low) and "before buying" not in low:
                return f"click[{BUY_NOW}]"
            m = re.search(r"select (.+?)(?: before buying)?\.?$", t, re.I)
            if m:
                value = _match_option(view, m.group(1))
                if value is not None:
                    return f"click[{value}]"
            for sub in ("features", "description", "reviews"):
                if f"check the {sub}" in low or f"read the {sub}" in low:
                    return f"click[{sub.capitalize()}]"
            if "back to search" in low or "search again" in low:
                return f"click[{BACK_TO_SEARCH}]"
            if "go back" in low or "another result" in low or "cheaper" in low:
                return f"click[{PREV_PAGE}]"
            return None
        if page in ("description", "features", "reviews"):
            if "back to search" in low or "search again" in low:
                return f"click[{BACK_TO_SEARCH}]"
            if "back" in low or "item page" in low:
                return f"click[{PREV_PAGE}]"
            return None
        return None

    def _default_action(self, view: Mapping[str, Any]) -> str:
        page = view.get("page")
        if page == "search":
            req = parse_instruction(str(view.get("instruction", "")))
            return f"search[{' '.join(req.keywords) or req.core}]"
        if page == "results":
            results = view.get("results", [])
            return f"click[{results[0]['asin']}]" if results else f"click[{BACK_TO_SEARCH}]"
        if page == "item":
            return f"click[{BUY_NOW}]"
        return f"click[{PREV_PAGE}]"

    def _remember(self, view: Mapping[str, Any], action: str) -> None:
        page = view.get("page")
        if action.startswith("search["):
            self.mem.searches += 1
        elif page == "results":
            m = _ASIN.search(action)
            if m:
                self.mem.opened.append(m.group(1).upper())
        elif page == "item" and action == f"click[{PREV_PAGE}]":
            self.mem.rejected.add(str(view.get("asin")))
            self.mem.leave_item = None
        elif page == "item" and action.lower() in ("click[features]", "click[description]", "click[reviews]"):
            self.mem.inspected.add(str(view.get("asin")))

    # ---- critic-facing roles --------------------------------------------------------------------
    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        kind = thought_kind(thought)
        if kind in ("buy", "select"):
            pos = [OUTCOME_OPTIONS, OUTCOME_SUCCESS, OUTCOME_PRICE, OUTCOME_TYPE, OUTCOME_ATTRIBUTES]
            neg = [OUTCOME_MISSING_OPTIONS, OUTCOME_WRONG_TYPE, OUTCOME_MISSING_ATTRIBUTES, OUTCOME_OVER_PRICE,
                   OUTCOME_NO_PURCHASE]
        elif kind in ("inspect", "back"):
            pos = [OUTCOME_ATTRIBUTES, OUTCOME_SUCCESS, OUTCOME_TYPE, OUTCOME_PRICE, OUTCOME_OPTIONS]
            neg = [OUTCOME_MISSING_ATTRIBUTES, OUTCOME_NO_PURCHASE, OUTCOME_WRONG_TYPE, OUTCOME_MISSING_OPTIONS,
                   OUTCOME_OVER_PRICE]
        else:
            pos = [OUTCOME_SUCCESS, OUTCOME_TYPE, OUTCOME_ATTRIBUTES, OUTCOME_PRICE, OUTCOME_OPTIONS]
            neg = [OUTCOME_WRONG_TYPE, OUTCOME_MISSING_ATTRIBUTES, OUTCOME_NO_PURCHASE, OUTCOME_OVER_PRICE,
                   OUTCOME_MISSING_OPTIONS]
        return GoalSet(tuple(self._shuffle_tail(pos)[:n_pos]), tuple(self._shuffle_tail(neg)[:n_neg]))

    def _shuffle_tail(self, items: list[str]) -> list[str]:
        """Keep the most relevant outcome first; the rest in a random order."""
        tail = list(items[1:])
        order = self.rng.permutation(len(tail))
        return [items[0]] + [tail[int(i)] for i in order]

    def refine(
        self, ctx: DecisionContext, thought: str, value_text: str, drafts: Sequence[Draft] = (), final: bool = False
    ) -> str | None:
        lines = parse_value(value_text)
        if not lines:
            return None
        p = self.params
        risk = {"options": 0.0, "product": 0.0, "no_purchase": 0.0, "price": 0.0}
        for ln in lines:
            cat = _goal_category(ln.goal)
            if cat is None:
                continue
            bad = ln.probability if not ln.positive else (1.0 - ln.probability if ln.probability < p.refine_positive_floor else 0.0)
            if not ln.positive and ln.probability <= p.refine_negative_threshold:
                bad = 0.0
            risk[cat] = max(risk[cat], bad)
        if max(risk.values()) <= 0.0:
            return None
        view = self._view(ctx)
        req = parse_instruction(str(view.get("instruction", "")))
        kind = thought_kind(thought)
        page = view.get("page")
        left = self._steps_left(view)
        worst = max(risk, key=lambda k: risk[k])
        if page == "item":
            missing = self._missing_options(view, req)
            if kind == "buy" and risk["options"] > 0 and missing:
                name, value = missing[0]
                return T_SELECT.format(name=name, value=value)
            if kind == "buy" and risk["product"] > 0 and left > 4:
                if str(view.get("asin")) not in self.mem.inspected:
                    return T_INSPECT.format(sub="features")
                return T_BACK_RESULTS
            if kind == "buy" and risk["price"] > 0 and left > 4:
                return T_PRICE_BACK
            if kind != "buy" and worst == "no_purchase" and left <= 3:
                return T_BUY
            return None
        if page == "results":
            if kind == "open" and (risk["product"] > 0 or risk["price"] > 0):
                best = self._best_result(view, req, 0.0)
                if best is not None and best not in thought:
                    return T_OPEN_BEST.format(asin=best)
            if kind == "page" and worst == "no_purchase":
                best = self._best_result(view, req, 0.0)
                return T_OPEN_BEST.format(asin=best) if best else None
            return None
        if page == "search" and kind == "search" and risk["product"] > 0:
            full = T_SEARCH_FULL.format(q=" ".join(req.keywords) or req.core)
            return full if full != thought else None
        if page in ("description", "features", "reviews") and worst == "no_purchase" and left <= 3:
            return T_BACK_ITEM
        return None

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals: Sequence[str]) -> list[float]:
        """Self-critique: over-optimistic and noisy."""
        p = self.params
        out = []
        for goal in goals:
            positive = goal.strip() in POSITIVE_OUTCOMES or _goal_category(goal) is None
            base = 0.55 + p.self_estimate_optimism if positive else 0.45 - p.self_estimate_optimism
            out.append(float(np.clip(base + p.self_estimate_noise * self.rng.normal(), 0.02, 0.98)))
        return out

    def estimate_value(self, ctx: DecisionContext) -> float:
        view = self._view(ctx)
        req = parse_instruction(str(view.get("instruction", "")))
        page = view.get("page")
        if page == "results":
            v = 0.35 + 0.4 * max((overlap(req.keywords, r["title"]) for r in view.get("results", [])), default=0.0)
        elif page in ("item", "description", "features", "reviews"):
            n_opt = len(view.get("options", {})) or 1
            done = n_opt - len(self._missing_options(view, req))
            v = 0.3 + 0.4 * overlap(req.keywords, str(view.get("title", ""))) + 0.2 * done / n_opt
        elif page == "done":
            v = float(view.get("reward", 0.0))
        else:
            v = 0.5
        return float(np.clip(v + self.params.value_noise * self.rng.normal(), 0.0, 1.0))

    def reflect(self, final_summary: str, outcome_text: str) -> str:
        text = f"{final_summary} {outcome_text}"
        if OUTCOME_SUCCESS in text:
            return LESSON_SUCCESS
        if OUTCOME_NO_PURCHASE in text:
            return LESSON_NO_PURCHASE
        if OUTCOME_WRONG_TYPE in text or OUTCOME_MISSING_ATTRIBUTES in text:
            return LESSON_PRODUCT
        if OUTCOME_MISSING_OPTIONS in text:
            return LESSON_OPTIONS
        if OUTCOME_OVER_PRICE in text:
            return LESSON_PRICE
        return LESSON_PRODUCT


# ---- reading thoughts and goals ---------------------------------------------------------------

def thought_kind(thought: str) -> str:
    """search | open | page | inspect | select | buy | back (what a thought asks for)."""
    low = thought.lower()
    if low.startswith("search") or "search for" in low or "search again" in low or "different words" in low:
        return "search"
    if low.startswith("select") or "select " in low and "before buying" in low:
        return "select"
    if low.startswith("check") or "check the" in low:
        return "inspect"
    if low.startswith("open") or " open " in f" {low}":
        return "open"
    if "next page" in low or "previous page" in low:
        return "page"
    if "go back" in low or "back to" in low:
        return "back"
    if re.search(r"\bbuy\b", low):
        return "buy"
    return "other"


def _goal_category(goal: str) -> str | None:
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


def _attribute_phrases(req: Request) -> list[str]:
    """Requested attribute phrases read from the instruction (comma / 'and' separated pieces)."""
    core = re.sub(r"^(?:find me|i am looking for|i'm looking for|im looking for|i need|i want to buy|i want)\s+", "",
                  req.core)
    pieces = re.split(r",\s*|\s+and\s+|\s+with\s+|\s+that is\s+|\s+which is\s+|\s+for\s+", core)
    return [p.strip() for p in pieces if 1 <= len(p.split()) <= 3 and p.strip() and p.strip() not in _STOP][:4]


def _match_option(view: Mapping[str, Any], text: str) -> str | None:
    """The option value named by 'select <name> <value>' (or just '<value>')."""
    text = text.strip().strip("'\"").lower()
    options: Mapping[str, Sequence[str]] = view.get("options", {})
    for name, values in options.items():
        if text.startswith(name.lower() + " "):
            rest = text[len(name) + 1:].strip().strip("'\"")
            for v in values:
                if v.lower() == rest:
                    return v
    for values in options.values():
        for v in sorted(values, key=len, reverse=True):
            if v.lower() == text or text.endswith(" " + v.lower()):
                return v
    return None


def _oracle_value(goal: Goal, name: str, values: Sequence[str]) -> str | None:
    """PRIVILEGED: the goal's value for an option group."""
    lower = {v.lower(): v for v in values}
    for k, v in goal.options:
        if k == name and v.lower() in lower:
            return lower[v.lower()]
    for k, v in goal.options:
        if not k and v.lower() in lower:
            return lower[v.lower()]
    return None


def make_sim_policy(cfg: WebShopConfig, kind: str, params: WebShopSimParams | None = None) -> WebShopSimPolicy:
    """The simulated shopper: kind "prior" (base policy) or "oracle" (PRIVILEGED: reads the hidden
    goal; an upper reference only). `params` defaults to `DEFAULT_PARAMS` (documented above)."""
    return WebShopSimPolicy(cfg, kind, DEFAULT_PARAMS if params is None else params)


__all__ = [
    "DEFAULT_PARAMS",
    "GOAL_OUTCOMES",
    "LESSON_NO_PURCHASE",
    "LESSON_OPTIONS",
    "LESSON_PRICE",
    "LESSON_PRODUCT",
    "LESSON_SUCCESS",
    "Request",
    "WebShopSimParams",
    "WebShopSimPolicy",
    "make_sim_policy",
    "overlap",
    "parse_instruction",
    "thought_kind",
]
