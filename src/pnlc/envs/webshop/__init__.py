"""WebShop without Java: the original pages, action grammar and reward, on the original 1k-product
catalogue (loaded from a configured folder) or a generated WebShop-style default catalogue.

    cfg = WebShopConfig(catalogue="generated", n_generated_products=1000, n_test_goals=100,
                        max_steps=15, seed=0, max_goals_per_product=10, human_instructions=True,
                        bm25_k1=0.9, bm25_b=0.4)
    env = make_env(cfg)
    obs = env.reset(env.tasks("test")[0], seed=0)
    tr = env.step("search[teal watch band]")
"""

from pnlc.envs.webshop.catalogue import Goal, Product
from pnlc.envs.webshop.config import WebShopConfig
from pnlc.envs.webshop.env import (
    BACK_TO_SEARCH,
    BUY_NOW,
    GOAL_OUTCOMES,
    INVALID,
    NEGATIVE_OUTCOMES,
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
    Catalogue,
    WebShopEnv,
    load_catalogue,
)
from pnlc.envs.webshop.reward import RewardBreakdown, compute_reward


def make_env(cfg: WebShopConfig) -> WebShopEnv:
    """A fresh environment; the catalogue and search index are built once per process and shared."""
    return WebShopEnv(cfg)


def task_goal(cfg: WebShopConfig, task_id: str) -> Goal:
    """PRIVILEGED: the hidden goal of a task (for the oracle and for tests, never for agents)."""
    return load_catalogue(cfg).goal(task_id)


__all__ = [
    "BACK_TO_SEARCH", "BUY_NOW", "Catalogue", "GOAL_OUTCOMES", "Goal", "INVALID", "NEGATIVE_OUTCOMES",
    "NEXT_PAGE", "OUTCOME_ATTRIBUTES", "OUTCOME_MISSING_ATTRIBUTES", "OUTCOME_MISSING_OPTIONS",
    "OUTCOME_NO_PURCHASE", "OUTCOME_OPTIONS", "OUTCOME_OVER_PRICE", "OUTCOME_PRICE", "OUTCOME_SUCCESS",
    "OUTCOME_TYPE", "OUTCOME_WRONG_TYPE", "POSITIVE_OUTCOMES", "PREV_PAGE", "Product",
    "RewardBreakdown", "WebShopConfig", "WebShopEnv", "compute_reward", "load_catalogue", "make_env",
    "task_goal",
]
