"""The real bundled encoder (all-MiniLM-L6-v2): pooling, normalisation, batching, truncation."""

from __future__ import annotations

import numpy as np
import pytest

from pnlc.embed import BUNDLED_MODEL, EmbedConfig, TransformerEmbedder, bundled_model_path, make_embedder

pytestmark = pytest.mark.slow

TEXTS = [
    "A kitten is sleeping on the sofa.",
    "The cat naps on the couch.",
    "Interest rates rose sharply at the central bank meeting.",
    "Buy the blue running shoes in size ten under fifty dollars.",
    "",
]


@pytest.fixture(scope="module")
def encoder() -> TransformerEmbedder:
    e = TransformerEmbedder(BUNDLED_MODEL, batch_size=2, max_length=128, pad_multiple=16, precision="float32", device="auto")
    e.load()
    return e


def test_rows_are_unit_384d_and_meaningful(encoder):
    v = encoder.embed(TEXTS)
    assert v.shape == (5, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    sim = v @ v.T
    assert sim[0, 1] > 0.5 and sim[0, 1] > sim[0, 2] + 0.3


def share_weights(src: TransformerEmbedder, dst: TransformerEmbedder) -> TransformerEmbedder:
    dst._tok, dst._net, dst._filler, dst.device = src._tok, src._net, src._filler, src.device
    return dst


def test_batch_shape_and_order_change_rows_by_float_noise_only(encoder):
    v = encoder.embed(TEXTS)
    wide = share_weights(encoder, TransformerEmbedder(BUNDLED_MODEL, 64, 128, 8, "float32", "auto"))
    assert wide.model_id != encoder.model_id  # another padded shape is another encoder identity
    assert np.allclose(wide.embed(TEXTS[::-1])[::-1], v, atol=1e-5)


def test_matches_sentence_transformers_reference(encoder):
    st = pytest.importorskip("sentence_transformers")
    ref = st.SentenceTransformer(str(bundled_model_path()), device="cpu", local_files_only=True)
    expected = ref.encode(TEXTS[:4], normalize_embeddings=True)
    assert np.allclose(encoder.embed(TEXTS[:4]), expected, atol=1e-5)


def test_max_length_truncates(encoder):
    long = "word " * 200 + "a totally different ending about finance and banking"
    short = share_weights(encoder, TransformerEmbedder(BUNDLED_MODEL, 2, 16, 16, "float32", "auto"))
    head = "word " * 14
    assert np.allclose(short.embed([long]), short.embed([head]), atol=1e-5)
    assert not np.allclose(encoder.embed([long]), short.embed([long]), atol=1e-3)


def test_cached_factory_embedder_matches_the_encoder(encoder, tmp_path):
    e = make_embedder(EmbedConfig(BUNDLED_MODEL, 2, 128, 16, "float32", str(tmp_path), "auto"))
    share_weights(encoder, e.inner)
    v = e.embed(TEXTS + TEXTS[:2])
    assert np.array_equal(v[:5], encoder.embed(TEXTS)) and np.array_equal(v[5:], v[:2])
    assert e.misses == 5


def test_the_cache_keys_by_code_torch_and_cpu_kernels_so_a_change_never_serves_stale_vectors(monkeypatch, tmp_path):
    from pnlc.embed import CachedEmbedder

    capped = TransformerEmbedder(BUNDLED_MODEL, 4, 64, 8, "float32", "cpu")
    assert capped.cache_id.startswith(capped.model_id + "|code=")
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX2")
    other = TransformerEmbedder(BUNDLED_MODEL, 4, 64, 8, "float32", "cpu")
    monkeypatch.undo()
    assert other.model_id == capped.model_id  # the same encoder for a critic checkpoint
    assert other.cache_id != capped.cache_id  # but not the same cached bytes
    cached = CachedEmbedder(capped, tmp_path)
    cached.inner.embed = lambda texts: np.ones((len(texts), capped.dim), dtype=np.float32)
    cached.embed(["a text"])
    again = CachedEmbedder(other, tmp_path)
    again.inner.embed = lambda texts: np.zeros((len(texts), other.dim), dtype=np.float32)
    assert again.embed(["a text"])[0, 0] == 0.0 and (again.hits, again.misses) == (0, 1)
    back = CachedEmbedder(TransformerEmbedder(BUNDLED_MODEL, 4, 64, 8, "float32", "cpu"), tmp_path)
    assert back.embed(["a text"])[0, 0] == 1.0 and back.hits == 1  # each runtime finds its own vectors
