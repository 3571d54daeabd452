"""Fault storm: the tiny Claude workflow against a Messages API that fails 30 % of all requests.

A fresh copy of the tests' tiny Claude workflow (tests/workflow/loopback.py) runs with the response
cache off, so every call reaches a loopback Messages API (tests/fakes/messages_server.py, answering
in each role's format with tests/fakes/role_model.py). A seeded random share of ALL requests, first
attempts and retries alike, meets one of five faults, evenly: 429 with `retry-after`, 529, 500, a
hang past the client's `timeout_s`, and a dropped connection. The drill checks that Snakemake exits
0; that the jobs logged one retry per fault (none failed for good); that the usage the run recorded
(episode records and the summarizer's usage files: calls, input, output and cached tokens, dollars)
equals the server's own count over the requests it answered; and that every planned episode record,
keyed by (file, policy, task_id, seed), is there exactly once.

Only an "ok" request counts as answered (FakeMessagesServer.answered()): a hang sleeps past the
client's timeout and closes the connection without writing an answer, so the server cannot count
it, and the client records usage only for a message it has read whole and parsed, never for an
attempt it gave up on. The slowest "ok" answer is printed: it must stay well under `timeout_s`, or
the client could have abandoned an answer the server counted (the usage check would then fail).

    PYTHONPATH=$PWD/src python drills/fault_storm.py [--seed 0] [--rate 0.3]

Last line: `key=value` pairs.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "workflow"))

from fakes.messages_server import FakeMessagesServer  # noqa: E402
from fakes.role_model import RoleModel  # noqa: E402
from loopback import (  # noqa: E402
    USAGE_KEYS,
    copy_workflow,
    overrides,
    planned_files,
    recorded_usage,
    served_usage,
    snakemake,
)

KINDS = ("429", "529", "500", "hang", "drop")
RATE = 0.30
TIMEOUT_S = 1.0  # the client's per-attempt timeout
HANG_S = 1.5  # a hang outlasts it
MAX_RETRIES = 12  # 0.3**13: with ~400 calls a run, one run in about 16,000 has a call fail for good


class Storm:
    """`faults` for FakeMessagesServer: each request, whatever came before, meets a fault with
    probability `rate`, the kind drawn evenly from KINDS. The server serves requests on threads,
    so the draws are serialised; their order (and so which request meets which) follows arrival."""

    def __init__(self, rate: float, seed: int) -> None:
        self.rate = rate
        self.rng = random.Random(seed)
        self.lock = threading.Lock()

    def __call__(self, payload: dict[str, Any], seen: int) -> str:
        with self.lock:
            if self.rng.random() >= self.rate:
                return "ok"
            return self.rng.choice(KINDS)


def storm_config(url: str) -> dict[str, Any]:
    config = overrides(url, "off")
    config["llm"]["anthropic"].update(timeout_s=TIMEOUT_S, max_retries=MAX_RETRIES, backoff_base_s=0.01,
                                      backoff_max_s=0.05)
    return config


def record_counts(root: Path) -> dict[str, Counter]:
    """Episode records of every trajectory and evaluation JSONL by file, keyed by (policy, task_id, seed),
    with how often each occurs."""
    out: dict[str, Counter] = {}
    for folder in ("results/trajectories", "results/eval"):
        for path in sorted((root / folder).rglob("*.jsonl")):
            keys: Counter = Counter()
            for line in path.read_bytes().splitlines():
                rec = json.loads(line)
                keys[(rec.get("policy"), rec.get("task_id"), rec.get("seed"))] += 1
            out[str(path.relative_to(root))] = keys
    return out


def retries_logged(root: Path) -> list[int]:
    """The retry number of every retry the jobs logged ("anthropic <reason>: retry k/n in ... s")."""
    return [int(m) for log in sorted((root / "results/logs").rglob("*.log"))
            for m in re.findall(r"anthropic .*: retry (\d+)/\d+ in ", log.read_text(errors="replace"))]


def drill(root: Path, seed: int = 0, rate: float = RATE) -> dict[str, Any]:
    """Run the storm in a fresh workflow copy at `root`; the drill's figures."""
    copy_workflow(root)
    start = time.monotonic()
    with FakeMessagesServer(responder=RoleModel(), faults=Storm(rate, seed), hang_s=HANG_S, retry_after=0.01,
                            lifetime_s=1800.0) as fake:
        done = snakemake(root, storm_config(fake.url))
    wall_s = time.monotonic() - start
    (root / "snakemake.log").write_text(done.stdout + done.stderr)
    counts = fake.counts()
    answered = fake.answered()
    oks = [r for r in fake.received if r["action"] == "ok"]
    row: dict[str, Any] = {
        "exit": done.returncode,
        "wall_s": wall_s,
        "requests": len(fake.received),
        "faults": {kind: counts[kind] for kind in KINDS},
        "answered": len(answered),
        "ok_unanswered": len(oks) - len(answered),
        "slowest_ok_s": max((r["finished_at"] - r["at"] for r in oks if "finished_at" in r), default=0.0),
        "log_tail": "" if done.returncode == 0 else (done.stdout + done.stderr)[-4000:],
    }
    retries = retries_logged(root)
    row["retries_logged"], row["most_retries"] = len(retries), max(retries, default=0)
    row["fault_rate"] = sum(row["faults"].values()) / max(1, row["requests"])
    counted = served_usage([r["usage"] for r in answered])
    try:
        recorded = recorded_usage(root)
    except (OSError, KeyError, ValueError) as exc:  # a run that failed leaves files out
        recorded = {"error": f"{type(exc).__name__}: {exc}"}
    row["recorded"], row["counted"] = recorded, counted
    row["usage_equal"] = ("error" not in recorded and all(recorded[k] == counted[k] for k in USAGE_KEYS)
                          and math.isclose(recorded["cost_usd"], counted["cost_usd"], rel_tol=1e-9))
    planned, found = planned_files(), record_counts(root)
    row["episodes"] = sum(sum(keys.values()) for keys in found.values())
    row["planned"] = sum(planned.values())
    row["lost"] = sum(max(0, n - len(found.get(f, ()))) for f, n in planned.items())
    row["duplicated"] = sum(c - 1 for keys in found.values() for c in keys.values())
    row["unplanned_files"] = sorted(set(found) - set(planned))
    return row


