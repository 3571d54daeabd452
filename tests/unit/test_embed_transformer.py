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
    e = TransformerEmbedder(BUNDLED_MODEL, batch_size=2, max_length=128, device="auto")
    e.load()
    return e


def test_rows_are_unit_384d_and_meaningful(encoder):
    v = encoder.embed(TEXTS)
    assert v.shape == (5, 384) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    sim = v @ v.T
    assert sim[0, 1] > 0.5 and sim[0, 1] > sim[0, 2] + 0.3


def test_batching_and_order_do_not_change_rows(encoder):
    v = encoder.embed(TEXTS)
    one_batch = TransformerEmbedder(BUNDLED_MODEL, batch_size=64, max_length=128, device="auto")
    one_batch._tok, one_batch._net, one_batch.device = encoder._tok, encoder._net, encoder.device
    assert np.allclose(one_batch.embed(TEXTS[::-1])[::-1], v, atol=1e-5)


def test_matches_sentence_transformers_reference(encoder):
    st = pytest.importorskip("sentence_transformers")
    ref = st.SentenceTransformer(str(bundled_model_path()), device="cpu", local_files_only=True)
    expected = ref.encode(TEXTS[:4], normalize_embeddings=True)
    assert np.allclose(encoder.embed(TEXTS[:4]), expected, atol=1e-5)


def test_max_length_truncates(encoder):
    long = "word " * 200 + "a totally different ending about finance and banking"
    short = TransformerEmbedder(BUNDLED_MODEL, batch_size=2, max_length=16, device="auto")
    short._tok, short._net, short.device = encoder._tok, encoder._net, encoder.device
    head = "word " * 14
    assert np.allclose(short.embed([long]), short.embed([head]), atol=1e-5)
    assert not np.allclose(encoder.embed([long]), short.embed([long]), atol=1e-3)


def test_cached_factory_embedder_matches_the_encoder(encoder, tmp_path):
    e = make_embedder(EmbedConfig(BUNDLED_MODEL, 8, 128, str(tmp_path), "auto"))
    e.inner._tok, e.inner._net, e.inner.device = encoder._tok, encoder._net, encoder.device
    v = e.embed(TEXTS + TEXTS[:2])
    assert np.allclose(v[:5], encoder.embed(TEXTS), atol=1e-5) and np.array_equal(v[5:], v[:2])
    assert e.misses == 5
