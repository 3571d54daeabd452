"""The anthropic backend against a local Messages-API server with scripted faults (no network)."""

from __future__ import annotations

import json
import logging
import sys
import traceback
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fakes.messages_server import FakeMessagesServer  # noqa: E402

from pnlc.llm import (  # noqa: E402
    AnthropicConfig,
    AnthropicLLM,
    BudgetExceeded,
    CachedLLM,
    LLMConfigError,
    LLMError,
    Request,
    ResponseCache,
    user,
)

FAKE_KEY = "sk-ant-FAKE-pnlc-test-key-0123456789"
SYSTEM = "You are a careful planner. Reply briefly."


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    for var in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL", "ANTHROPIC_PROFILE", "ANTHROPIC_LOG"):
        monkeypatch.delenv(var, raising=False)


def config(server: FakeMessagesServer, **kw) -> AnthropicConfig:
    base = dict(
        model="claude-test", temperature=None, send_temperature=True, max_tokens=256, timeout_s=0.5,
        max_retries=8, backoff_base_s=0.001, backoff_max_s=0.01, seed=7, base_url=server.url,
        price_input_per_mtok=3.0, price_output_per_mtok=15.0, price_cached_per_mtok=0.3,
        price_cache_write_per_mtok=3.75, spend_cap_usd=None, call_cap=None, prompt_caching=True,
        spend_ledger=None,
    )
    base.update(kw)
    return AnthropicConfig(**base)


class SleepRecorder:
    def __init__(self) -> None:
        self.delays: list[float] = []

    def __call__(self, s: float) -> None:
        self.delays.append(s)


def ask(text: str = "hello", **kw) -> Request:
    return Request(messages=(user(text),), system=SYSTEM, **kw)


def test_success_sends_cached_system_block_and_reports_tokens_and_cost():
    with FakeMessagesServer() as server:
        llm = AnthropicLLM(config(server))
        first = llm.complete(ask("plan a trip", temperature=0.3, stop=("END",)))
        second = llm.complete(ask("plan a trip"))
    body = server.bodies()[0]
    assert body["system"] == [{"type": "text", "text": SYSTEM, "cache_control": {"type": "ephemeral"}}]
    assert body["messages"] == [{"role": "user", "content": "plan a trip"}]
    assert body["temperature"] == 0.3 and body["stop_sequences"] == ["END"] and body["model"] == "claude-test"
    assert first.text == "echo: plan a trip" and first.stop_reason == "end_turn" and first.retries == 0
    sys_tokens = len(SYSTEM.split())
    # first call writes the prompt cache, the second reads it
    assert first.cached_tokens == 0 and second.cached_tokens == sys_tokens
    assert first.input_tokens == second.input_tokens == 3 + sys_tokens
    assert first.output_tokens == 4  # "echo: plan a trip"
    assert first.cost_usd == pytest.approx((3 * 3.0 + 4 * 15.0 + sys_tokens * 3.75) / 1e6)
    assert second.cost_usd == pytest.approx((3 * 3.0 + 4 * 15.0 + sys_tokens * 0.3) / 1e6)
    assert first.latency_s > 0
    assert llm.guard.calls == 2


def test_config_temperature_overrides_and_can_be_left_out():
    with FakeMessagesServer() as server:
        AnthropicLLM(config(server, temperature=1.0)).complete(ask(temperature=0.0))
        AnthropicLLM(config(server, send_temperature=False)).complete(ask(temperature=0.5))
    assert server.bodies()[0]["temperature"] == 1.0
    assert "temperature" not in server.bodies()[1]


@pytest.mark.parametrize("fault", ["429", "529", "500", "hang", "drop", "malformed"])
def test_each_transient_fault_is_retried_with_the_identical_request(fault):
    sleep = SleepRecorder()
    with FakeMessagesServer(script=[fault], retry_after=0.25, hang_s=1.0) as server:
        llm = AnthropicLLM(config(server), sleep=sleep)
        c = llm.complete(ask("retry me"))
    assert c.text == "echo: retry me" and c.retries == 1
    assert [r["action"] for r in server.received] == [fault, "ok"]
    assert server.received[0]["body"] == server.received[1]["body"]
    assert (llm.attempts, llm.retries) == (2, 1)
    if fault == "429":
        assert sleep.delays == [0.25]  # retry-after honoured
    else:
        assert len(sleep.delays) == 1 and 0.0005 <= sleep.delays[0] <= 0.01


def test_backoff_is_exponential_capped_and_seeded():
    script = ["500"] * 6
    runs = []
    for _ in range(2):
        sleep = SleepRecorder()
        with FakeMessagesServer(script=list(script)) as server:
            AnthropicLLM(config(server, backoff_base_s=0.001, backoff_max_s=0.008), sleep=sleep).complete(ask())
        runs.append(sleep.delays)
    assert runs[0] == runs[1]  # same seed, same jitter
    caps = [min(0.008, 0.001 * 2**k) for k in range(6)]
    assert all(0.5 * cap <= d <= cap for d, cap in zip(runs[0], caps))


