"""Episodes per second of API-bound generation, one episode at a time and `--concurrency` at once.

Runs `pnlc.pipeline.generate` (the ReAct prior playing Persuasion as an LLM persuader, backend
anthropic, no response cache) against the loopback Messages API of the tests
(tests/fakes/messages_server.py), which answers every request after a fixed `--latency-s`.
Both runs write a shard of `--episodes` episodes; the table shows requests served, the most served
at once, wall time and episodes per second, and whether the two shards are the same bytes. The
last line is `serial_eps=<x> concurrent_eps=<y> speedup=<y/x>`.

    PYTHONPATH=src python benchmarks/bench_concurrency.py --episodes 16 --concurrency 8 --latency-s 0.2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
from fakes.messages_server import FakeMessagesServer, served_params  # noqa: E402

from pnlc.config import params_from_dict  # noqa: E402
from pnlc.pipeline.generate import generate  # noqa: E402


def run(raw: dict, env: str, concurrency: int, latency_s: float, out: Path) -> dict:
    with FakeMessagesServer(latency_s=latency_s, lifetime_s=3600.0) as server:
        params = params_from_dict(served_params(raw, server.url, concurrency), "bench params")
        start = time.perf_counter()
        n = generate(params, env, 0, out)
        seconds = time.perf_counter() - start
    return {"concurrency": concurrency, "episodes": n, "requests": len(server.received),
            "most_at_once": server.most_at_once(), "seconds": seconds, "eps": n / seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--episodes", type=int, default=16)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--latency-s", type=float, default=0.2, help="the server's fixed time per answer")
    parser.add_argument("--env", default="persuasion", choices=["persuasion", "webshop", "avalon"])
    parser.add_argument("--max-turns", type=int, default=4, help="env.persuasion.max_turns (persuader messages)")
    parser.add_argument("--params", default=str(REPO / "params.yaml"))
    args = parser.parse_args()

    os.environ.setdefault("ANTHROPIC_API_KEY", "sk-ant-loopback-benchmark")  # the loopback server checks none
    raw = yaml.safe_load(Path(args.params).read_text())
    raw["sizes"][raw["size"]].update(train_episodes=args.episodes, shards=1)
    raw["env"]["persuasion"]["max_turns"] = args.max_turns
    with tempfile.TemporaryDirectory() as tmp:
        rows = []
        for concurrency in (1, args.concurrency):
            rows.append(run(raw, args.env, concurrency, args.latency_s, Path(tmp) / f"c{concurrency}.jsonl"))
        same = (Path(tmp) / "c1.jsonl").read_bytes() == (Path(tmp) / f"c{args.concurrency}.jsonl").read_bytes()

    print(f"{args.env} episodes, backend anthropic on the loopback server, {args.latency_s * 1000:.0f} ms per answer")
    print(f"{'concurrency':>11} {'episodes':>8} {'requests':>8} {'at once':>7} {'wall s':>8} {'eps':>7}")
    for r in rows:
        print(f"{r['concurrency']:>11} {r['episodes']:>8} {r['requests']:>8} {r['most_at_once']:>7} "
              f"{r['seconds']:>8.2f} {r['eps']:>7.3f}")
    print(f"shards identical: {same}")
    serial, concurrent = rows[0]["eps"], rows[1]["eps"]
    print(f"serial_eps={serial:.3f} concurrent_eps={concurrent:.3f} speedup={concurrent / serial:.2f}")


if __name__ == "__main__":
    main()
