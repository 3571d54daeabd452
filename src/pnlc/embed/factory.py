"""Build the configured embedder."""

from __future__ import annotations

from pnlc.embed.cache import CachedEmbedder
from pnlc.embed.config import EmbedConfig
from pnlc.embed.lexical import LexicalEmbedder
from pnlc.embed.transformer import EmbedConfigError, TransformerEmbedder

RUNTIMES = ("torch", "onnxruntime")


def make_embedder(cfg: EmbedConfig) -> CachedEmbedder | LexicalEmbedder:
    """A `CachedEmbedder` over the transformers encoder named by `cfg.model`; with
    `cfg.lexical_features` > 0, its vectors joined with the texts' hashed word n-grams."""
    if cfg.runtime not in RUNTIMES:
        raise EmbedConfigError(f"embed.runtime: {cfg.runtime!r} is not one of {', '.join(RUNTIMES)}")
    encoder_type = TransformerEmbedder
    if cfg.runtime == "onnxruntime":
        from pnlc.embed.onnxrt import OnnxTransformerEmbedder as encoder_type
    encoder = encoder_type(cfg.model, cfg.batch_size, cfg.max_length, cfg.pad_multiple, cfg.precision, cfg.device)
    cached = CachedEmbedder(encoder, cfg.cache_dir)
    if cfg.lexical_features == 0:
        return cached
    return LexicalEmbedder(cached, cfg.lexical_features, cfg.lexical_weight)