def test_exhausted_retries_raise_a_clear_error_after_max_retries_plus_one_attempts():
    with FakeMessagesServer(script=["529", "500", "529"]) as server:
        llm = AnthropicLLM(config(server, max_retries=2), sleep=SleepRecorder())
        with pytest.raises(LLMError) as err:
            llm.complete(ask())
    assert len(server.received) == 3
    msg = str(err.value)
    assert "3 attempt(s)" in msg and "max_retries=2" in msg and "overloaded_error" in msg


@pytest.mark.parametrize(
    "fault,needle",
    [("401", "ANTHROPIC_API_KEY was rejected"), ("400", "bad request")],
)
def test_auth_and_request_errors_fail_at_once(fault, needle):
    with FakeMessagesServer(script=[fault]) as server:
        llm = AnthropicLLM(config(server), sleep=SleepRecorder())
        with pytest.raises(LLMConfigError) as err:
            llm.complete(ask())
    assert len(server.received) == 1 and llm.retries == 0
    assert needle in str(err.value) and f"HTTP {fault}" in str(err.value)


def test_missing_key_fails_before_any_request(monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY")
    with FakeMessagesServer() as server:
        with pytest.raises(LLMConfigError, match="ANTHROPIC_API_KEY is not set"):
            AnthropicLLM(config(server)).complete(ask())
    assert server.received == []


def test_call_cap_and_spend_cap_stop_before_the_call():
    with FakeMessagesServer() as server:
        llm = AnthropicLLM(config(server, call_cap=2))
        llm.complete(ask("a"))
        llm.complete(ask("b"))
        with pytest.raises(BudgetExceeded, match="2 paid call"):
            llm.complete(ask("c"))
        assert len(server.received) == 2

        # the cap admits one call's upper-end estimate (a full 256-token answer), not two
        estimate = AnthropicLLM(config(server)).estimate_cost(ask("d"))
        cap = estimate * 1.005
        llm = AnthropicLLM(config(server, spend_cap_usd=cap))
        first = llm.complete(ask("d"))
        assert first.cost_usd > 0.005 * estimate
        with pytest.raises(BudgetExceeded) as err:
            llm.complete(ask("e"))
        assert len(server.received) == 3
    assert "1 paid call(s)" in str(err.value) and f"${first.cost_usd:.4f} spent" in str(err.value)


def test_cache_over_faults_keeps_exactly_one_entry_per_request(tmp_path):
    script = ["429", "ok", "hang", "ok", "drop", "500", "ok", "malformed", "ok", "529", "ok"]
    prompts = [f"task {i}" for i in range(5)]
    with FakeMessagesServer(script=script, hang_s=0.8) as server:
        backend = AnthropicLLM(config(server), sleep=SleepRecorder())
        llm = CachedLLM(backend, ResponseCache(tmp_path), "record")
        texts = [llm.complete(ask(p)).text for p in prompts]
        again = [llm.complete(ask(p)) for p in prompts]  # all from the cache
        replay = CachedLLM(AnthropicLLM(config(server)), ResponseCache(tmp_path), "replay")
        replayed = [replay.complete(ask(p)).text for p in prompts]
    assert texts == [f"echo: {p}" for p in prompts] == replayed
    assert all(c.from_cache and c.cost_usd == 0.0 for c in again)
    ok_bodies = [r["body"] for r in server.received if r["action"] == "ok"]
    assert len(ok_bodies) == len(set(ok_bodies)) == 5  # each request answered once
    assert backend.retries == 6 and len(server.received) == 11  # and nothing after the cache filled
    assert len(ResponseCache(tmp_path)) == 5


def test_api_key_never_reaches_logs_cache_or_errors(tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    for name in ("anthropic", "httpx2", "httpcore", "pnlc"):
        caplog.set_level(logging.DEBUG, logger=name)
    errors: list[BaseException] = []
    with FakeMessagesServer(script=["429", "drop", "ok", "401", "400"]) as server:
        llm = CachedLLM(AnthropicLLM(config(server), sleep=SleepRecorder()), ResponseCache(tmp_path), "record")
        llm.complete(ask("one"))
        for text in ("two", "three"):
            try:
                llm.complete(ask(text))
            except LLMError as exc:
                errors.append(exc)
        exhausted = CachedLLM(AnthropicLLM(config(server, max_retries=0)), ResponseCache(tmp_path), "record")
        server.script = ["500"]
        try:
            exhausted.complete(ask("four"))
        except LLMError as exc:
            errors.append(exc)
    assert server.received[0]["headers"].get("x-api-key") == FAKE_KEY or FAKE_KEY in json.dumps(
        server.received[0]["headers"]
    )  # the key was really in play
    assert len(errors) == 3
    assert caplog.records and FAKE_KEY not in caplog.text
    for exc in errors:
        assert FAKE_KEY not in str(exc) and FAKE_KEY not in repr(exc)
        assert FAKE_KEY not in "".join(traceback.format_exception(exc))
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert files and not any(FAKE_KEY in p.read_text() or FAKE_KEY in p.name for p in files)
