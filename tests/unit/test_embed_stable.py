"""A text's embedding bytes depend on the text and the encoder settings alone: not on the other
texts in its call, their number, the torch thread count, or whether the cache was cold or warm."""

from __future__ import annotations

import numpy as np
import pytest

from embed_company import assert_bytes_free_of_company
from pnlc.embed import BUNDLED_MODEL, EmbedConfig, TransformerEmbedder, make_embedder

pytestmark = pytest.mark.slow

TEXTS = [
    "Vote to reject the team and hint that Player 3 is suspicious.",
    "Approve the team to look agreeable.",
    "word " * 14,  # exactly 16 tokens with [CLS] and [SEP]: fills its padded length
    "Quest 2 failed with one fail card; Players 2 and 4 were on the team. " * 3,  # past max_length 32
    "",
    "hi",
    "Buy the blue running shoes in size ten under fifty dollars, and read the reviews first.",
]
COMPANY = [f"Player {i} proposed a team of {i % 5 + 1} and {i % 3 + 2}; the vote was {i % 2}." * (1 + i % 2) for i in range(16)]


@pytest.fixture(scope="module")
def loaded():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    e = TransformerEmbedder(BUNDLED_MODEL, 4, 32, 8, "float32", "cpu")
    e.load()
    yield e
    torch.set_num_threads(before)


def encoder(loaded: TransformerEmbedder, precision: str, batch_size: int = 0, pad_multiple: int = 0) -> TransformerEmbedder:
    """An encoder with the given precision (and forward shape, 0 = the loaded one's) over the
    already loaded weights."""
    e = TransformerEmbedder(BUNDLED_MODEL, batch_size or loaded.batch_size, loaded.max_length,
                            pad_multiple or loaded.pad_multiple, precision, "cpu")
    e._tok, e._net, e._filler, e.device = loaded._tok, loaded._net, loaded._filler, loaded.device
    return e


@pytest.mark.parametrize("shape", [(4, 8), (1, 1)], ids=["rows4-pad8", "rows1-pad1"])
@pytest.mark.parametrize("precision", ["float32", "bfloat16"])
def test_bytes_do_not_depend_on_company_or_call_size(loaded, precision, shape):
    e = encoder(loaded, precision, *shape)
    alone = assert_bytes_free_of_company(e.embed, TEXTS, COMPANY, sizes=(1, 6, 13), seed=0)
    assert e.embed(TEXTS[::-1])[::-1].tobytes() == alone.tobytes()


def test_bytes_do_not_depend_on_thread_count(loaded):
    import torch

    before = torch.get_num_threads()
    e = encoder(loaded, "bfloat16")
    try:
        torch.set_num_threads(1)
        one = e.embed(TEXTS + COMPANY[:5])
        torch.set_num_threads(2)
        two = e.embed(TEXTS + COMPANY[:5])
    finally:
        torch.set_num_threads(before)
    assert one.tobytes() == two.tobytes()


def test_cold_and_warm_cache_give_the_same_bytes(loaded, tmp_path):
    def cached():
        c = make_embedder(EmbedConfig(BUNDLED_MODEL, 4, 32, 8, "bfloat16", str(tmp_path), "cpu"))
        c.inner._tok, c.inner._net, c.inner._filler, c.inner.device = loaded._tok, loaded._net, loaded._filler, "cpu"
        return c

    cold = cached()
    first = cold.embed(COMPANY[:6] + TEXTS[:4])  # the cache learns TEXTS[:4] in this company
    warm = cached()
    second = warm.embed(TEXTS)  # TEXTS[:4] from the cache, the rest encoded in other company
    assert (warm.hits, warm.misses) == (4, len(TEXTS) - 4)
    assert second[:4].tobytes() == first[6:].tobytes()
    assert second.tobytes() == encoder(loaded, "bfloat16").embed(TEXTS).tobytes()


def test_bfloat16_stays_close_to_float32(loaded):
    full = encoder(loaded, "float32").embed(TEXTS + COMPANY)
    fast = encoder(loaded, "bfloat16").embed(TEXTS + COMPANY)
    assert fast.tobytes() != full.tobytes()  # it is a different computation ...
    assert np.abs(fast - full).max() < 5e-3  # ... within the tolerance the README states
    assert (fast * full).sum(axis=1).min() > 0.9995
