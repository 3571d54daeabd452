"""The one LLM protocol every backend implements, and its request/response records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable


class LLMError(RuntimeError):
    """An LLM call failed for good (after retries, or for a reason retrying cannot fix)."""


class LLMConfigError(LLMError):
    """Misconfiguration: missing key, missing model path, bad request. Retrying will not help."""


class BudgetExceeded(LLMError):
    """The run's spend cap or call cap was reached; the message says how much was spent."""


class CacheMiss(LLMError):
    """Replay mode found no recorded response for a request."""


@dataclass(frozen=True)
class Message:
    role: str  # "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Request:
    """Everything that determines a completion. `system` is the static prompt (cached by the API)."""

    messages: tuple[Message, ...]
    system: str = ""
    temperature: float = 0.0
    max_tokens: int = 512
    stop: tuple[str, ...] = ()
    pattern: str = ""  # regular expression the answer (after a prefilled assistant turn) must match; a
    # backend that can constrain decoding to it does so (`honours_pattern`), the others ignore it
    sample_index: int = 0  # distinguishes repeated samples of the same request in the cache
    tag: str = ""  # role name for accounting ("propose_thought", "summarize", ...)


@dataclass(frozen=True)
class Completion:
    text: str
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    latency_s: float = 0.0
    cost_usd: float = 0.0
    model: str = ""
    stop_reason: str = ""
    from_cache: bool = False
    retries: int = 0


@runtime_checkable
class LLM(Protocol):
    backend: str
    model: str

    def complete(self, request: Request) -> Completion: ...


def user(text: str) -> Message:
    return Message("user", text)


def assistant(text: str) -> Message:
    return Message("assistant", text)
