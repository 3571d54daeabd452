"""Embedding layer without a model: hashing embedder, deduplicating cache, config errors."""

from __future__ import annotations

import multiprocessing as mp

import numpy as np
import pytest

from pnlc.embed import (
    BUNDLED_MODEL,
    CachedEmbedder,
    EmbedConfig,
    EmbedConfigError,
    Embedder,
    EmbeddingCache,
    HashingEmbedder,
    TransformerEmbedder,
    make_embedder,
    text_key,
)
from pnlc.embed.transformer import length_buckets, padded_length


class CountingEmbedder:
    """Wraps the hashing embedder and records every text it is asked to embed."""

    def __init__(self, model_id: str = "counting@1") -> None:
        self._h = HashingEmbedder(16, 0)
        self.model_id = model_id
        self.dim = 16
        self.seen: list[str] = []

    def embed(self, texts):
        self.seen.extend(texts)
        return self._h.embed(texts)


def test_hashing_embedder_is_deterministic_unit_length_and_word_sensitive():
    e = HashingEmbedder(64, seed=1)
    assert isinstance(e, Embedder)
    texts = ["the red apple", "the red apple", "a red apple", "quantum chromodynamics", ""]
    v = e.embed(texts)
    assert v.shape == (5, 64) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)
    assert np.array_equal(v[0], v[1])
    assert v[0] @ v[2] > v[0] @ v[3]  # shared words, closer vectors
    assert np.array_equal(HashingEmbedder(64, seed=1).embed(texts), v)
    assert not np.array_equal(HashingEmbedder(64, seed=2).embed(texts[:1]), v[:1])
    assert e.model_id == "hashing@d64-s1"


def test_in_call_deduplication_without_disk_cache():
    inner = CountingEmbedder()
    e = CachedEmbedder(inner, None)
    texts = ["a b", "c d", "a b", "a b", "e"]
    v = e.embed(texts)
    assert inner.seen == ["a b", "c d", "e"]
    assert np.array_equal(v, inner._h.embed(texts))
    assert (e.hits, e.misses) == (0, 3)
    assert e.embed([]).shape == (0, 16)


def test_disk_cache_embeds_each_text_once_across_runs(tmp_path):
    first = CountingEmbedder()
    v1 = CachedEmbedder(first, tmp_path).embed(["x y", "z", "x y"])
    second = CountingEmbedder()
    e2 = CachedEmbedder(second, tmp_path)
    v2 = e2.embed(["z", "x y", "new text"])
    assert first.seen == ["x y", "z"] and second.seen == ["new text"]
    assert np.array_equal(v2[0], v1[1]) and np.array_equal(v2[1], v1[0])
    assert (e2.hits, e2.misses) == (2, 1)
    assert EmbeddingCache(tmp_path).count() == 3


def test_cache_is_keyed_by_model_id(tmp_path):
    CachedEmbedder(CountingEmbedder("enc@aaa"), tmp_path).embed(["same text"])
    other = CountingEmbedder("enc@bbb")
    CachedEmbedder(other, tmp_path).embed(["same text"])
    assert other.seen == ["same text"]  # a different encoder never reuses another's vectors
    assert text_key("enc@aaa", "t") != text_key("enc@bbb", "t")
    assert EmbeddingCache(tmp_path).count("enc@aaa") == 1


def _cache_writer(args):
    cache_dir, worker = args
    texts = [f"sentence {i}" for i in range(worker * 30, worker * 30 + 60)]  # overlaps the next worker
    CachedEmbedder(CountingEmbedder(), cache_dir).embed(texts)
    return len(texts)


def test_concurrent_processes_share_one_cache(tmp_path):
    with mp.get_context("fork").Pool(4) as pool:
        pool.map(_cache_writer, [(str(tmp_path), w) for w in range(4)])
    cache = EmbeddingCache(tmp_path)
    assert cache.count() == 4 * 30 + 30  # sentences 0..149, each once
    inner = CountingEmbedder()
    v = CachedEmbedder(inner, tmp_path).embed([f"sentence {i}" for i in range(150)])
    assert inner.seen == []
    assert np.array_equal(v, HashingEmbedder(16, 0).embed([f"sentence {i}" for i in range(150)]))


def test_missing_model_path_is_a_clear_error(tmp_path):
    with pytest.raises(EmbedConfigError, match="no such folder"):
        make_embedder(EmbedConfig(str(tmp_path / "missing"), 32, 128, 16, "float32", None, "auto"))
    (tmp_path / "enc").mkdir()
    with pytest.raises(EmbedConfigError, match="config.json"):
        TransformerEmbedder(str(tmp_path / "enc"), 32, 128, 16, "float32", "auto")
    with pytest.raises(EmbedConfigError, match="embed.device"):
        TransformerEmbedder(BUNDLED_MODEL, 32, 128, 16, "float32", "tpu")
    with pytest.raises(EmbedConfigError, match="embed.precision"):
        TransformerEmbedder(BUNDLED_MODEL, 32, 128, 16, "float16", "cpu")
    with pytest.raises(EmbedConfigError, match="embed.pad_multiple"):
        TransformerEmbedder(BUNDLED_MODEL, 32, 128, 0, "float32", "cpu")


def test_bundled_encoder_identity_without_loading(tmp_path):
    e = make_embedder(EmbedConfig(BUNDLED_MODEL, 32, 128, 16, "bfloat16", str(tmp_path), "cpu"))
    assert e.dim == 384
    name, rest = e.model_id.split("@")
    digest, settings = rest.split("/")
    assert name == BUNDLED_MODEL and len(digest) == 12
    assert e.inner._net is None  # identity and size known before any weights are loaded
    # every setting that changes a vector's bytes changes the identity (and so the cache key)
    others = [
        EmbedConfig(BUNDLED_MODEL, 16, 128, 16, "bfloat16", None, "cpu"),
        EmbedConfig(BUNDLED_MODEL, 32, 64, 16, "bfloat16", None, "cpu"),
        EmbedConfig(BUNDLED_MODEL, 32, 128, 8, "bfloat16", None, "cpu"),
        EmbedConfig(BUNDLED_MODEL, 32, 128, 16, "float32", None, "cpu"),
    ]
    ids = {make_embedder(c).model_id for c in others}
    assert len(ids) == len(others) and e.model_id not in ids
    assert make_embedder(EmbedConfig(BUNDLED_MODEL, 32, 128, 16, "bfloat16", None, "cuda")).model_id == e.model_id


def test_length_buckets_group_by_padded_length_in_fixed_chunks():
    lengths = [3, 17, 16, 40, 2, 300, 15, 1]
    passes = length_buckets(lengths, batch_size=2, multiple=16, max_length=256)
    assert passes == [(256, [5]), (48, [3]), (32, [1]), (16, [0, 2]), (16, [4, 6]), (16, [7])]
    assert sorted(i for _, rows in passes for i in rows) == list(range(len(lengths)))
    assert [padded_length(n, 16, 256) for n in (1, 16, 17, 255, 256, 999)] == [16, 16, 32, 256, 256, 256]
