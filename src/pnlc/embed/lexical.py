"""Words next to the sentence vector: an encoder's embedding joined with hashed word n-grams.

A mean-pooled sentence encoder keeps the gist of a text and little of its single words: two Avalon
summaries that differ only in "Quest 2 failed" / "Quest 2 succeeded", or two dialogue turns that
differ in one refusal, get nearly the same vector. A bag of words keeps exactly that. With
`embed.lexical_features: H > 0` every text's row is

    [e(text) ; w * h(text)] / ||[e(text) ; w * h(text)]||

where e is the encoder's unit vector and h the text's word unigrams and bigrams (lower-cased),
hashed by scikit-learn's `HashingVectorizer` (MurmurHash3, signed) into H buckets and scaled to unit
length; w is `embed.lexical_weight`. Both parts depend on the text alone (no fitted vocabulary, so
nothing leaks from training data into the representation, and a text's row never depends on its
company), and the result is unit length like every `Embedder` row. The encoder part still goes
through the on-disk cache; the hashed part takes microseconds and is computed every time.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np

NGRAMS = (1, 2)


class LexicalEmbedder:
    """`Embedder` joining `inner`'s vectors with `features` hashed word n-gram buckets."""

    def __init__(self, inner: Any, features: int, weight: float) -> None:
        from pnlc.embed.transformer import EmbedConfigError

        if int(features) != features or features < 1:
            raise EmbedConfigError(f"embed.lexical_features: {features!r} must be a positive whole number "
                                   "(0 turns the hashed words off)")
        if not weight > 0:
            raise EmbedConfigError(f"embed.lexical_weight: {weight!r} must be > 0")
        self.inner = inner
        self.features = int(features)
        self.weight = float(weight)
        self.dim = int(inner.dim) + self.features
        self.model_id = f"{inner.model_id}+words{NGRAMS[0]}-{NGRAMS[1]}@h{self.features}w{self.weight:g}"
        self._vectorizer: Any = None

    def words(self, texts: Sequence[str]) -> np.ndarray:
        """The hashed n-gram part alone: float32 [len(texts), features], rows of unit length (zero
        for a text without words)."""
        if self._vectorizer is None:
            from sklearn.feature_extraction.text import HashingVectorizer

            self._vectorizer = HashingVectorizer(n_features=self.features, ngram_range=NGRAMS, lowercase=True,
                                                 alternate_sign=True, norm="l2", dtype=np.float64)
        return self._vectorizer.transform(list(texts)).toarray().astype(np.float32)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        dense = np.asarray(self.inner.embed(texts), dtype=np.float64)
        rows = np.concatenate([dense, self.weight * self.words(texts).astype(np.float64)], axis=1)
        rows /= np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
        return rows.astype(np.float32)
