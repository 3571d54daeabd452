"""Carrying out a thought: the environment action a thought's move implies at this decision.

The thought is read back from its words (it may come from a revision, not from `propose_thought`),
so the thought causally decides the move; a player it names is the one acted on.
"""

from __future__ import annotations

import numpy as np

from pnlc.agents.sim.avalon import seats
from pnlc.agents.sim.avalon.repertoire import thought_move, thought_player
from pnlc.agents.sim.avalon.seats import View
from pnlc.envs.avalon.rules import N_PLAYERS
from pnlc.envs.avalon.speech import ACCUSE, DEFEND, ENDORSE, MILD, STRONG, Claim, render_claim, render_neutral


def pick(seq: list[int], rng: np.random.Generator) -> int | None:
    return None if not seq else int(seq[int(rng.integers(len(seq)))])


def carry_out(view: View, thought: str, rng: np.random.Generator) -> str:
    """The action text for `thought` at the decision `view` asks for."""
    decision = str(view.get("decision", "say"))
    move = thought_move(decision, thought)
    target = thought_player(thought)
    if decision == "say":
        return _say(view, move, target, rng)
    if decision == "propose":
        return _propose(view, move, target, rng)
    if decision == "vote":
        return _vote(view, move)
    if decision == "quest":
        if view.get("side") != "evil":
            return "quest[success]"
        return "quest[fail]" if move == "fail" else "quest[success]"
    if decision == "assassinate":
        seat = target if target is not None and target not in seats.evil_side(view) else seats.guess_merlin(view)
        return f"assassinate[{seat + 1}]"
    return "say[I have nothing to add.]"


def _say(view: View, move: str | None, target: int | None, rng: np.random.Generator) -> str:
    mine = seats.me(view)
    against = seats.suspects(view)
    named = target if target is not None and target != mine else None
    evil_target = named if named is not None else pick(against, rng)
    good_target = named if named is not None else pick(seats.friends(view), rng)
    claim: Claim | None = None
    if move == "accuse" and evil_target is not None:
        claim = Claim(ACCUSE, (evil_target,), STRONG)
    elif move == "hint" and evil_target is not None:
        claim = Claim(ACCUSE, (evil_target,), MILD)
    elif move == "steer":
        claim = Claim(ENDORSE, team(view, avoid=set(against), rng=rng), MILD)
    elif move == "misdirect" and good_target is not None:
        claim = Claim(ACCUSE, (good_target,), MILD)
    elif move == "vouch" and good_target is not None:
        claim = Claim(DEFEND, (good_target,), MILD)
    elif move == "befriend" and evil_target is not None:
        claim = Claim(DEFEND, (evil_target,), MILD)
    text = render_neutral(rng) if claim is None else render_claim(claim, rng)
    return f"say[{text}]"


def team(view: View, avoid: set[int], rng: np.random.Generator, include: int | None = None) -> tuple[int, ...]:
    """Me, then `include`, then players not in `avoid` (random order), then the rest."""
    mine = seats.me(view)
    size = int(view["team_size"])
    members = [mine]
    if include is not None and include != mine:
        members.append(include)
    rest = [s for s in range(N_PLAYERS) if s not in members]
    order = [rest[int(i)] for i in rng.permutation(len(rest))]
    members += sorted(order, key=lambda s: s in avoid)[: size - len(members)]
    return tuple(sorted(members[:size]))


def _propose(view: View, move: str | None, target: int | None, rng: np.random.Generator) -> str:
    against = set(seats.suspects(view))
    if view.get("side") == "evil":  # me plus good players: one fail card is enough
        members = team(view, avoid=seats.evil_side(view) - {seats.me(view)}, rng=rng)
    elif move == "include_evil":
        include = target if target is not None else pick(sorted(against), rng)
        members = team(view, avoid=set(), rng=rng, include=include)
    elif move == "public_team":
        members = team(view, avoid=set(seats.public_blame(view)), rng=rng)
    else:
        members = team(view, avoid=against, rng=rng)
    return "propose[" + ",".join(str(s + 1) for s in members) + "]"


def _vote(view: View, move: str | None) -> str:
    if move == "approve":
        return "vote[approve]"
    if move == "reject":
        return "vote[reject]"
    # an unrecognised thought: vote by what this seat believes
    if view.get("side") == "evil":
        evil = seats.evil_side(view)
        return "vote[approve]" if {s - 1 for s in view.get("proposed_team", [])} & evil else "vote[reject]"
    return "vote[reject]" if seats.team_has_suspect(view) else "vote[approve]"
