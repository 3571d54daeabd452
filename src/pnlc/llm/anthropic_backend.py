"""Claude through the official `anthropic` SDK, with this project's own timeout, retries and caps.

The SDK's retries are switched off (max_retries=0) and done here instead, so that every attempt is
counted, the identical request body is resent, and the backoff is seeded: exponential backoff with
jitter on 429, 529, other 5xx, timeouts, dropped connections and malformed responses, honouring
`retry-after`. A response carrying `retry-after` also pauses the backend's shared `RequestGate`,
so that every thread's next request waits it out, not only the one that was told. Each call
reserves its upper-end cost estimate on the `SpendGuard` before it is sent (caps hold across
threads) and settles it with the real cost. Authentication (401/403), bad requests (400/404/413/422) and a missing key fail at
once with `LLMConfigError`. The static system prompt is sent as one block marked for prompt caching.

Secret: the API key is read from the environment variable ANTHROPIC_API_KEY when the first real call
is made, handed to the SDK and never logged, cached, stored or put into an error message.
"""

from __future__ import annotations

import email.utils
import logging
import math
import os
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from pnlc.llm.base import Completion, LLMConfigError, LLMError, Request
from pnlc.llm.ledger import SpendLedger
from pnlc.llm.limiter import RequestGate
from pnlc.llm.usage import SpendGuard

log = logging.getLogger(__name__)

API_KEY_ENV = "ANTHROPIC_API_KEY"
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})
CONFIG_STATUS = frozenset({400, 401, 403, 404, 413, 422})


@dataclass(frozen=True)
class AnthropicConfig:
    """Claude Messages API settings.

    model: API model name, e.g. "claude-sonnet-4-5".
    temperature: sampling temperature; None = the Request's own temperature.
    send_temperature: send a temperature at all (this SDK release has no typed temperature argument,
        so it travels in the request body; turn off for models that refuse one).
    max_tokens: output cap per call, used when a Request asks for more (requests ask for their own).
    timeout_s: per-attempt timeout (the SDK's own default of 600 s is far too long).
    max_retries: retried attempts after the first (0 = fail on the first transient error).
    backoff_base_s / backoff_max_s: delay before retry k is min(max, base * 2**k) scaled by a jitter
        factor in [0.5, 1); a `retry-after` header overrides it.
    seed: seeds the jitter Generator.
    base_url: API endpoint; None = the SDK default (tests point it at 127.0.0.1).
    price_*_per_mtok: USD per million input, output, cache-read and cache-write tokens.
    spend_cap_usd / call_cap: stop cleanly before passing either (None = no cap).
    spend_ledger: None = the caps count this process's calls; a file path = they count the calls of
        every process booking on that file (`pnlc.llm.ledger`), e.g. all jobs of a cluster run.
    prompt_caching: mark the system prompt for prompt caching (cache_control ephemeral).
    """

    model: str
    temperature: float | None
    send_temperature: bool
    max_tokens: int
    timeout_s: float
    max_retries: int
    backoff_base_s: float
    backoff_max_s: float
    seed: int
    base_url: str | None
    price_input_per_mtok: float
    price_output_per_mtok: float
    price_cached_per_mtok: float
    price_cache_write_per_mtok: float
    spend_cap_usd: float | None
    call_cap: int | None
    prompt_caching: bool
    spend_ledger: str | None

    def __post_init__(self) -> None:
        problems = []
        if not self.model:
            problems.append("model is empty")
        if self.max_tokens < 1:
            problems.append(f"max_tokens={self.max_tokens} must be >= 1")
        if not self.timeout_s > 0:
            problems.append(f"timeout_s={self.timeout_s} must be > 0")
        if self.max_retries < 0:
            problems.append(f"max_retries={self.max_retries} must be >= 0")
        if self.backoff_base_s < 0 or self.backoff_max_s < self.backoff_base_s:
            problems.append("need 0 <= backoff_base_s <= backoff_max_s")
        for name in ("price_input_per_mtok", "price_output_per_mtok", "price_cached_per_mtok", "price_cache_write_per_mtok"):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0")
        if problems:
            raise LLMConfigError("llm.anthropic: " + "; ".join(problems))


