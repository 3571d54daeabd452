"""The tiny Claude workflow against the loopback Messages API (tests/fakes/messages_server.py):
a shrunken copy of the workflow, its `--configfile` overrides, a Snakemake run in it, the episode
records it wrote and the usage they recorded. Shared by tests/workflow/test_llm_workflows.py,
tests/workflow/test_fault_storm.py and drills/fault_storm.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from copies import WORKFLOW, copy_sources  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FAKE_KEY = f"sk-ant-fake-{uuid.uuid4()}"
ENVS = ("avalon", "webshop", "persuasion")
# Among them every role: thoughts and actions (react), goals and refinements (pnlc), probabilities
# (self_critique) and lessons (reflexion); pnlc reads the default critic, the only one trained.
METHODS = ["react", "pnlc", "self_critique", "reflexion"]
TRAIN_EPISODES, TEST_TASKS = 3, 1
MODEL = "claude-loopback-test"
PRICES = {"input": 3.0, "output": 15.0, "cache_read": 0.3, "cache_write": 3.75}  # USD per million tokens
USAGE_KEYS = ("calls", "input_tokens", "output_tokens", "cached_tokens")


def shrink(params: dict[str, Any]) -> dict[str, Any]:
    params["sizes"]["tiny"].update(
        train_episodes=TRAIN_EPISODES, shards=1, test_tasks=TEST_TASKS, critic_max_steps=10, methods=METHODS
    )
    params["train"]["critic"].update(batch_size=64, val_every_n_steps=5, log_every_n_steps=5)
    params["evaluate"].update(bootstrap_samples=100, reflexion_trials=2)  # max_steps as it is: games must end
    params["env"]["avalon"]["discussion"] = False
    params["env"]["persuasion"]["max_turns"] = 3
    params["env"]["webshop"]["max_steps"] = 3
    return params


def copy_workflow(root: Path) -> Path:
    root.mkdir(parents=True)
    copy_sources(REPO, root, WORKFLOW)
    params = shrink(yaml.safe_load((REPO / "params.yaml").read_text()))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return root


def overrides(url: str, cache_mode: str, spend_cap_usd: float = 1000.0, concurrency: int = 2) -> dict[str, Any]:
    """workflow/configs/tiny-anthropic.yaml with the loopback server, its model and short backoffs."""
    config = yaml.safe_load((REPO / "workflow/configs/tiny-anthropic.yaml").read_text())
    config["llm"] = {
        "cache_mode": cache_mode,
        "cache_dir": ".cache/llm",
        "concurrency": concurrency,
        "anthropic": {
            "model": MODEL, "base_url": url, "timeout_s": 30.0, "max_retries": 4, "backoff_base_s": 0.01,
            "backoff_max_s": 0.05, "prompt_caching": True, "spend_cap_usd": spend_cap_usd,
            "price_input_per_mtok": PRICES["input"], "price_output_per_mtok": PRICES["output"],
            "price_cached_per_mtok": PRICES["cache_read"], "price_cache_write_per_mtok": PRICES["cache_write"],
        },
    }
    return config


def job_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANTHROPIC_")}
    return {**env, "DVC_NO_ANALYTICS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(root / "src"),
            "ANTHROPIC_API_KEY": FAKE_KEY}


def snakemake(root: Path, config: dict[str, Any], *args: str) -> subprocess.CompletedProcess:
    (root / "anthropic.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    cmd = ["snakemake", "--cores", "2", "--configfile", "anthropic.yaml", *args]
    return subprocess.run(cmd, cwd=root, capture_output=True, text=True, env=job_env(root), timeout=900)


def succeeded(out: subprocess.CompletedProcess) -> None:
    assert out.returncode == 0, f"snakemake failed:\n{out.stdout[-3000:]}\n{out.stderr[-6000:]}"


def episodes(root: Path, phase: str) -> dict[str, list[dict[str, Any]]]:
    """Episode records by file (relative path) under results/trajectories or results/eval."""
    return {
        str(f.relative_to(root)): [json.loads(line) for line in f.read_text().splitlines() if line.strip()]
        for f in sorted((root / "results" / phase).rglob("*.jsonl"))
    }


def planned_files() -> dict[str, int]:
    """How many episode records each trajectory and evaluation file of a run should hold."""
    gen = {f"results/trajectories/{env}/anthropic/shard0.jsonl": TRAIN_EPISODES for env in ENVS}
    ev = {f"results/eval/{env}/anthropic/{m}/seed0.jsonl": TEST_TASKS for env in ENVS for m in METHODS}
    return {**gen, **ev}


def recorded_usage(root: Path) -> dict[str, float]:
    """Usage the run recorded: its episode records plus the LLM summarizer's usage files."""
    recorded = {**{k: 0 for k in USAGE_KEYS}, "cost_usd": 0.0}
    records = [ep for eps in [*episodes(root, "trajectories").values(), *episodes(root, "eval").values()]
               for ep in eps]
    sums = [ep["usage"] for ep in records] + [
        json.loads((root / f"results/annotations/{env}/anthropic.usage.json").read_text()) for env in ENVS]
    for usage in sums:
        for key in recorded:
            recorded[key] += usage[key]
    return recorded


def served_usage(served: list[dict[str, Any]]) -> dict[str, float]:
    """The same totals from the usage the server reported on the requests it answered, and their price."""
    return {
        "calls": len(served),
        "input_tokens": sum(u["input_tokens"] + u["cache_read_input_tokens"] + u["cache_creation_input_tokens"]
                            for u in served),
        "output_tokens": sum(u["output_tokens"] for u in served),
        "cached_tokens": sum(u["cache_read_input_tokens"] for u in served),
        "cost_usd": sum(u["input_tokens"] * PRICES["input"] + u["output_tokens"] * PRICES["output"]
                        + u["cache_read_input_tokens"] * PRICES["cache_read"]
                        + u["cache_creation_input_tokens"] * PRICES["cache_write"] for u in served) / 1e6,
    }
