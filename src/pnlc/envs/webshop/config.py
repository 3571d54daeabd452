"""WebShop configuration: every knob is a field the caller passes."""

from __future__ import annotations

from dataclasses import dataclass

from pnlc.envs.base import EnvError


@dataclass(frozen=True)
class WebShopConfig:
    """What catalogue to shop in and how tasks are drawn from it.

    catalogue: "generated" (the embedded, deterministic WebShop-style catalogue) or a folder holding
        the original files products_1000.json, items_ins_v2_1000.json and (optionally)
        items_human_ins_1000_subset.json.
    n_generated_products: size of the generated catalogue (ignored for a folder); 1000 = the 1k setting.
    n_test_goals: goals with the lowest indices form the test split (the paper: 100).
    max_steps: actions per episode before it ends without a purchase (ReAct / LATS: 15).
    seed: seeds goal sampling (which option combinations, price ceilings, goal order).
    max_goals_per_product: option combinations kept per product (one goal each); more are sampled down.
    human_instructions: use human-written instructions for products that have them.
    bm25_k1, bm25_b: BM25 parameters (Lucene / pyserini defaults: 0.9, 0.4).
    """

    catalogue: str
    n_generated_products: int
    n_test_goals: int
    max_steps: int
    seed: int
    max_goals_per_product: int
    human_instructions: bool
    bm25_k1: float
    bm25_b: float

    def __post_init__(self) -> None:
        checks = [
            ("catalogue", bool(str(self.catalogue).strip()), "a folder path or 'generated'"),
            ("n_generated_products", self.n_generated_products >= 8, "an integer >= 8"),
            ("n_test_goals", self.n_test_goals >= 1, "an integer >= 1"),
            ("max_steps", self.max_steps >= 2, "an integer >= 2"),
            ("max_goals_per_product", self.max_goals_per_product >= 1, "an integer >= 1"),
            ("bm25_k1", self.bm25_k1 > 0, "a positive number"),
            ("bm25_b", 0 <= self.bm25_b <= 1, "a number in [0, 1]"),
        ]
        for key, ok, need in checks:
            if not ok:
                raise EnvError(f"WebShopConfig.{key}={getattr(self, key)!r}: must be {need}")
