"""The encoder through ONNX Runtime (`embed.runtime: onnxruntime`): rows within 1e-6 of torch's
float32 ones, bytes that depend on the text alone (not its company, call size or the thread count),
an identity of its own, and clear errors for settings it cannot run."""

from __future__ import annotations

import numpy as np
import pytest

from embed_company import assert_bytes_free_of_company
from pnlc.embed import BUNDLED_MODEL, EmbedConfig, EmbedConfigError, TransformerEmbedder, make_embedder

pytestmark = pytest.mark.slow

TEXTS = [
    "Vote to reject the team and hint that Player 3 is suspicious.",
    "word " * 14,
    "Quest 2 failed with one fail card; Players 2 and 4 were on the team. " * 3,  # past max_length 32
    "",
    "Good wins the game.",
    "Buy the blue running shoes in size ten under fifty dollars, and read the reviews first.",
]
COMPANY = [f"The donor asked where the money goes ({i}); the persuader answered with a story." * (1 + i % 2)
           for i in range(9)]


def _onnx(batch_size: int, pad_multiple: int, session_of=None):
    from pnlc.embed.onnxrt import OnnxTransformerEmbedder

    e = OnnxTransformerEmbedder(BUNDLED_MODEL, batch_size, 32, pad_multiple, "float32", "cpu")
    if session_of is not None:
        e._tok, e._net, e._filler, e.device, e._session = (session_of._tok, session_of._net, session_of._filler,
                                                           "cpu", session_of._session)
    return e


@pytest.fixture(scope="module")
def loaded():
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    e = _onnx(4, 8)
    e.load()
    yield e
    torch.set_num_threads(before)


@pytest.mark.parametrize("shape", [(4, 8), (1, 1)], ids=["rows4-pad8", "rows1-pad1"])
def test_rows_match_torch_float32_within_1e_6(loaded, shape):
    e = _onnx(*shape, session_of=loaded)
    torch_path = TransformerEmbedder(BUNDLED_MODEL, shape[0], 32, shape[1], "float32", "cpu")
    torch_path._tok, torch_path._net, torch_path._filler, torch_path.device = loaded._tok, loaded._net, loaded._filler, "cpu"
    got, want = e.embed(TEXTS + COMPANY), torch_path.embed(TEXTS + COMPANY)
    assert got.dtype == np.float32 and got.shape == want.shape == (len(TEXTS) + len(COMPANY), 384)
    assert np.abs(got - want).max() < 1e-6
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 8), (1, 1)], ids=["rows4-pad8", "rows1-pad1"])
def test_bytes_do_not_depend_on_company_or_call_size(loaded, shape):
    e = _onnx(*shape, session_of=loaded)
    alone = assert_bytes_free_of_company(e.embed, TEXTS, COMPANY, sizes=(1, 5, 9), seed=1)
    assert e.embed(TEXTS[::-1])[::-1].tobytes() == alone.tobytes()


def test_bytes_do_not_depend_on_thread_count(loaded):
    import torch

    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        two = _onnx(4, 8)  # its session is built with two threads
        two.load()
    finally:
        torch.set_num_threads(before)
    assert two._session.get_session_options().intra_op_num_threads == 2
    assert loaded._session.get_session_options().intra_op_num_threads == 1
    assert two.embed(TEXTS + COMPANY).tobytes() == loaded.embed(TEXTS + COMPANY).tobytes()


def test_identity_and_cache_key_name_the_runtime(loaded, tmp_path):
    torch_path = TransformerEmbedder(BUNDLED_MODEL, 4, 32, 8, "float32", "cpu")
    assert loaded.model_id == f"{torch_path.model_id}-onnxruntime"
    assert "onnxruntime=" in loaded.cache_id and loaded.cache_id != torch_path.cache_id
    cached = make_embedder(EmbedConfig(BUNDLED_MODEL, 4, 32, 8, "float32", str(tmp_path), "cpu", runtime="onnxruntime"))
    assert cached.model_id == loaded.model_id


@pytest.mark.parametrize("precision, device, runtime, key", [
    ("bfloat16", "cpu", "onnxruntime", "embed.precision"),
    ("float32", "cuda", "onnxruntime", "embed.device"),
    ("float32", "cpu", "tensorrt", "embed.runtime"),
])
def test_settings_it_cannot_run_name_the_key(precision, device, runtime, key):
    with pytest.raises(EmbedConfigError, match=key):
        make_embedder(EmbedConfig(BUNDLED_MODEL, 1, 32, 1, precision, None, device, runtime=runtime))


def test_missing_packages_say_what_to_install(monkeypatch):
    from importlib.metadata import PackageNotFoundError

    import pnlc.embed.onnxrt as onnxrt

    def version(package):
        if package == "onnx":
            raise PackageNotFoundError(package)
        return "1.0"

    monkeypatch.setattr(onnxrt, "version", version)
    with pytest.raises(EmbedConfigError, match=r"needs the package\(s\) onnx: pip install -e '\.\[onnx\]'"):
        onnxrt.OnnxTransformerEmbedder(BUNDLED_MODEL, 1, 32, 1, "float32", "cpu")
