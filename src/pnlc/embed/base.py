"""The Embedder protocol: texts in, L2-normalised float32 rows out."""

from __future__ import annotations

from typing import Protocol, Sequence, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    model_id: str  # identifies the encoder and every setting that changes its vectors; stored with every critic checkpoint
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Array of shape (len(texts), dim), float32, rows of unit length."""
