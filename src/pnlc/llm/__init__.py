"""LLM layer: the `LLM` protocol, the anthropic and hf backends, the response cache and usage caps.

Heavy libraries (anthropic, torch, transformers) are imported only when a backend makes a call.
"""

from pnlc.llm.anthropic_backend import API_KEY_ENV, AnthropicConfig, AnthropicLLM
from pnlc.llm.base import (
    LLM,
    BudgetExceeded,
    CacheMiss,
    Completion,
    LLMConfigError,
    LLMError,
    Message,
    Request,
    assistant,
    user,
)
from pnlc.llm.cache import CACHE_MODES, CachedLLM, ResponseCache, canonical_request, request_key
from pnlc.llm.config import LLMConfig
from pnlc.llm.factory import LLM_BACKENDS, make_llm
from pnlc.llm.hf_backend import BUNDLED_SMOLLM2, SMOLLM2_INSTALL, HFChatLLM, HFConfig, bundled_smollm2_gguf
from pnlc.llm.limiter import RequestGate
from pnlc.llm.usage import MeteredLLM, Reservation, SpendGuard, UsageMeter, usage_of

__all__ = [
    "API_KEY_ENV",
    "BUNDLED_SMOLLM2",
    "CACHE_MODES",
    "LLM",
    "LLM_BACKENDS",
    "SMOLLM2_INSTALL",
    "AnthropicConfig",
    "AnthropicLLM",
    "BudgetExceeded",
    "CacheMiss",
    "CachedLLM",
    "Completion",
    "HFChatLLM",
    "HFConfig",
    "LLMConfig",
    "LLMConfigError",
    "LLMError",
    "Message",
    "MeteredLLM",
    "Request",
    "RequestGate",
    "Reservation",
    "ResponseCache",
    "SpendGuard",
    "UsageMeter",
    "assistant",
    "bundled_smollm2_gguf",
    "canonical_request",
    "make_llm",
    "request_key",
    "usage_of",
    "user",
]
