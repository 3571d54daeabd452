"""Response cache: content addressing, record / replay / off, concurrent writers."""

from __future__ import annotations

import json
import multiprocessing as mp
from dataclasses import replace
from pathlib import Path

import pytest

from pnlc.llm import (
    CacheMiss,
    CachedLLM,
    Completion,
    LLMError,
    MeteredLLM,
    Request,
    ResponseCache,
    UsageMeter,
    request_key,
    user,
)


class CountingLLM:
    """Deterministic stand-in backend that counts how often it is really called."""

    backend = "fake"
    model = "fake-1"

    def __init__(self) -> None:
        self.calls = 0

    def complete(self, request: Request) -> Completion:
        self.calls += 1
        text = f"{request.system}|{request.messages[-1].content}|{request.sample_index}"
        return Completion(text=text, input_tokens=10, output_tokens=3, cost_usd=0.01, latency_s=0.5, model=self.model)


def req(text: str = "hello", **kw) -> Request:
    return Request(messages=(user(text),), system="sys", **kw)


def test_key_covers_every_field_that_changes_the_response_but_not_the_tag():
    base = req()
    k = request_key("anthropic", "m", base)
    assert len(k) == 64
    assert request_key("anthropic", "m", replace(base, tag="summarize")) == k
    variants = [
        ("hf", "m", base),
        ("anthropic", "m2", base),
        ("anthropic", "m", replace(base, system="other")),
        ("anthropic", "m", req("bye")),
        ("anthropic", "m", replace(base, temperature=0.7)),
        ("anthropic", "m", replace(base, max_tokens=7)),
        ("anthropic", "m", replace(base, stop=("\n",))),
        ("anthropic", "m", replace(base, sample_index=1)),
    ]
    keys = {request_key(*v) for v in variants}
    assert k not in keys and len(keys) == len(variants)


def test_record_calls_once_then_serves_from_cache_at_zero_cost(tmp_path):
    inner = CountingLLM()
    llm = CachedLLM(inner, ResponseCache(tmp_path), "record")
    first = llm.complete(req())
    second = llm.complete(req())
    assert inner.calls == 1
    assert not first.from_cache and first.cost_usd == 0.01
    assert second.from_cache and second.cost_usd == 0.0 and second.text == first.text
    assert second.input_tokens == first.input_tokens  # token counts are kept for accounting
    assert (llm.hits, llm.misses) == (1, 1)
    llm.complete(req(sample_index=1))
    assert inner.calls == 2 and len(ResponseCache(tmp_path)) == 2


def test_entry_is_plain_json_with_the_request(tmp_path):
    cache = ResponseCache(tmp_path)
    CachedLLM(CountingLLM(), cache, "record").complete(req("abc"))
    (key,) = list(cache.keys())
    entry = json.loads(cache.path_for(key).read_text())
    assert entry["key"] == key
    assert entry["request"]["messages"] == [["user", "abc"]]
    assert entry["completion"]["text"] == "sys|abc|0"


def test_replay_serves_recorded_and_raises_clear_cache_miss(tmp_path):
    CachedLLM(CountingLLM(), ResponseCache(tmp_path), "record").complete(req())
    inner = CountingLLM()
    replay = CachedLLM(inner, ResponseCache(tmp_path), "replay")
    assert replay.complete(req()).from_cache
    with pytest.raises(CacheMiss) as err:
        replay.complete(req("never recorded"))
    assert inner.calls == 0
    msg = str(err.value)
    assert str(tmp_path) in msg and "record" in msg


def test_off_passes_through_and_stores_nothing(tmp_path):
    inner = CountingLLM()
    llm = CachedLLM(inner, ResponseCache(tmp_path / "c"), "off")
    llm.complete(req())
    llm.complete(req())
    assert inner.calls == 2
    assert not (tmp_path / "c").exists()


def test_bad_mode_and_damaged_entry_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="record, replay, off"):
        CachedLLM(CountingLLM(), ResponseCache(tmp_path), "write")
    cache = ResponseCache(tmp_path)
    llm = CachedLLM(CountingLLM(), cache, "record")
    llm.complete(req())
    (key,) = list(cache.keys())
    cache.path_for(key).write_text("{not json")
    with pytest.raises(LLMError, match="delete the file"):
        llm.complete(req())


def test_metered_llm_sums_usage_including_cache_hits(tmp_path):
    meter = UsageMeter()
    llm = MeteredLLM(CachedLLM(CountingLLM(), ResponseCache(tmp_path), "record"), meter)
    llm.complete(req())
    llm.complete(req())
    u = meter.usage
    assert (u.calls, u.input_tokens, u.output_tokens) == (2, 20, 6)
    assert u.cost_usd == pytest.approx(0.01)
    assert meter.from_cache == 1
    assert meter.reset() == u and meter.usage.calls == 0


def _writer(args: tuple[str, int]) -> int:
    cache_dir, worker = args
    inner = CountingLLM()
    llm = CachedLLM(inner, ResponseCache(cache_dir), "record")
    # every worker records the same 40 requests, in a different order
    order = list(range(40))
    order = order[worker * 7 % 40 :] + order[: worker * 7 % 40]
    for i in order:
        c = llm.complete(req(f"q{i}"))
        assert c.text == f"sys|q{i}|0"
    return inner.calls


def test_concurrent_writers_lose_and_duplicate_nothing(tmp_path):
    ctx = mp.get_context("fork")
    with ctx.Pool(4) as pool:
        calls = pool.map(_writer, [(str(tmp_path), w) for w in range(4)])
    cache = ResponseCache(tmp_path)
    keys = list(cache.keys())
    expected = {request_key("fake", "fake-1", req(f"q{i}")) for i in range(40)}
    assert sorted(keys) == sorted(expected)  # one entry per request: none lost, none doubled
    assert 40 <= sum(calls) <= 160
    assert not [p for p in Path(tmp_path).rglob("*") if p.is_file() and p.suffix != ".json"]
    replay = CachedLLM(CountingLLM(), cache, "replay")
    assert all(replay.complete(req(f"q{i}")).text == f"sys|q{i}|0" for i in range(40))
