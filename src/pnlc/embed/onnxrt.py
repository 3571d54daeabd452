"""The encoder's forward pass through ONNX Runtime (`embed.runtime: onnxruntime`).

On the first call the transformers encoder is exported to an ONNX graph in memory (torch's
TorchScript exporter, opset 17, batch and length dynamic, traced on a padded batch so that the
attention mask stays in the graph) and run by ONNX Runtime's CPU provider in float32 with all graph
optimisations, on as many threads as torch has. Tokenisation, padded shapes and mean pooling are
`TransformerEmbedder`'s, so a text's vector still depends only on the text and the settings in
`model_id`. The rows are within about 1e-6 of the torch float32 path; a one-row pass, which is what a
PNLC decision makes, costs a fraction of torch's (benchmarks/bench_critic.py prints both).

Needs the packages onnxruntime and onnx: pip install -e ".[onnx]".
"""

from __future__ import annotations

import io
import warnings
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from pnlc.embed.transformer import EmbedConfigError, TransformerEmbedder, runtime_fingerprint

ONNX_OPSET = 17


PACKAGES = ("onnxruntime", "onnx")


def _versions() -> dict[str, str | None]:
    """Each package's installed version, None where it is missing."""
    found: dict[str, str | None] = {}
    for package in PACKAGES:
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = None
    return found


def onnx_fingerprint() -> str:
    """The onnxruntime and onnx versions (they change a vector's last bits)."""
    return "-".join(f"{package}={v or 'none'}" for package, v in _versions().items())


def _require_packages() -> None:
    missing = [package for package, v in _versions().items() if v is None]
    if missing:
        raise EmbedConfigError(
            f"embed.runtime: 'onnxruntime' needs the package(s) {', '.join(missing)}: "
            "pip install -e '.[onnx]' (or set embed.runtime: torch)"
        )


def export_session(net: Any, tokenizer: Any, threads: int) -> Any:
    """An ONNX Runtime session computing `net`'s last hidden states from (ids, mask)."""
    import onnxruntime as ort
    import torch

    class Hidden(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, ids: Any, mask: Any) -> Any:
            return self.inner(input_ids=ids, attention_mask=mask).last_hidden_state

    # a padded example: the second row's mask has zeros, so masking is traced rather than skipped
    long, short = tokenizer(["an example sentence to trace", ""])["input_ids"]
    pad = [tokenizer.pad_token_id] * (len(long) - len(short))
    ids = torch.tensor([long, short + pad], dtype=torch.long)
    mask = torch.tensor([[1] * len(long), [1] * len(short) + [0] * len(pad)], dtype=torch.long)
    buf = io.BytesIO()
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Hidden(net).eval(), (ids, mask), buf, input_names=["ids", "mask"], output_names=["hidden"],
            dynamic_axes={"ids": {0: "batch", 1: "length"}, "mask": {0: "batch", 1: "length"},
                          "hidden": {0: "batch", 1: "length"}},
            opset_version=ONNX_OPSET, dynamo=False,
        )
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(1, threads)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3
    return ort.InferenceSession(buf.getvalue(), options, providers=["CPUExecutionProvider"])


class OnnxTransformerEmbedder(TransformerEmbedder):
    """`TransformerEmbedder` whose forward pass runs in ONNX Runtime (float32, CPU)."""

    def __init__(
        self, model: str, batch_size: int, max_length: int, pad_multiple: int, precision: str, device: str
    ) -> None:
        if precision != "float32":
            raise EmbedConfigError(
                f"embed.precision: {precision!r} with embed.runtime 'onnxruntime'; that runtime runs the encoder "
                "in float32: set embed.precision: float32 (or embed.runtime: torch)"
            )
        if device == "cuda":
            raise EmbedConfigError(
                "embed.device: 'cuda' with embed.runtime 'onnxruntime', which runs on the CPU here; "
                "set embed.device: cpu (or embed.runtime: torch)"
            )
        super().__init__(model, batch_size, max_length, pad_multiple, precision, "cpu")
        _require_packages()
        self.model_id = f"{self.model_id}-onnxruntime"
        self.cache_id = f"{self.model_id}|{runtime_fingerprint()}|{onnx_fingerprint()}"
        self._session: Any = None

    def load(self) -> None:
        """Load tokenizer and encoder, then export the encoder to ONNX Runtime (done on the first call)."""
        super().load()
        with self._lock:
            if self._session is None:
                import torch

                self._session = export_session(self._net, self._tok, torch.get_num_threads())

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> Any:
        import torch

        return torch.from_numpy(self._session.run(["hidden"], {"ids": ids, "mask": mask})[0])
