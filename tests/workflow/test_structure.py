"""The workflow skeleton: Snakemake parses and plans, DVC stages call real Snakemake targets."""

import os
import re
import subprocess

import yaml

ENV = {**os.environ, "DVC_NO_ANALYTICS": "1"}


def snakemake_rules(repo) -> set[str]:
    out = subprocess.run(["snakemake", "--list-rules"], cwd=repo, capture_output=True, text=True, env=ENV)
    assert out.returncode == 0, out.stderr
    return {line.strip() for line in out.stdout.splitlines() if line.strip()}


def test_every_dvc_stage_calls_an_existing_snakemake_target(repo):
    rules = snakemake_rules(repo)
    for target in ("all", "generate_all", "annotate_all", "train_all", "evaluate_all"):
        assert target in rules
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    assert {"generate", "annotate", "train", "evaluate", "report"} <= set(stages)
    for name, stage in stages.items():
        m = re.fullmatch(r"snakemake --cores \d+ (\w+)", stage["cmd"])
        assert m, f"stage {name}: cmd must call a Snakemake target, got {stage['cmd']!r}"
        assert m.group(1) in rules, f"stage {name}: no Snakemake rule {m.group(1)}"


def test_dvc_stage_params_are_params_yaml_keys(repo):
    params = yaml.safe_load((repo / "params.yaml").read_text())
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        for key in stage.get("params", []):
            node = params
            for part in key.split("."):
                assert part in node, f"stage {name}: param {key} is not in params.yaml"
                node = node[part]


def test_dvc_outputs_persist(repo):
    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    for name, stage in stages.items():
        for out in stage.get("outs", []):
            (path, opts), = out.items()
            assert opts.get("persist") is True, f"stage {name}: {path} must persist"


def test_snakemake_dry_run_plans_the_whole_pipeline(repo):
    out = subprocess.run(["snakemake", "-n", "--forceall", "--cores", "2"], cwd=repo, capture_output=True, text=True, env=ENV)
    assert out.returncode == 0, out.stderr + out.stdout
    for rule in ("generate_trajectories", "annotate_trajectories", "train_critic", "evaluate_method",
                 "summarize_evaluation", "report_tables"):
        assert rule in out.stdout


def test_dvc_dag_lists_the_phases_in_order(repo):
    out = subprocess.run(["dvc", "dag", "--md"], cwd=repo, capture_output=True, text=True, env=ENV)
    assert out.returncode == 0, out.stderr
    names = dict(re.findall(r'(node\d+)\["(\w+)"\]', out.stdout))
    edges = {(names[a], names[b]) for a, b in re.findall(r"(node\d+)-->(node\d+)", out.stdout)}
    for edge in (("generate", "annotate"), ("annotate", "train"), ("train", "evaluate"), ("evaluate", "report")):
        assert edge in edges, out.stdout
