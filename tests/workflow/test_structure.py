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
    for target in ("all", "generate_all", "annotate_all", "train_all", "evaluate_all", "report_all", "p4g_all"):
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
            for part in key.replace("${size}", params["size"]).split("."):
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


def phases_spec(repo) -> dict:
    return yaml.safe_load((repo / "workflow" / "phases.yaml").read_text())


def test_dvc_stages_declare_what_the_rules_run_and_read(repo):
    """dvc.yaml is derived from workflow/phases.yaml: each stage's code deps and params are exactly
    those of its rules, so `dvc status` and Snakemake judge staleness from the same list."""
    from dvc_stages import expected_stages

    stages = yaml.safe_load((repo / "dvc.yaml").read_text())["stages"]
    for phase, want in expected_stages(repo).items():
        stage = stages[phase]
        code = sorted(d for d in stage["deps"] if d.startswith(("src/", "workflow/")))
        assert code == want["code"], f"dvc.yaml stage {phase}: deps should list the code\n{yaml.safe_dump(want['code'])}"
        assert sorted(stage["params"]) == want["params"], (
            f"dvc.yaml stage {phase}: params should be\n{yaml.safe_dump(want['params'])}"
        )


def test_every_rule_is_declared_with_its_code_reads_and_benchmark(repo):
    spec = phases_spec(repo)
    targets = {"all", "generate_all", "annotate_all", "train_all", "evaluate_all", "report_all", "p4g_all"}
    rules = snakemake_rules(repo) - targets
    assert rules == set(spec["rules"]), "every job rule needs an entry in workflow/phases.yaml"
    text = "".join(p.read_text() for p in (repo / "workflow" / "rules").glob("*.smk"))
    for rule in rules:
        body = text.split(f"rule {rule}:")[1].split("\nrule ")[0]
        assert f'job_config("{rule}")' in body and f'code_hash("{rule}")' in body, rule
        assert "--config-json {params.config:q}" in body, f"rule {rule}: the job must receive its configuration"
        if rule != "report_pipeline_cost":
            assert "benchmark:" in body, f"rule {rule} has no benchmark: file"
    for path in spec["common_code"] + [p for r in spec["rules"].values() for p in r["code"]]:
        assert (repo / path).exists(), f"workflow/phases.yaml: {path} does not exist"


def test_every_report_caption_is_used_by_a_declared_output(repo):
    text = "".join(p.read_text() for p in (repo / "workflow" / "rules").glob("*.smk"))
    for caption in (repo / "workflow" / "report").glob("*.rst"):
        assert f'"{caption.stem}"' in text or f"report/{caption.name}" in text, f"{caption.name} is captioning nothing"


def dry_run_commands(repo, *args) -> list[str]:
    out = subprocess.run(
        ["snakemake", "-n", "-p", "--forceall", "--cores", "2", *args],
        cwd=repo, capture_output=True, text=True, env=ENV,
    )
    assert out.returncode == 0, out.stderr + out.stdout
    prefix = "Shell command: "
    return sorted(line[len(prefix):] for line in out.stdout.splitlines() if line.startswith(prefix))


