"""Shared check of the embedding property: a text's bytes do not depend on its company in a call."""

from __future__ import annotations

from typing import Callable, Sequence

import numpy as np


def assert_bytes_free_of_company(embed: Callable[[list[str]], np.ndarray], texts: Sequence[str],
                                 company: Sequence[str], sizes: Sequence[int], seed: int) -> np.ndarray:
    """Embed each text alone, then among `size` others of `company` in shuffled calls; the rows of
    `texts` must be the same bytes every time. Returns the rows embedded alone."""
    alone = np.stack([embed([t])[0] for t in texts])
    rng = np.random.default_rng(seed)
    for size in sizes:
        others = [company[i] for i in rng.choice(len(company), size=size, replace=False)]
        mixed = others + list(texts)
        order = rng.permutation(len(mixed))
        got = embed([mixed[i] for i in order])
        rows = {mixed[i]: got[k] for k, i in enumerate(order)}
        assert np.stack([rows[t] for t in texts]).tobytes() == alone.tobytes(), f"call of {len(mixed)} texts"
    return alone
