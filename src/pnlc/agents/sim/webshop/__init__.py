"""Simulated WebShop shoppers behind the `Policy` roles: a fallible prior and a privileged oracle.

    repertoire.py  the moves, their thought texts and the action each thought implies
    reading.py     how a shopper reads the instruction and the page (public text only)
    shopper.py     the roles every shopper plays alike (act, goals, estimates, lessons)
    player.py      the fallible shopper: propose and revise draw from one repertoire, one competence
    oracle.py      the PRIVILEGED oracle (reads the hidden goal; an upper reference only)
    params.py      the knobs (params.yaml `agents.sim.webshop`)
"""

from __future__ import annotations

from pnlc.agents.sim.webshop.oracle import WebShopOracle
from pnlc.agents.sim.webshop.params import WebShopSimParams
from pnlc.agents.sim.webshop.player import ADDRESSES, WebShopPlayer
from pnlc.agents.sim.webshop.reading import Request, overlap, parse_instruction
from pnlc.agents.sim.webshop.repertoire import MOVES, PAGE_MOVES, TEMPLATES, action_for, move_of
from pnlc.agents.sim.webshop.shopper import (
    LESSON_NO_PURCHASE,
    LESSON_OPTIONS,
    LESSON_PRICE,
    LESSON_PRODUCT,
    LESSON_SUCCESS,
    Shopper,
)
from pnlc.envs.webshop import WebShopConfig

PARAMS_TYPE = WebShopSimParams  # built from params.yaml agents.sim.webshop


def make_sim_policy(cfg: WebShopConfig, kind: str, params: WebShopSimParams) -> Shopper:
    """The simulated shopper: kind "prior" (the fallible player) or "oracle" (PRIVILEGED: reads the
    hidden goal; an upper reference only)."""
    if kind == "prior":
        return WebShopPlayer(cfg, params)
    if kind == "oracle":
        return WebShopOracle(cfg, params)
    raise ValueError(f"unknown simulated webshop policy kind {kind!r}; use 'prior' or 'oracle'")


__all__ = [
    "ADDRESSES", "LESSON_NO_PURCHASE", "LESSON_OPTIONS", "LESSON_PRICE", "LESSON_PRODUCT", "LESSON_SUCCESS",
    "MOVES", "PAGE_MOVES", "PARAMS_TYPE", "Request", "TEMPLATES", "WebShopOracle", "WebShopPlayer",
    "WebShopSimParams", "action_for", "make_sim_policy", "move_of", "overlap", "parse_instruction",
]