def test_command_line_config_reaches_every_job_as_an_edited_params_file_does(repo, tmp_path):
    """`snakemake --config size=paper` plans the same jobs, with the same configuration, as
    `size: paper` written in params.yaml; neither matches the quick size's jobs."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["size"] = "paper"
    edited = tmp_path / "paper.yaml"
    edited.write_text(yaml.safe_dump(params, sort_keys=False))
    by_flag = dry_run_commands(repo, "--config", "size=paper")
    by_file = dry_run_commands(repo, "--configfile", str(edited))
    quick = dry_run_commands(repo)
    assert by_flag == by_file
    assert by_flag != quick and any('"paper"' in c for c in by_flag)
    assert all("--params" not in c for c in by_flag), "a job re-read params.yaml instead of its configuration"


def planned_resources(repo, *args) -> dict[str, dict[str, str]]:
    """Per rule, the resources `snakemake -n` plans for its jobs (one job's, the largest runtime)."""
    out = subprocess.run(["snakemake", "-n", "--forceall", "--cores", "2", *args],
                         cwd=repo, capture_output=True, text=True, env=ENV)
    assert out.returncode == 0, out.stderr + out.stdout
    planned: dict[str, dict[str, str]] = {}
    rule = None
    for line in out.stdout.splitlines():
        if line.startswith(("rule ", "localrule ")):
            rule = line.split()[1].rstrip(":")
        elif line.strip().startswith("resources:") and rule:
            found = dict(kv.split("=", 1) for kv in line.split(":", 1)[1].strip().split(", "))
            if int(found.get("runtime", 0)) >= int(planned.get(rule, {}).get("runtime", 0)):
                planned[rule] = found
    return planned


def test_every_job_declares_the_resources_a_cluster_schedules_it_by(repo):
    """Every rule with a command asks for memory and a time limit, critic training for a GPU;
    jobs ask for `llm_calls` only when they call an LLM; limits grow with the configured size."""
    quick = planned_resources(repo)
    jobs = set(phases_spec(repo)["rules"]) - {"p4g_critic", "report_answer_forms"}  # the latter: LLM backends
    assert jobs <= set(quick), f"no resources planned for {sorted(jobs - set(quick))}"
    for rule in jobs:
        assert int(quick[rule]["mem_mb"]) >= 512 and int(quick[rule]["runtime"]) >= 10, (rule, quick[rule])
    assert quick["train_critic"]["gpu"] == "1"
    assert all(quick[r].get("llm_calls", "0") == "0" for r in jobs), "simulated jobs call no LLM"
    anthropic = planned_resources(repo, "--config", "backend=anthropic")
    assert anthropic["generate_trajectories"]["llm_calls"] == anthropic["evaluate_method"]["llm_calls"] == "1"
    assert anthropic["annotate_trajectories"]["llm_calls"] == "0"  # annotate.summarizer: describe
    assert int(anthropic["report_answer_forms"]["mem_mb"]) >= 512 and "llm_calls" not in anthropic["report_answer_forms"]
    paper = planned_resources(repo, "--config", "size=paper")
    for rule in ("annotate_trajectories", "train_critic", "outcome_ceiling"):
        assert int(paper[rule]["runtime"]) > int(quick[rule]["runtime"]), rule
    assert int(paper["annotate_trajectories"]["mem_mb"]) > int(quick["annotate_trajectories"]["mem_mb"])


def test_profiles_cap_llm_calling_jobs(repo):
    """Both profiles bound the jobs that call an LLM at once; the SLURM one submits to SLURM."""
    profiles = repo / "workflow" / "profiles"
    local = yaml.safe_load((repo / "profiles" / "default" / "config.yaml").read_text())
    slurm = yaml.safe_load((profiles / "slurm" / "config.yaml").read_text())
    assert slurm["executor"] == "slurm"
    for profile in (local, slurm):
        assert isinstance(profile["resources"]["llm_calls"], int) and profile["resources"]["llm_calls"] >= 1


def test_a_plain_snakemake_run_uses_the_default_profile(repo):
    """Snakemake finds a default workflow profile only in profiles/default next to the Snakefile: its
    caps and `rerun-incomplete` must reach a run started without flags."""
    import os
    import subprocess

    env = {**os.environ, "PYTHONPATH": str(repo / "src"), "DVC_NO_ANALYTICS": "1"}
    out = subprocess.run(["snakemake", "-n", "--cores", "1"], cwd=repo, capture_output=True, text=True, env=env,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Using workflow specific profile profiles/default" in out.stdout + out.stderr
    local = yaml.safe_load((repo / "profiles" / "default" / "config.yaml").read_text())
    assert local["rerun-incomplete"] is True
