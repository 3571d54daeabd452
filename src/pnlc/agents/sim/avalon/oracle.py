"""The privileged reference Merlin: a scripted strong strategy, not a planner (method `oracle`).

Its script was written with the simulator's rules in view (the Assassin reads open accusations;
servants follow clean endorsements), which is what makes it privileged: an upper reference for the
tables, never a source of any other player's moves. It plays every decision from the same
repertoire and carries its thoughts out like the fallible player; it never revises.
"""

from __future__ import annotations

import numpy as np

from pnlc.agents.roles import DecisionContext
from pnlc.agents.sim.avalon import seats
from pnlc.agents.sim.avalon.player import AvalonPlayer
from pnlc.critic.render import ValueLine

# The script: move weights by decision (say depends on whether the game has just begun).
OPENING_SAY = {"blend": 0.5, "steer": 0.2, "misdirect": 0.3}
LATER_SAY = {"steer": 0.6, "blend": 0.3, "misdirect": 0.1}


class AvalonOracle(AvalonPlayer):
    """Strong scripted Merlin: hides its knowledge in talk, leads clean teams, votes what it knows."""

    name = "sim-avalon-oracle"

    def propose_thought(self, ctx: DecisionContext) -> str:
        view = ctx.observation.view
        decision = str(view.get("decision", "say"))
        rng = self.rng("propose")
        if decision == "say":
            opening = view["quest"] == 1 and view["failures"] == 0
            script = OPENING_SAY if opening else LATER_SAY
            moves = [m for m in script if m in self.moves(view)]
            weights = np.array([script[m] for m in moves])
            return self._draw(view, moves, list(np.log(weights)), rng)
        if decision == "propose":
            move = "include_evil" if view.get("side") == "evil" else "clean_team"
        elif decision == "vote":
            move = "reject" if seats.team_has_suspect(view) != (view.get("side") == "evil") else "approve"
        elif decision == "quest":
            move = "fail"
        else:
            move = "guess"
        if move not in self.moves(view):
            move = self.moves(view)[0]
        return self._draw(view, [move], [0.0], rng)

    def revise(self, ctx: DecisionContext, thought: str, warned: ValueLine, avoid: set[str]) -> str | None:
        return None
