"""`pnlc estimate`: per-episode usage of a small recorded run scaled to the configured size, priced;
and the report's estimated-vs-actual table."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
import yaml

from pnlc.cli import main
from pnlc.config import ConfigError, params_from_dict
from pnlc.data import Episode, Step, Usage, write_jsonl
from pnlc.pipeline.estimate import (
    NO_CALLS,
    NO_RECORD,
    RECORDED,
    ROUGH,
    estimate,
    estimate_table,
    find_recorded,
    read_estimate,
    write_cost_estimate,
)


def episode(method: str, steps: int, calls: int, tokens_in: int, tokens_out: int, cached: int = 0,
            backend: str = "anthropic") -> Episode:
    played = tuple(Step(index=t, observation=f"obs {t}", state_summary=f"state {t}", thought="t", action="a",
                        reward=0.0, done=t == steps - 1) for t in range(steps))
    return Episode(env="avalon", task_id="test-0", seed=0, policy=method, backend=backend, model="claude-test",
                   steps=played, final_observation="end", final_summary="Good wins.", outcome={}, metric=1.0,
                   usage=Usage(calls=calls, input_tokens=tokens_in, output_tokens=tokens_out, cached_tokens=cached))


ANNOTATION_USAGE = {"summarizer": "llm", "model": "claude-test", "calls": 7, "input_tokens": 700,
                    "output_tokens": 70, "cached_tokens": 0, "episodes": 2, "steps": 5, "forms": {}}


def record_run(root: Path, backend: str = "anthropic", annotation: dict | None = ANNOTATION_USAGE) -> Path:
    """A recorded avalon run: 2 generated episodes (5 steps, 10 calls, 2400 / 240 tokens, 1000 cached),
    react evaluated on two seeds (mean 3 calls, 400 / 40 tokens, 50 cached), pnlc not evaluated."""
    results = root / "results"
    write_jsonl(results / "trajectories" / "avalon" / backend / "shard0.jsonl",
                [episode("prior", 2, 4, 1000, 100, 400, backend), episode("prior", 3, 6, 1400, 140, 600, backend)])
    write_jsonl(results / "eval" / "avalon" / backend / "react" / "seed0.jsonl",
                [episode("react", 2, 2, 300, 30, 0, backend)])
    write_jsonl(results / "eval" / "avalon" / backend / "react" / "seed1.jsonl",
                [episode("react", 2, 4, 500, 50, 100, backend)])
    if annotation is not None:
        path = results / "annotations" / "avalon" / f"{backend}.usage.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(annotation))
    return root


def config(repo: Path, **edits) -> dict:
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw = copy.deepcopy(raw)
    raw["sizes"]["big"] = {"train_episodes": 100, "shards": 2, "test_tasks": 10, "eval_seeds": [0, 1],
                           "critic_seeds": [0], "critic_max_steps": 10, "methods": ["react", "pnlc"]}
    raw.update(size="big", backend="anthropic", envs=["avalon"])
    raw["annotate"]["summarizer"] = "llm"
    raw["llm"]["anthropic"].update(price_input_per_mtok=3.0, price_output_per_mtok=15.0, price_cached_per_mtok=0.3)
    for key, value in edits.items():
        node = raw
        *parents, last = key.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    return raw


def rows_by_key(doc: dict) -> dict[tuple[str, str, str], dict]:
    return {(r["env"], r["phase"], r["method"]): r for r in doc["rows"]}


def test_recorded_means_are_scaled_to_the_configured_size_and_priced(repo, tmp_path):
    doc = estimate(params_from_dict(config(repo)), record_run(tmp_path / "rec"))
    rows = rows_by_key(doc)
    gen = rows[("avalon", "generate", "")]
    # 5 calls, 1200 / 120 tokens, 500 cached per episode, times 100 episodes
    assert (gen["episodes"], gen["recorded"], gen["basis"]) == (100, 2, RECORDED)
    assert (gen["calls"], gen["input_tokens"], gen["output_tokens"], gen["cached_tokens"]) == (500, 120000, 12000, 50000)
    assert gen["usd"] == pytest.approx((70000 * 3 + 50000 * 0.3 + 12000 * 15) / 1e6)
    ann = rows[("avalon", "annotate", "")]
    assert (ann["basis"], ann["calls"], ann["input_tokens"], ann["output_tokens"]) == (RECORDED, 350, 35000, 3500)
    react = rows[("avalon", "evaluate", "react")]
    # 10 test tasks x 2 seeds
    assert (react["episodes"], react["calls"], react["input_tokens"], react["output_tokens"]) == (20, 60, 8000, 800)
    assert react["usd"] == pytest.approx((7000 * 3 + 1000 * 0.3 + 800 * 15) / 1e6)
    pnlc = rows[("avalon", "evaluate", "pnlc")]
    assert pnlc["basis"] == NO_RECORD and pnlc["calls"] == 0
    total = doc["totals"]["all"]
    assert total["calls"] == 910
    assert total["usd"] == pytest.approx(gen["usd"] + ann["usd"] + react["usd"])
    assert doc["totals"]["avalon"] == total
    assert doc["recorded"] == {"root": str(tmp_path / "rec"), "backend": "anthropic", "simulated": False,
                               "models": ["claude-test"]}
    assert any("No record" in n and "avalon/pnlc" in n for n in doc["notes"])


def test_test_tasks_are_capped_by_the_test_split(repo, tmp_path):
    raw = config(repo, **{"env.avalon.n_test_tasks": 4})
    doc = estimate(params_from_dict(raw), record_run(tmp_path / "rec"))
    react = rows_by_key(doc)[("avalon", "evaluate", "react")]
    assert (react["episodes"], react["calls"]) == (8, 24)  # 4 tasks x 2 seeds


def test_without_annotation_usage_the_llm_summarizer_is_counted_per_step_and_flagged_rough(repo, tmp_path):
    doc = estimate(params_from_dict(config(repo)), record_run(tmp_path / "rec", annotation=None))
    ann = rows_by_key(doc)[("avalon", "annotate", "")]
    # (5 steps + 2 final states) / 2 episodes x 100; generation's 240 input and 24 output tokens per call
    assert (ann["basis"], ann["calls"], ann["input_tokens"], ann["output_tokens"]) == (ROUGH, 350, 84000, 8400)
    assert "annotations/avalon/anthropic.usage.json" in ann["note"]
    assert any("rough" in n for n in doc["notes"])
    assert "rough" in estimate_table(doc).to_markdown()


def test_the_describe_summarizer_calls_nothing(repo, tmp_path):
    doc = estimate(params_from_dict(config(repo, **{"annotate.summarizer": "describe"})), record_run(tmp_path / "rec"))
    ann = rows_by_key(doc)[("avalon", "annotate", "")]
    assert (ann["basis"], ann["calls"], ann["usd"]) == (NO_CALLS, 0, 0)
    assert doc["totals"]["all"]["calls"] == 560


def test_a_simulated_record_says_its_tokens_are_words(repo, tmp_path):
    doc = estimate(params_from_dict(config(repo)), record_run(tmp_path / "rec", backend="sim"))
    assert doc["recorded"]["backend"] == "sim" and doc["recorded"]["simulated"]
    assert any("words" in n for n in doc["notes"])


def test_missing_records_are_errors_that_name_the_folder(repo, tmp_path):
    params = params_from_dict(config(repo))
    with pytest.raises(ConfigError, match=r"nowhere/results does not exist"):
        estimate(params, tmp_path / "nowhere")
    (tmp_path / "empty" / "results").mkdir(parents=True)
    with pytest.raises(ConfigError, match=r"no recorded trajectories of avalon under .*results/trajectories/avalon"):
        estimate(params, tmp_path / "empty")
    root = record_run(tmp_path / "two")
    record_run(root, backend="sim")
    with pytest.raises(ConfigError, match=r"--recorded-backend"):
        find_recorded(root, ["avalon"])
    assert find_recorded(root, ["avalon"], "sim").backend == "sim"
    bad = record_run(tmp_path / "bad")
    (bad / "results" / "annotations" / "avalon" / "anthropic.usage.json").write_text('{"summarizer": "llm"}')
    with pytest.raises(ValueError, match=r"anthropic.usage.json: not an annotation usage file"):
        estimate(params, bad)


def test_the_command_prints_the_table_and_writes_the_json(repo, tmp_path, capsys):
    params_file = tmp_path / "params.yaml"
    params_file.write_text(yaml.safe_dump(config(repo)))
    root = record_run(tmp_path / "rec")
    out = tmp_path / "est" / "estimate.json"
    out.parent.mkdir()
    assert main(["--params", str(params_file), "estimate", "--from", str(root), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| avalon | evaluate | pnlc | 20 | – | – | – | – | – | no record |" in printed
    assert "| all | total |  |  | 910 |" in printed
    doc = read_estimate(out)
    assert doc["totals"]["all"]["calls"] == 910 and doc["size"] == "big"
    assert sorted(p.name for p in out.parent.iterdir()) == ["estimate.json"]  # no temporary file left
    assert main(["--params", str(params_file), "estimate", "--from", str(tmp_path / "nowhere")]) == 2
    assert "nowhere/results does not exist" in capsys.readouterr().err


def test_the_report_sets_the_estimate_against_the_run_own_records(repo, tmp_path):
    estimate(params_from_dict(config(repo)), record_run(tmp_path / "rec"), out=tmp_path / "estimate.json")
    # the run itself: 100 generated episodes at 6 calls each, react on 20 episodes at 2 calls, 10 in, 1 out
    run = tmp_path / "run" / "results"
    shards = [run / "trajectories" / "avalon" / "anthropic" / f"shard{k}.jsonl" for k in (0, 1)]
    for shard in shards:
        write_jsonl(shard, [episode("prior", 2, 6, 1000, 100, 500)] * 50)
    evals = [run / "eval" / "avalon" / "anthropic" / "react" / f"seed{s}.jsonl" for s in (0, 1)]
    for path in evals:
        write_jsonl(path, [episode("react", 2, 2, 10, 1)] * 10)
    usage = run / "annotations" / "avalon" / "anthropic.usage.json"
    usage.parent.mkdir(parents=True)
    usage.write_text(json.dumps({**ANNOTATION_USAGE, "calls": 400, "episodes": 100}))
    written = write_cost_estimate(tmp_path / "estimate.json", "anthropic", shards, evals, [usage],
                                  ["react", "pnlc"], run / "tables")
    assert sorted(p.name for p in written) == ["cost_estimate.csv", "cost_estimate.md", "cost_estimate.tex"]
    lines = (run / "tables" / "cost_estimate.csv").read_text().splitlines()
    assert lines[0].startswith("Env,Phase,Method,Calls est.,Calls actual,")
    # calls, input and output tokens, USD: estimated then actual; actual / estimated USD
    assert lines[1] == "avalon,generate,–,500,600,\"120,000\",\"100,000\",\"12,000\",\"10,000\",0.4050,0.3150,0.78"
    assert lines[2].startswith("avalon,annotate,–,350,400,\"35,000\",700,")
    assert lines[3].startswith("avalon,evaluate,react,60,40,\"8,000\",200,800,20,")
    assert lines[4].startswith("avalon,evaluate,pnlc,–,–,")
    assert lines[5].startswith("all,total,,910,\"1,040\",")


def test_a_file_that_is_not_an_estimate_is_refused(tmp_path):
    (tmp_path / "other.json").write_text('{"what": "something else"}')
    with pytest.raises(ValueError, match=r"other.json: not a `pnlc estimate --out` file"):
        read_estimate(tmp_path / "other.json")
    with pytest.raises(ConfigError, match=r"report.cost_estimate: .*missing.json does not exist"):
        read_estimate(tmp_path / "missing.json")


def test_the_report_command_passes_the_estimate_and_records_on(monkeypatch, tmp_path):
    import pnlc.pipeline.report as report_module

    seen = {}
    monkeypatch.setattr(report_module, "report", lambda *args: seen.setdefault("args", args))
    argv = ["report", "--metrics", "m.json", "--out-dir", "results", "--timing-dir", "t",
            "--cost-estimate", "est.json", "--trajectories", "a.jsonl", "b.jsonl", "--annotation-usage", "u.json"]
    assert main(["--params", str(Path(__file__).resolve().parents[2] / "params.yaml"), *argv]) == 0
    assert seen["args"][-3:] == (Path("est.json"), [Path("a.jsonl"), Path("b.jsonl")], [Path("u.json")])


def test_the_key_is_off_by_default(repo):
    params = params_from_dict(yaml.safe_load((repo / "params.yaml").read_text()))
    assert params.section("report").cost_estimate is None
