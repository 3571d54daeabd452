"""The privileged oracle: a shopper that reads the task's hidden goal (target product, options).

It is an upper reference, never a method: it plays the same repertoire as the fallible shopper
but chooses by the hidden goal. It never revises (the oracle is evaluated without a critic).
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from pnlc.agents.roles import DecisionContext
from pnlc.agents.sim.webshop.reading import overlap, parse_instruction
from pnlc.agents.sim.webshop.repertoire import page_kind, short_title, write
from pnlc.agents.sim.webshop.shopper import Shopper
from pnlc.critic.render import ValueLine
from pnlc.envs.webshop import NEXT_PAGE, task_goal
from pnlc.envs.webshop.catalogue import Goal


def goal_value(goal: Goal, name: str, values: Sequence[str]) -> str | None:
    """PRIVILEGED: the goal's value for an option group."""
    lower = {v.lower(): v for v in values}
    for k, v in goal.options:
        if k == name and v.lower() in lower:
            return lower[v.lower()]
    for k, v in goal.options:
        if not k and v.lower() in lower:
            return lower[v.lower()]
    return None


class WebShopOracle(Shopper):
    """PRIVILEGED: steers by the hidden goal of the task (kind "oracle")."""

    name = "sim-webshop-oracle"

    def begin_episode(self, task_id: str, seed: int) -> None:
        super().begin_episode(task_id, seed)
        self.goal = task_goal(self.cfg, task_id)

    def propose_thought(self, ctx: DecisionContext) -> str:
        view: Mapping[str, Any] = ctx.observation.view
        g = self.goal
        req = parse_instruction(str(view.get("instruction", "")))
        kind = page_kind(view)
        left = self.steps_left(view)
        if kind == "search":
            q = " ".join(req.keywords) if not self.mem.queries else g.name.lower().replace("'", "")
            return write("search_core", q=q)
        if kind == "results":
            results = list(view.get("results", []))
            for r in results:
                if r["asin"] == g.asin:
                    return write("open_match", asin=r["asin"], title=short_title(r["title"]))
            if NEXT_PAGE in view.get("clickables", []) and left > 6:
                return write("next_page")
            if len(self.mem.queries) < 2 and left > 5:
                return write("new_search")
            if results:
                best = max(results, key=lambda r: overlap(req.keywords, r["title"]))
                return write("open_match", asin=best["asin"], title=short_title(best["title"]))
            return write("new_search")
        if kind == "item":
            if view.get("asin") != g.asin and len(self.mem.queries) < 2 and left > 5:
                return write("back")
            selected = view.get("selected", {})
            for name, values in view.get("options", {}).items():
                want = goal_value(g, name, values)
                if want is not None and selected.get(name) != want and left > 1:
                    return write("select", name=name, value=want)
            return write("buy")
        return write("return_item")

    def revise(self, ctx: DecisionContext, thought: str, warned: ValueLine, avoid: set[str]) -> str | None:
        return None
