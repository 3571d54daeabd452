"""Build the configured embedder."""

from __future__ import annotations

from pnlc.embed.cache import CachedEmbedder
from pnlc.embed.config import EmbedConfig
from pnlc.embed.transformer import TransformerEmbedder


def make_embedder(cfg: EmbedConfig) -> CachedEmbedder:
    """A `CachedEmbedder` over the transformers encoder named by `cfg.model`."""
    encoder = TransformerEmbedder(
        cfg.model, cfg.batch_size, cfg.max_length, cfg.pad_multiple, cfg.precision, cfg.device
    )
    return CachedEmbedder(encoder, cfg.cache_dir)
