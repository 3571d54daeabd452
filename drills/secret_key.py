"""Secrets: the API key reaches the API and nothing else.

A workspace with `backend: anthropic` plays one Persuasion episode against a loopback Messages API
(tests/fakes/messages_server.py) with a recognisable fake key, debug logging on and the response
cache recording, then annotates it with the LLM summarizer and trains a tiny critic. The drill
checks that the server received the key on every request (so the search below can find something)
and that no file the run wrote or touched holds it: results, logs, the LLM and embedding caches,
anything else in the workspace. It also checks that a 401 names the variable, not its value.

    PYTHONPATH=$PWD/src python drills/secret_key.py

Last line: `key=value` pairs.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.fakes.messages_server import FakeMessagesServer  # noqa: E402

PNLC = [sys.executable, "-m", "pnlc.cli", "-v"]


def workspace_params(base_url: str) -> dict:
    params = yaml.safe_load((REPO / "params.yaml").read_text())
    params.update(backend="anthropic", envs=["persuasion"])
    params["sizes"]["quick"].update(train_episodes=4, shards=1, critic_max_steps=5)
    params["env"]["persuasion"]["max_turns"] = 2
    params["annotate"]["summarizer"] = "llm"
    params["llm"]["anthropic"].update(base_url=base_url, max_retries=1)
    params["llm"].update(cache_mode="record", cache_dir=".cache/llm")
    params["embed"]["cache_dir"] = ".cache/embed"
    params["train"]["critic"].update(batch_size=16, val_every_n_steps=5, log_every_n_steps=5)
    return params


def files_holding(root: Path, needle: bytes) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() and needle in p.read_bytes())


def drill(root: Path) -> dict[str, object]:
    key = "sk-ant-drill-" + secrets.token_hex(16)
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO / "src"),
           "ANTHROPIC_API_KEY": key}
    logs = root / "results" / "logs"
    logs.mkdir(parents=True)
    shard = "results/trajectories/persuasion/anthropic/shard0.jsonl"
    steps = [
        ("generate", ["generate", "--env", "persuasion", "--shard", "0", "--out", shard]),
        ("annotate", ["annotate", "--env", "persuasion", "--inputs", shard, "--out-jsonl",
                      "results/annotations/persuasion/anthropic.jsonl", "--out-npz",
                      "results/annotations/persuasion/anthropic.npz", "--out-usage",
                      "results/annotations/persuasion/anthropic.usage.json"]),
        ("train", ["train", "--env", "persuasion", "--variant", "default", "--seed", "0", "--annotations",
                   "results/annotations/persuasion/anthropic.npz", "--out-dir", "results/critic/persuasion"]),
    ]
    with FakeMessagesServer() as server:
        (root / "params.yaml").write_text(yaml.safe_dump(workspace_params(server.url), sort_keys=False))
        for name, args in steps:
            with open(logs / f"{name}.log", "w") as log:
                done = subprocess.run(PNLC + args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=900)
            if done.returncode:
                raise RuntimeError(f"{name} failed; see {logs / (name + '.log')}:\n{(logs / (name + '.log')).read_text()[-3000:]}")
        requests = len(server.bodies())
        keyed = sum(1 for r in server.received if key in r["headers"].get("x-api-key", "") + r["headers"].get(
            "authorization", ""))
    with FakeMessagesServer(script=["401"]) as server:
        params = workspace_params(server.url)
        params["llm"]["cache_mode"] = "off"  # the recorded answers would spare the call
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        rejected = subprocess.run(PNLC[:-1] + ["generate", "--env", "persuasion", "--shard", "0", "--out",
                                               "results/trajectories/persuasion/anthropic/rejected.jsonl"],
                                  cwd=root, env={**env, "ANTHROPIC_API_KEY": key}, capture_output=True, text=True)
    message_401 = rejected.stderr.strip().splitlines()[-1] if rejected.stderr.strip() else ""
    (logs / "rejected.log").write_text(rejected.stdout + rejected.stderr)
    return {
        "requests": requests,
        "requests carrying the key": keyed,
        "files written": sum(1 for p in root.rglob("*") if p.is_file()),
        "files holding the key": files_holding(root, key.encode()),
        "files holding its last 12 characters": files_holding(root, key[-12:].encode()),
        "401 exit": rejected.returncode,
        "401 message": message_401,
    }


def passed(row: dict[str, object]) -> bool:
    return (row["requests"] > 0 and row["requests carrying the key"] == row["requests"]
            and not row["files holding the key"] and not row["files holding its last 12 characters"]
            and row["401 exit"] != 0 and "ANTHROPIC_API_KEY" in str(row["401 message"]))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="secrets-") as tmp:
        row = drill(Path(tmp))
    for k, v in row.items():
        sys.stdout.write(f"{k}: {v}\n")
    ok = passed(row)
    sys.stdout.write(f"requests={row['requests']} files_written={row['files written']} "
                     f"files_with_key={len(row['files holding the key'])} passed={int(ok)}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
