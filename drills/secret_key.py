"""Secrets: the API key reaches the API and nothing else.

A workspace with `backend: anthropic` plays one Persuasion episode against a loopback Messages API
(tests/fakes/messages_server.py) with a recognisable fake key, debug logging on and the response
cache recording, then annotates it with the LLM summarizer and trains a tiny critic. The drill
checks that the server received the key on every request (so the search below can find something)
and that no file the run wrote or touched holds it: results, logs, the LLM and embedding caches,
anything else in the workspace. It also checks that a 401 names the variable, not its value.
Then the same through the workflow (workflow_drill): `dvc repro` of the tiny Claude run, every
phase, and `snakemake --report`; the DVC cache, `.snakemake/` and the report are searched too.

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


def carries(request: dict, key: str) -> bool:
    """Whether a request the server received sent the key (the SDK sends it as `x-api-key` or as a
    bearer token, by version)."""
    return key in request["headers"].get("x-api-key", "") + request["headers"].get("authorization", "")


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
        keyed = sum(1 for r in server.received if carries(r, key))
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


def merged(base: dict, over: dict) -> dict:
    """`over` merged into `base` key by key, as Snakemake merges a --configfile over params.yaml."""
    out = dict(base)
    for k, v in over.items():
        out[k] = merged(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def workflow_drill(root: Path) -> dict[str, object]:
    """The tiny Claude workflow (tests/workflow/test_llm_workflows.py's shrunken copy, every role
    answered in format by tests/fakes/role_model.py) as a DVC pipeline: `dvc repro` runs every phase
    and moves its outputs into the DVC cache, then `snakemake --report` writes the HTML report, all
    with the key in the environment. No file of the workspace may hold the key: results, logs,
    `.snakemake/`, `.dvc/` (cache and temporary files), the LLM and embedding caches, the report."""
    sys.path.insert(0, str(REPO / "tests" / "workflow"))
    from loopback import copy_workflow, job_env, overrides

    from tests.fakes.role_model import RoleModel

    key = "sk-ant-drill-" + secrets.token_hex(16)
    root = copy_workflow(root / "workflow")
    env = {**job_env(root), "ANTHROPIC_API_KEY": key}
    for cmd in (["git", "init", "-q"], ["dvc", "init", "-q"]):
        subprocess.run(cmd, cwd=root, check=True, env=env)
    (root / "results" / "logs").mkdir(parents=True)
    with FakeMessagesServer(responder=RoleModel(), lifetime_s=1800.0) as server:
        params = merged(yaml.safe_load((root / "params.yaml").read_text()), overrides(server.url, "record"))
        params["llm"]["anthropic"]["max_retries"] = 1
        (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        for name, cmd in (("dvc-repro", ["dvc", "repro", "-v", "report"]),
                          ("report", ["snakemake", "--cores", "2", "--report", "results/report.html"])):
            with open(root / "results" / "logs" / f"{name}.log", "w") as log:
                done = subprocess.run(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, timeout=1800)
            if done.returncode:
                text = (root / "results" / "logs" / f"{name}.log").read_text()
                raise RuntimeError(f"{' '.join(cmd)} failed:\n{text[-3000:]}")
        requests = len(server.bodies())
        keyed = sum(1 for r in server.received if carries(r, key))
    cached = sum(1 for p in (root / ".dvc" / "cache").rglob("*") if p.is_file())
    return {
        "requests": requests,
        "requests carrying the key": keyed,
        "files written": sum(1 for p in root.rglob("*") if p.is_file()),
        "DVC cache files": cached,
        "report written": (root / "results" / "report.html").is_file(),
        "files holding the key": files_holding(root, key.encode()),
        "files holding its last 12 characters": files_holding(root, key[-12:].encode()),
    }


def workflow_passed(row: dict[str, object]) -> bool:
    return (row["requests"] > 0 and row["requests carrying the key"] == row["requests"]
            and row["DVC cache files"] > 0 and bool(row["report written"])
            and not row["files holding the key"] and not row["files holding its last 12 characters"])


def passed(row: dict[str, object]) -> bool:
    return (row["requests"] > 0 and row["requests carrying the key"] == row["requests"]
            and not row["files holding the key"] and not row["files holding its last 12 characters"]
            and row["401 exit"] != 0 and "ANTHROPIC_API_KEY" in str(row["401 message"]))


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="secrets-") as tmp:
        row = drill(Path(tmp) / "commands")
        flow = workflow_drill(Path(tmp))
    for title, r in (("commands", row), ("workflow (dvc repro, snakemake --report)", flow)):
        sys.stdout.write(f"{title}:\n")
        for k, v in r.items():
            sys.stdout.write(f"  {k}: {v}\n")
    ok = passed(row) and workflow_passed(flow)
    sys.stdout.write(f"requests={row['requests'] + flow['requests']} "
                     f"files_written={row['files written'] + flow['files written']} "
                     f"files_with_key={len(row['files holding the key']) + len(flow['files holding the key'])} "
                     f"passed={int(ok)}\n")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
