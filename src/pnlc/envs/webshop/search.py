"""BM25 product search over the original document recipe, without Java.

Deviation from the original: the original searches a pyserini/Lucene index (Lucene's English
analyzer: StandardTokenizer, Porter stemming, Lucene's 33 English stop words, BM25 k1 = 0.9,
b = 0.4). Here the same documents (lower-cased title, description, first bullet point and an
"option: values" string) are indexed in memory with `bm25s` (Lucene's BM25 variant, the same 33
stop words, PyStemmer's Snowball English stemmer and bm25s's regex tokenizer). Scores and
therefore the order of near-ties can differ from Lucene's; documents with no query term are not
returned, and ties are broken by catalogue order, so results are deterministic.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

SEARCH_RETURN_N = 50


class SearchIndex:
    """An immutable BM25 index; `search(query)` returns up to 50 document positions, best first."""

    def __init__(self, documents: Sequence[str], k1: float, b: float):
        import bm25s
        import Stemmer

        self._tokenizer = bm25s.tokenization.Tokenizer(
            stemmer=Stemmer.Stemmer("english"), stopwords="en", lower=True
        )
        corpus = self._tokenizer.tokenize(list(documents), return_as="tuple", show_progress=False)
        self._bm25 = bm25s.BM25(k1=k1, b=b, method="lucene")
        self._bm25.index(corpus, show_progress=False)
        self._vocab = self._bm25.vocab_dict
        self.n_documents = len(documents)

    def query_tokens(self, query: str) -> list[str]:
        toks = self._tokenizer.tokenize([query], update_vocab=False, return_as="string", show_progress=False)[0]
        return [t for t in toks if t and t in self._vocab]

    def search(self, query: str, k: int = SEARCH_RETURN_N) -> list[int]:
        tokens = self.query_tokens(query)
        if not tokens:
            return []
        scores = np.asarray(self._bm25.get_scores(tokens))
        hits = np.flatnonzero(scores > 0)
        if hits.size == 0:
            return []
        order = np.lexsort((hits, -scores[hits]))  # score desc, then catalogue order
        return [int(i) for i in hits[order][:k]]
