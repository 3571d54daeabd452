"""Concurrent episodes against the loopback Messages API: the same records as one at a time, resume
after a torn file, one retry-after pause for every thread, and caps that hold across threads."""

from __future__ import annotations

import json
import sys
import threading
from pathlib import Path

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from fakes.messages_server import FakeMessagesServer, served_params  # noqa: E402

from pnlc.config import params_from_dict  # noqa: E402
from pnlc.llm import AnthropicLLM, BudgetExceeded, CachedLLM, Request, ResponseCache, user  # noqa: E402
from pnlc.pipeline.concurrent import in_order  # noqa: E402
from pnlc.pipeline.evaluate import evaluate  # noqa: E402
from pnlc.pipeline.factory import llm_config  # noqa: E402
from pnlc.pipeline.generate import generate  # noqa: E402

FAKE_KEY = "sk-ant-FAKE-pnlc-test-key-0123456789"


@pytest.fixture(autouse=True)
def api_key(monkeypatch):
    monkeypatch.setenv("ANTHROPIC_API_KEY", FAKE_KEY)
    for var in ("ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"):
        monkeypatch.delenv(var, raising=False)


def params(repo, url, concurrency, episodes=6, **anthropic):
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["sizes"][raw["size"]].update(train_episodes=episodes, shards=1, test_tasks=4)
    raw["env"]["persuasion"]["max_turns"] = 2
    raw = served_params(raw, url, concurrency)
    raw["llm"]["anthropic"].update(anthropic)
    return params_from_dict(raw, "test params")


def test_generation_and_evaluation_give_the_same_records_at_any_concurrency_and_resume(repo, tmp_path):
    with FakeMessagesServer(latency_s=0.01) as server:
        generate(params(repo, server.url, 1), "persuasion", 0, tmp_path / "serial.jsonl")
        assert server.most_at_once() == 1
        served = len(server.received)
        generate(params(repo, server.url, 6), "persuasion", 0, tmp_path / "concurrent.jsonl")
        assert server.most_at_once() >= 3 and len(server.received) == 2 * served

        serial = (tmp_path / "serial.jsonl").read_bytes()
        assert (tmp_path / "concurrent.jsonl").read_bytes() == serial
        lines = serial.splitlines(keepends=True)
        assert len(lines) == 6 and all(json.loads(ln)["backend"] == "anthropic" for ln in lines)

        torn = tmp_path / "resumed.jsonl"
        (tmp_path / "resumed.jsonl.partial").write_bytes(b"".join(lines[:3]) + lines[3][:50])
        generate(params(repo, server.url, 8), "persuasion", 0, torn)
        assert torn.read_bytes() == serial and not (tmp_path / "resumed.jsonl.partial").exists()

        runs = []
        for concurrency in (1, 4):
            out = tmp_path / f"eval{concurrency}.jsonl"
            evaluate(params(repo, server.url, concurrency), "persuasion", "react", 0, None, out,
                     tmp_path / f"eval{concurrency}.timing.jsonl")
            runs.append(out.read_bytes())
    # the measured fields went to the sidecar, so the records are the same bytes
    assert runs[0] == runs[1] and len(runs[0].splitlines()) == 4


def test_sim_ignores_concurrency_and_gives_the_same_bytes(repo, tmp_path):
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["sizes"][raw["size"]].update(train_episodes=4, shards=1)
    for concurrency in (1, 8):
        raw["llm"]["concurrency"] = concurrency
        generate(params_from_dict(raw, "test params"), "avalon", 0, tmp_path / f"c{concurrency}.jsonl")
    assert (tmp_path / "c1.jsonl").read_bytes() == (tmp_path / "c8.jsonl").read_bytes()


def ask(text: str) -> Request:
    return Request(messages=(user(text),), system="Answer briefly.", max_tokens=64)


def backend(repo, server, **anthropic) -> AnthropicLLM:
    return AnthropicLLM(llm_config(params(repo, server.url, 8, **anthropic)).anthropic)


def test_one_retry_after_pauses_every_thread(repo):
    with FakeMessagesServer(script=["ok"] * 8 + ["429"], retry_after=0.8) as server:
        llm = backend(repo, server)
        texts = list(in_order([f"q{i}" for i in range(40)], lambda q: llm.complete(ask(q)).text, 8))
    assert texts == [f"echo: q{i}" for i in range(40)]
    paused_at = llm.gate.resume_at - 0.8  # when the thread that got the 429 paused the gate
    later = [r["at"] - paused_at for r in server.received if r["at"] > paused_at]
    # requests sent before the pause may still land just after it; then nothing until it ends
    assert [round(d, 3) for d in later if 0.2 < d < 0.79] == []
    held = [d for d in later if d >= 0.79]
    assert len(held) >= 5 and llm.gate.pauses == 1 and llm.gate.waits >= 4  # other threads were held too


def test_caps_hold_across_concurrent_episodes(repo, tmp_path):
    with FakeMessagesServer(latency_s=0.02) as server:
        capped = params(repo, server.url, 8, episodes=12, call_cap=25)  # the episodes need about 40 calls
        out = tmp_path / "capped.jsonl"
        with pytest.raises(BudgetExceeded, match="call cap reached"):
            generate(capped, "persuasion", 0, out)
        assert len(server.received) == 25 and server.most_at_once() >= 4  # not one call past the cap
        partial = tmp_path / "capped.jsonl.partial"  # holds only the episodes finished before the cap
        assert not out.exists() and (not partial.exists() or all(map(json.loads, partial.read_text().splitlines())))

        llm = backend(repo, server)
        estimate = llm.estimate_cost(ask("q00"))
        cap = 10.5 * estimate
        llm = backend(repo, server, spend_cap_usd=cap)
        before = len(server.received)

        def one(q):
            try:
                return llm.complete(ask(q)).cost_usd
            except BudgetExceeded:
                return None

        costs = list(in_order([f"q{i:02d}" for i in range(60)], one, 8))
    paid = [c for c in costs if c is not None]
    assert llm.guard.spent_usd == pytest.approx(sum(paid)) and llm.guard.spent_usd <= cap
    assert len(server.received) - before == len(paid) >= 10 and llm.guard.in_flight == 0


def test_identical_concurrent_requests_are_sent_once(tmp_path, repo):
    with FakeMessagesServer(latency_s=0.1) as server:
        llm = CachedLLM(backend(repo, server), ResponseCache(tmp_path), "record")
        start = threading.Barrier(8)

        def same(_):
            start.wait()
            return llm.complete(ask("the same question"))

        answers = list(in_order(range(8), same, 8))
    assert len(server.received) == 1
    assert {a.text for a in answers} == {"echo: the same question"}
    assert sum(not a.from_cache for a in answers) == 1 and llm.hits == 7
