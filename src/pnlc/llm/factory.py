"""Build the configured LLM: a backend wrapped in the response cache."""

from __future__ import annotations

from pathlib import Path

from pnlc.llm.anthropic_backend import AnthropicLLM
from pnlc.llm.base import LLMConfigError
from pnlc.llm.cache import CachedLLM, ResponseCache
from pnlc.llm.config import LLMConfig
from pnlc.llm.hf_backend import HFChatLLM
from pnlc.llm.usage import SpendGuard

LLM_BACKENDS: tuple[str, ...] = ("anthropic", "hf")


def make_llm(cfg: LLMConfig, guard: SpendGuard | None = None) -> CachedLLM:
    """The backend named by `cfg.backend` behind a `CachedLLM` in `cfg.cache_mode`.

    With backend anthropic and a mode that may call out (record, off), a missing ANTHROPIC_API_KEY
    is reported here, before any work starts. `guard` shares one spend/call cap across several
    LLMs of a run; by default the backend makes its own from its config.
    """
    if cfg.backend == "sim":
        raise LLMConfigError(
            "llm.backend 'sim' has no LLM: the simulated agents play every role themselves; "
            "build the sim agents instead of calling make_llm, or choose backend 'anthropic' or 'hf'"
        )
    if cfg.backend == "anthropic":
        if cfg.anthropic is None:
            raise LLMConfigError("llm.backend is 'anthropic' but the llm.anthropic section is missing")
        llm = AnthropicLLM(cfg.anthropic, guard=guard)
        if cfg.cache_mode != "replay":
            llm.check_credentials()
    elif cfg.backend == "hf":
        if cfg.hf is None:
            raise LLMConfigError("llm.backend is 'hf' but the llm.hf section is missing")
        llm = HFChatLLM(cfg.hf, converted_dir=Path(cfg.cache_dir) / "models")
    else:
        raise LLMConfigError(
            f"llm.backend: {cfg.backend!r} is not one of {', '.join(LLM_BACKENDS)} (or 'sim', which uses no LLM)"
        )
    return CachedLLM(llm, ResponseCache(Path(cfg.cache_dir)), cfg.cache_mode)
