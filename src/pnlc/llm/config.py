"""The `llm` section of params.yaml: which backend plays the LLM roles and how responses are cached."""

from __future__ import annotations

from dataclasses import dataclass

from pnlc.llm.anthropic_backend import AnthropicConfig
from pnlc.llm.base import LLMConfigError
from pnlc.llm.cache import CACHE_MODES
from pnlc.llm.hf_backend import HFConfig

__all__ = ["AnthropicConfig", "HFConfig", "LLMConfig"]


@dataclass(frozen=True)
class LLMConfig:
    """Which LLM plays the roles, and how its responses are cached.

    backend: "anthropic" or "hf" ("sim" runs no LLM at all and has no LLM to build).
    anthropic / hf: the chosen backend's settings (the other may be None).
    cache_mode: "record" (reuse stored responses, store new ones), "replay" (stored responses only;
        a miss is an error) or "off".
    cache_dir: folder of the response cache (one JSON file per request).
    """

    backend: str
    anthropic: AnthropicConfig | None
    hf: HFConfig | None
    cache_mode: str
    cache_dir: str

    def __post_init__(self) -> None:
        if self.cache_mode not in CACHE_MODES:
            raise LLMConfigError(f"llm.cache_mode: {self.cache_mode!r} is not one of {', '.join(CACHE_MODES)}")