def _retry_after_s(headers: Any) -> float | None:
    """Seconds asked for by `retry-after-ms` or `retry-after` (seconds or an HTTP date)."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value is not None:
        try:
            return max(0.0, float(value) / 1000.0)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, parsed.timestamp() - time.time())


class AnthropicLLM:
    """`LLM` backend for the Claude Messages API. See the module docstring for retry rules.

    Thread-safe: one instance serves every concurrent episode of a job, sharing its client, its
    `guard` (spend and call caps) and its `gate` (retry-after pauses)."""

    backend = "anthropic"

    def __init__(
        self,
        config: AnthropicConfig,
        guard: SpendGuard | None = None,
        sleep: Callable[[float], None] = time.sleep,
        gate: RequestGate | None = None,
    ) -> None:
        self.config = config
        self.model = config.model
        if guard is None:
            ledger = SpendLedger(config.spend_ledger) if config.spend_ledger else None
            guard = SpendGuard(config.spend_cap_usd, config.call_cap, ledger)
        self.guard = guard
        self.gate = gate if gate is not None else RequestGate()
        self._sleep = sleep
        self._rng = np.random.default_rng(config.seed)
        self._rng_lock = threading.Lock()
        self._client: Any = None
        self._client_lock = threading.Lock()
        self._count_lock = threading.Lock()
        self.attempts = 0  # every HTTP attempt, retries included
        self.retries = 0  # attempts after a transient failure

    # -- set-up -----------------------------------------------------------------------------
    @staticmethod
    def check_credentials() -> None:
        """Raise LLMConfigError when ANTHROPIC_API_KEY is not set (before the SDK's bare TypeError)."""
        if not os.environ.get(API_KEY_ENV, "").strip():
            raise LLMConfigError(
                f"{API_KEY_ENV} is not set: the anthropic backend needs an API key in the environment "
                f"(export {API_KEY_ENV}=...), or run with llm cache mode 'replay' on a recorded cache, "
                "or choose backend 'sim' or 'hf'"
            )

    def _get_client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                self.check_credentials()
                import anthropic

                kwargs: dict[str, Any] = {
                    "api_key": os.environ[API_KEY_ENV].strip(),
                    "max_retries": 0,
                    "timeout": float(self.config.timeout_s),
                }
                if self.config.base_url is not None:
                    kwargs["base_url"] = self.config.base_url
                self._client = anthropic.Anthropic(**kwargs)
            return self._client

    # -- request building -------------------------------------------------------------------
    def request_params(self, request: Request) -> dict[str, Any]:
        """The exact keyword arguments sent to `messages.create` (identical on every retry)."""
        if not request.messages:
            raise LLMConfigError("anthropic request has no messages; add at least one user message")
        params: dict[str, Any] = {
            "model": self.config.model,
            "max_tokens": int(min(request.max_tokens, self.config.max_tokens)),
            "messages": [{"role": m.role, "content": m.content} for m in request.messages],
        }
        if request.system:
            block: dict[str, Any] = {"type": "text", "text": request.system}
            if self.config.prompt_caching:
                block["cache_control"] = {"type": "ephemeral"}
            params["system"] = [block]
        # The API refuses whitespace-only stop sequences (400); the parsers read the first line anyway.
        stops = [s for s in request.stop if s.strip()]
        if stops:
            params["stop_sequences"] = stops
        if self.config.send_temperature:
            temperature = request.temperature if self.config.temperature is None else self.config.temperature
            params["extra_body"] = {"temperature": float(temperature)}
        return params

    def estimate_cost(self, request: Request) -> float:
        """Upper-end cost estimate of one call (about 3 characters per input token, full output)."""
        chars = len(request.system) + sum(len(m.content) for m in request.messages)
        in_tokens = math.ceil(chars / 3)
        out_tokens = min(request.max_tokens, self.config.max_tokens)
        return (in_tokens * self.config.price_input_per_mtok + out_tokens * self.config.price_output_per_mtok) / 1e6

    def cost(self, input_tokens: int, output_tokens: int, cache_read: int, cache_write: int) -> float:
        c = self.config
        return (
            input_tokens * c.price_input_per_mtok
            + output_tokens * c.price_output_per_mtok
            + cache_read * c.price_cached_per_mtok
            + cache_write * c.price_cache_write_per_mtok
        ) / 1e6

    def _backoff(self, retry: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        c = self.config
        with self._rng_lock:
            jitter = 0.5 + 0.5 * float(self._rng.random())
        return min(c.backoff_max_s, c.backoff_base_s * (2.0**retry)) * jitter

    # -- the call ---------------------------------------------------------------------------
    def complete(self, request: Request) -> Completion:
        params = self.request_params(request)
        with self.guard.reserve(self.estimate_cost(request)) as booking:
            completion = self._send(params)
            booking.charge(completion.cost_usd)
        return completion

    def _send(self, params: dict[str, Any]) -> Completion:
        client = self._get_client()
        import anthropic

        retries = 0
        slept_until = float("-inf")  # the end of a shared pause this call has slept out itself
        start = time.monotonic()
        while True:
            self.gate.wait(slept_until)
            with self._count_lock:
                self.attempts += 1
            reason: str
            retry_after: float | None = None
            try:
                message = client.messages.create(**params)
                parsed = self._parse(message)
                if parsed is not None:
                    break
                reason = "malformed response (not a Messages API message)"
            except anthropic.APIStatusError as exc:
                status = exc.status_code
                if status in CONFIG_STATUS:
                    raise self._config_error(status, exc) from None
                if status not in RETRY_STATUS and status < 500:
                    raise LLMError(
                        f"anthropic API returned HTTP {status} ({_api_message(exc)}) for model "
                        f"{self.config.model}; not retried"
                    ) from None
                reason = f"HTTP {status} ({_api_message(exc)})"
                retry_after = _retry_after_s(getattr(exc.response, "headers", None))
            except anthropic.APITimeoutError:
                reason = f"timeout after {self.config.timeout_s} s"
            except anthropic.APIConnectionError as exc:
                reason = f"connection error ({type(exc.__cause__).__name__ if exc.__cause__ else 'unknown'})"
            except (anthropic.APIResponseValidationError, ValueError) as exc:
                reason = f"malformed response ({type(exc).__name__})"
            if retries >= self.config.max_retries:
                raise LLMError(
                    f"anthropic call failed after {retries + 1} attempt(s) (max_retries="
                    f"{self.config.max_retries}); last error: {reason}. Check the service status or "
                    "raise llm.anthropic.max_retries / timeout_s; recorded responses stay in the cache"
                )
            delay = self._backoff(retries, retry_after)
            if retry_after is not None:
                slept_until = self.gate.pause(retry_after)
            retries += 1
            with self._count_lock:
                self.retries += 1
            log.warning(
                "anthropic %s: retry %d/%d in %.2f s", reason, retries, self.config.max_retries, delay
            )
            self._sleep(delay)

        text, stop_reason, model, in_tok, out_tok, cache_read, cache_write = parsed
        cost = self.cost(in_tok, out_tok, cache_read, cache_write)
        return Completion(
            text=text,
            input_tokens=in_tok + cache_read + cache_write,
            output_tokens=out_tok,
            cached_tokens=cache_read,
            latency_s=time.monotonic() - start,
            cost_usd=cost,
            model=model or self.config.model,
            stop_reason=stop_reason,
            from_cache=False,
            retries=retries,
        )

    @staticmethod
    def _parse(message: Any) -> tuple[str, str, str, int, int, int, int] | None:
        """(text, stop_reason, model, input, output, cache_read, cache_write) or None if malformed."""
        content = getattr(message, "content", None)
        usage = getattr(message, "usage", None)
        if not isinstance(content, list) or usage is None:
            return None
        text = "".join(getattr(b, "text", "") for b in content if getattr(b, "type", None) == "text")
        return (
            text,
            str(getattr(message, "stop_reason", "") or ""),
            str(getattr(message, "model", "") or ""),
            int(getattr(usage, "input_tokens", 0) or 0),
            int(getattr(usage, "output_tokens", 0) or 0),
            int(getattr(usage, "cache_read_input_tokens", 0) or 0),
            int(getattr(usage, "cache_creation_input_tokens", 0) or 0),
        )

    def _config_error(self, status: int, exc: Any) -> LLMConfigError:
        what = {
            401: f"authentication failed: the key in {API_KEY_ENV} was rejected; set a valid key",
            403: f"permission denied for the key in {API_KEY_ENV}; check the key's workspace and model access",
            404: f"not found: check llm.anthropic.model ({self.config.model!r}) and base_url",
            413: "request too large: shorten the prompt or lower max_tokens",
        }.get(status, "bad request: check llm.anthropic.model, max_tokens, temperature and the prompt")
        return LLMConfigError(f"anthropic API returned HTTP {status} ({_api_message(exc)}): {what}; not retried")


def _api_message(exc: Any) -> str:
    msg = getattr(exc, "api_message", None)
    etype = getattr(exc, "type", None)
    parts = [p for p in (etype, msg) if p]
    return ": ".join(str(p) for p in parts) if parts else "no error detail"
