"""A deterministic hashing-trick embedder — for unit tests only, never for real results.

Words and word bigrams are hashed (keyed by the seed) into `dim` signed buckets and the vector is
L2-normalised, so texts that share words get similar vectors. It needs no model and is instant,
which makes tests of the critic and the annotation pipeline fast; it carries no meaning beyond
word overlap.
"""

from __future__ import annotations

import hashlib
import re
from typing import Sequence

import numpy as np

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    """`Embedder` by the hashing trick (unit tests only). Same (dim, seed, text) -> same row."""

    def __init__(self, dim: int, seed: int) -> None:
        if dim < 2:
            raise ValueError(f"HashingEmbedder dim must be >= 2, got {dim}")
        self.dim = dim
        self.seed = seed
        self.model_id = f"hashing@d{dim}-s{seed}"
        self._key = seed.to_bytes(8, "little", signed=True)

    def _features(self, text: str) -> list[str]:
        words = _WORD.findall(text.lower())
        feats = words + [f"{a} {b}" for a, b in zip(words, words[1:])]
        return feats or ["\0empty"]

    def _vector(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float64)
        for feat in self._features(text):
            h = int.from_bytes(hashlib.blake2b(feat.encode("utf-8"), digest_size=8, key=self._key).digest(), "little")
            v[h % self.dim] += 1.0 if (h >> 63) & 1 else -1.0
        norm = np.linalg.norm(v)
        if norm == 0.0:  # features cancelled out: fall back to one fixed bucket
            v[hash_bucket(text, self.dim, self._key)] = 1.0
            norm = 1.0
        return (v / norm).astype(np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            out[i] = self._vector(text)
        return out


def hash_bucket(text: str, dim: int, key: bytes) -> int:
    digest = hashlib.blake2b(b"\1" + text.encode("utf-8"), digest_size=8, key=key).digest()
    return int.from_bytes(digest, "little") % dim
