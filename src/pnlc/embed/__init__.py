"""Sentence embeddings: the `Embedder` protocol, the transformers encoder, caches, a test embedder.

torch and transformers are imported only when an encoder first embeds.
"""

from pnlc.embed.base import Embedder
from pnlc.embed.cache import CachedEmbedder, EmbeddingCache, text_key
from pnlc.embed.config import EmbedConfig
from pnlc.embed.factory import make_embedder
from pnlc.embed.hashing import HashingEmbedder
from pnlc.embed.lexical import LexicalEmbedder
from pnlc.embed.transformer import (
    BUNDLED_MODEL,
    EmbedConfigError,
    TransformerEmbedder,
    bundled_model_path,
    weights_hash,
)

__all__ = [
    "BUNDLED_MODEL",
    "CachedEmbedder",
    "EmbedConfig",
    "EmbedConfigError",
    "Embedder",
    "EmbeddingCache",
    "HashingEmbedder",
    "LexicalEmbedder",
    "TransformerEmbedder",
    "bundled_model_path",
    "make_embedder",
    "text_key",
    "weights_hash",
]
