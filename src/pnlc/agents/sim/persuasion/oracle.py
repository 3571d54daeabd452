"""The scripted expert persuader (`make_sim_policy(..., "oracle")`), the simulated ceiling.

A hand-written schedule, not a learned or LLM policy: it reads the dialogue without error, answers
every open doubt, builds rapport first, varies its appeals and asks late, once it sounds welcome.
It speaks with the prior's words (the same repertoire) and never refines its schedule.
"""

from __future__ import annotations

from typing import Any, Mapping, Sequence

from pnlc.agents.roles import DecisionContext, Draft
from pnlc.agents.sim.persuasion.player import PersuasionPlayer
from pnlc.agents.sim.persuasion.repertoire import ADDRESS, MOVE_STRATEGY, thought_for
from pnlc.envs.persuasion.strategies import PROPOSITION, detect_strategies

APPEAL_ORDER = ("credibility", "emotion", "logical", "story", "self_model", "foot", "donation_info")


class PersuasionOracle(PersuasionPlayer):
    """The expert schedule; every other role is the player's."""

    name = "sim-persuasion-oracle"
    stream_salt = 0x0AC1

    def propose_thought(self, ctx: DecisionContext) -> str:
        view = ctx.observation.view
        turn = int(view.get("turn", 0)) + 1
        max_turns = int(view.get("max_turns", self.cfg.max_turns))
        doubt = view.get("open_concern")
        asks = int(view.get("asks", 0))
        if doubt is not None:
            return thought_for(ADDRESS, doubt)
        if turn == 1:
            return thought_for("rapport")
        if turn == 2:
            return thought_for("source")
        dialogue = view.get("dialogue", ())
        last_was_ask = bool(dialogue) and PROPOSITION in detect_strategies(dialogue[-2][1])
        warm = view.get("donor_attitude") in ("warming", "neutral")
        if turn == max_turns or (turn >= 7 and not last_was_ask and asks < 2 and (warm or turn >= 8)):
            return thought_for("ask")
        if last_was_ask:
            return thought_for("donation_info")
        return thought_for(_unused_appeal(view))

    def refine(
        self, ctx: DecisionContext, thought: str, value_text: str, drafts: Sequence[Draft] = (), final: bool = False
    ) -> str | None:
        return None


def _unused_appeal(view: Mapping[str, Any]) -> str:
    counts = view.get("strategies_used", {})
    used = {move: int(counts.get(MOVE_STRATEGY[move], 0)) for move in APPEAL_ORDER}
    for move in APPEAL_ORDER:
        if used[move] == 0:
            return move
    return min(APPEAL_ORDER, key=lambda m: used[m])
