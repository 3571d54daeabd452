"""Build the configured embedder."""

from __future__ import annotations

from pnlc.embed.cache import CachedEmbedder
from pnlc.embed.config import EmbedConfig
from pnlc.embed.transformer import TransformerEmbedder


def make_embedder(cfg: EmbedConfig) -> CachedEmbedder:
    """A `CachedEmbedder` over the transformers encoder named by `cfg.model`."""
    encoder = TransformerEmbedder(cfg.model, batch_size=cfg.batch_size, max_length=cfg.max_length, device=cfg.device)
    return CachedEmbedder(encoder, cfg.cache_dir)