def passed(row: dict[str, Any]) -> bool:
    return (row["exit"] == 0 and row["usage_equal"] and row["lost"] == row["duplicated"] == 0
            and not row["unplanned_files"] and row["episodes"] == row["planned"]
            and row["slowest_ok_s"] < TIMEOUT_S and all(row["faults"].values())
            and row["retries_logged"] == sum(row["faults"].values()))


def report(row: dict[str, Any]) -> str:
    """The drill's printout; its last line is `key=value` pairs."""
    lines = [f"snakemake exit {row['exit']} after {row['wall_s']:.0f} s; {row['requests']} requests, "
             f"{row['answered']} answered; slowest answer {row['slowest_ok_s']:.3f} s (client timeout "
             f"{TIMEOUT_S} s, hang {HANG_S} s)", "", f"{'fault':<6} {'requests':>8}"]
    lines += [f"{kind:<6} {n:>8}" for kind, n in row["faults"].items()]
    lines += [f"{'all':<6} {sum(row['faults'].values()):>8}  ({row['fault_rate']:.2f} of all requests; "
              f"{row['retries_logged']} retries logged, at most {row['most_retries']} for one call)", ""]
    lines.append(f"{'usage':<14} {'recorded':>12} {'server':>12}")
    for key in (*USAGE_KEYS, "cost_usd"):
        got, want = row["recorded"].get(key, "-"), row["counted"][key]
        shown = [f"{v:.6f}" if isinstance(v, float) else str(v) for v in (got, want)]
        lines.append(f"{key:<14} {shown[0]:>12} {shown[1]:>12}")
    lines.append(f"episode records: {row['episodes']} of {row['planned']} planned; lost {row['lost']}, "
                 f"duplicated {row['duplicated']}, unplanned files {row['unplanned_files'] or 'none'}")
    if row["log_tail"]:
        lines += ["", row["log_tail"]]
    lines.append(
        f"runs=1 requests={row['requests']} faults={sum(row['faults'].values())} "
        f"retries={row['retries_logged']} fault_rate={row['fault_rate']:.2f} "
        f"answered={row['answered']} usage_equal={int(row['usage_equal'])} episodes={row['episodes']} "
        f"lost={row['lost']} duplicated={row['duplicated']} passed={int(passed(row))}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--rate", type=float, default=RATE)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="storm-") as tmp:
        row = drill(Path(tmp) / "workflow", args.seed, args.rate)
    sys.stdout.write(report(row))
    return 0 if passed(row) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
