"""A shrunken copy of the real workflow runs once from scratch with `snakemake`; then, change by
change, `snakemake -n` and `dvc status` must name the same phases, and the cheap changes are rerun
with `dvc repro` or `snakemake` and must give back the from-scratch bytes with `dvc status` clean.
(drills/staleness_matrix.py reruns every case of the matrix, including the costly ones.)"""

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from copies import WORKFLOW, copy_sources

pytestmark = pytest.mark.slow

ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "HF_HUB_OFFLINE": "1"}
PHASES = ("generate", "annotate", "train", "evaluate", "report")
# Files that must repeat byte for byte (everything measured lives under results/timing/).
COMPARED = ("results/trajectories", "results/annotations", "results/metrics", "results/tables", "results/summary.json")


def run(cmd, cwd, env=ENV, timeout=900, stderr=True):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=env, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return out.stdout + out.stderr if stderr else out.stdout


def shrink(params: dict) -> dict:
    params["envs"] = ["avalon"]
    params["sizes"]["quick"].update(
        train_episodes=24, shards=2, test_tasks=3, critic_max_steps=10,
        methods=["react", "pnlc", "pnlc_const", "pnlc_data10"],
    )
    params["train"]["critic"].update(batch_size=64, val_every_n_steps=5, log_every_n_steps=5)
    params["evaluate"]["bootstrap_samples"] = 100
    params["train"]["ceiling"]["rollouts"] = 1
    params["sizes"]["mini"] = {**params["sizes"]["quick"], "test_tasks": 2}  # for `--config size=mini`
    return params


def copy_workflow(repo: Path, root: Path) -> None:
    copy_sources(repo, root, WORKFLOW)
    params = shrink(yaml.safe_load((repo / "params.yaml").read_text()))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], root)
    run(["dvc", "init", "-q"], root)


def job_env(root: Path, trace: bool = False) -> dict:
    """Jobs import the copied package; with `trace` they log every module they import."""
    return {**ENV, "PYTHONPATH": str(root / "src"), **({"PYTHONPROFILEIMPORTTIME": "1"} if trace else {})}


def snapshot(root: Path, names=COMPARED) -> dict[str, bytes]:
    """The bytes of every file under `names` (files or folders), by path."""
    files = {}
    for name in names:
        path = root / name
        for f in sorted([path] if path.is_file() else path.rglob("*")):
            if f.is_file() and f.name != ".gitignore":
                files[str(f.relative_to(root))] = f.read_bytes()
    return files


REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("wf")
    copy_workflow(REPO, root)
    run(["snakemake", "--cores", "2"], root, env=job_env(root, trace=True))
    return root


@pytest.fixture(scope="module")
def baseline(workdir):
    return snapshot(workdir)


def rule_phases(root: Path) -> dict[str, str]:
    spec = yaml.safe_load((root / "workflow" / "phases.yaml").read_text())
    return {rule: s["phase"] for rule, s in spec["rules"].items()}


def snakemake_phases(root: Path, *args: str) -> set[str]:
    """Phases with jobs in `snakemake -n` (its job-stats table)."""
    out = run(["snakemake", "-n", "--cores", "2", *args], root, env=job_env(root))
    phase_of = rule_phases(root)
    if "Nothing to be done" in out:
        return set()
    table = out.split("Job stats:")[1].split("total")[0]
    return {phase_of[w] for line in table.splitlines() for w in line.split()[:1] if w in phase_of}


def dvc_phases(root: Path, out: str | None = None) -> set[str]:
    """Stages `dvc status` reports as changed (the P4G stage, never run here, aside)."""
    if out is None:
        out = run(["dvc", "status", "--json"], root, stderr=False)
    return {s for s in json.loads(out or "{}") if s in PHASES}


def assert_agree(root: Path) -> set[str]:
    """`snakemake -n` and `dvc status` name the same stale phases: Snakemake plans jobs in every phase
    DVC reports and, after them, only in phases DVC will rerun on their new outputs (Snakemake
    knows per job when a later phase does not read what changed)."""
    dvc = subprocess.Popen(["dvc", "status", "--json"], cwd=root, stdout=subprocess.PIPE, text=True, env=ENV)
    planned = snakemake_phases(root)
    stdout, _ = dvc.communicate(timeout=600)
    assert dvc.returncode == 0, "dvc status failed"
    direct = dvc_phases(root, stdout)
    after = set(PHASES[min(PHASES.index(p) for p in direct):]) if direct else set()
    assert direct <= planned <= after, f"dvc status: {sorted(direct)}; snakemake -n: {sorted(planned)}"
    return planned


def stages_run(output: str) -> set[str]:
    return {s for s in PHASES + ("p4g",) if f"Running stage '{s}'" in output}


def edit_params(root: Path, key: str, value) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    node = params
    *parents, last = key.split(".")
    for part in parents:
        node = node[part]
    node[last] = value
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def test_snakemake_runs_end_to_end_and_leaves_dvc_clean(workdir, baseline):
    for path in (
        "results/trajectories/avalon/sim/shard0.jsonl",
        "results/annotations/avalon/sim.npz",
        "results/critic/avalon/sim/default/seed0/critic.ckpt",
        "results/critic/avalon/sim/data10/seed0/metrics.json",
        "results/critic/avalon/sim/ceiling/seed0.json",
        "results/eval/avalon/sim/pnlc/seed0.jsonl",
        "results/metrics/eval/avalon_sim.json",
        "results/timing/eval/avalon_sim.json",
        "results/tables/main_sim.md",
        "results/tables/critic_sim.md",
        "results/viewer/avalon/sim/pnlc_seed0.html",
        "results/timing/report/pipeline_cost_sim.md",
        "results/timing/report/decision_time_sim.md",
        "results/timing/benchmarks/train_critic/avalon/sim/default/seed0.tsv",
        "results/tables/controls_sim.md",
        "results/figures/controls_sim.png",
        "results/tables/critic_quality_vs_agent_sim.csv",
        "results/figures/critic_quality_vs_agent_sim.png",
    ):
        assert (workdir / path).exists(), path
    # only the critics the methods read are trained (and the default): no method here reads the scalar one
    assert not (workdir / "results/critic/avalon/sim/scalar").exists()
    assert "SIMULATED" in (workdir / "results/tables/critic_sim.md").read_text()
    controls = (workdir / "results/tables/controls_sim.md").read_text()
    assert "PNLC, base-rate critic (control)" in controls and "PNLC − control" in controls
    assert "PNLC, critic of 10 % data" in (workdir / "results/tables/critic_quality_vs_agent_sim.md").read_text()
    cost = (workdir / "results/timing/report/pipeline_cost_sim.md").read_text()
    assert all(phase in cost for phase in PHASES)
    metrics = (workdir / "results/metrics/eval/avalon_sim.json").read_text()
    assert '"seconds"' not in metrics and '"critic_ms' not in metrics  # measured fields live in results/timing
    assert assert_agree(workdir) == set()
    assert stages_run(run(["dvc", "repro", "report"], workdir)) == set()


def test_jobs_import_only_the_code_their_rule_declares(workdir):
    """Every pnlc module a job imported (its log, with PYTHONPROFILEIMPORTTIME) is under the code
    its rule declares in workflow/phases.yaml, so a change to it makes the job stale."""
    spec = yaml.safe_load((workdir / "workflow" / "phases.yaml").read_text())
    for rule, rule_spec in spec["rules"].items():
        if rule in ("p4g_critic", "report_answer_forms"):  # not run here: P4G data, an LLM backend
            continue
        declared = [p.removeprefix("src/").removesuffix(".py").removesuffix("/__init__").replace("/", ".")
                    for p in spec["common_code"] + rule_spec["code"] if p.startswith("src/")]
        logs = list((workdir / "results" / "logs" / rule).rglob("*.log"))
        assert logs, rule
        for log in logs:
            modules = {line.split("|")[-1].strip() for line in log.read_text().splitlines() if line.startswith("import time:")}
            for module in sorted(m for m in modules if m.startswith("pnlc.")):
                assert any(module == d or module.startswith(d + ".") for d in declared), (
                    f"{rule} imports {module}, which workflow/phases.yaml does not list under its code"
                )


# (change, expected phases): a source file of each phase and one key of every section a job reads
SOURCE_CHANGES = [
    ("src/pnlc/pipeline/generate.py", {"generate", "annotate", "train", "evaluate", "report"}),
    ("src/pnlc/pipeline/annotate.py", {"annotate", "train", "evaluate", "report"}),
    ("src/pnlc/value/losses.py", {"train", "evaluate", "report"}),
    ("src/pnlc/agents/methods.py", {"generate", "annotate", "train", "evaluate", "report"}),
    ("src/pnlc/pipeline/evaluate.py", {"evaluate", "report"}),
    ("src/pnlc/pipeline/report.py", {"report"}),
]
PARAM_CHANGES = [
    ("sizes.quick.train_episodes", 30),  # data10 keeps 10 % of the training split: at least 2 episodes
    ("sizes.quick.critic_max_steps", 12),
    ("sizes.quick.test_tasks", 4),
    ("sizes.quick.methods", ["react", "pnlc", "scalar_critic"]),
    ("env.avalon.discussion", False),
    ("agents.sim.avalon.value_noise", 0.2),
    ("generate.seed", 7),
    ("embed.max_length", 128),
    ("llm.policy.temperature", 0.5),
    ("train.critic.expectile", 0.7),
    ("train.variants.default", {"expectile": 0.6}),
    ("train.ceiling.rollouts", 2),
    ("evaluate.n_pos", 3),
    ("evaluate.bootstrap_samples", 150),
    ("report.viewer_episodes", 2),
    ("envs", ["avalon", "webshop"]),
    ("size", "mini"),  # the same jobs as `--config size=mini`, recorded this time
]


@pytest.mark.parametrize("path,expected", SOURCE_CHANGES, ids=[c[0] for c in SOURCE_CHANGES])
def test_a_source_change_is_stale_to_snakemake_and_dvc_alike(workdir, baseline, path, expected):
    file = workdir / path
    original = file.read_text()
    file.write_text(original + "\n# changed\n")
    try:
        assert assert_agree(workdir) == expected
    finally:
        file.write_text(original)


@pytest.mark.parametrize("key,value", PARAM_CHANGES, ids=[c[0] for c in PARAM_CHANGES])
def test_a_params_change_is_stale_to_snakemake_and_dvc_alike(workdir, baseline, key, value):
    original = (workdir / "params.yaml").read_text()
    edit_params(workdir, key, value)
    try:
        assert assert_agree(workdir)
    finally:
        (workdir / "params.yaml").write_text(original)


def test_dvc_repro_reruns_a_report_change_only_and_gives_back_the_same_bytes(workdir, baseline):
    file = workdir / "src/pnlc/pipeline/report.py"
    original = file.read_text()
    file.write_text(original + "\n# changed\n")
    try:
        assert stages_run(run(["dvc", "repro", "report"], workdir, env=job_env(workdir))) == {"report"}
        assert assert_agree(workdir) == set()
    finally:
        file.write_text(original)
    assert stages_run(run(["dvc", "repro", "report"], workdir, env=job_env(workdir))) == {"report"}
    assert snapshot(workdir) == baseline


def test_an_override_reaches_the_jobs_and_never_the_lock(workdir, baseline, tmp_path):
    """`snakemake --configfile` (as --config and profiles) runs the jobs with the override and
    leaves dvc.lock alone, so DVC sees outputs it did not record; `dvc repro` then restores the
    params.yaml results."""
    lock = (workdir / "dvc.lock").read_text()
    override = tmp_path / "override.yaml"
    override.write_text("evaluate:\n  seed: 7\n")
    run(["snakemake", "--cores", "2", "--configfile", str(override)], workdir, env=job_env(workdir))
    assert (workdir / "dvc.lock").read_text() == lock
    assert snapshot(workdir) != baseline
    assert dvc_phases(workdir) == {"evaluate", "report"}
    assert stages_run(run(["dvc", "repro", "report"], workdir, env=job_env(workdir))) == {"evaluate", "report"}
    assert snapshot(workdir) == baseline
    assert assert_agree(workdir) == set()


def test_a_params_change_rerun_by_snakemake_is_recorded_for_dvc(workdir, baseline):
    original = (workdir / "params.yaml").read_text()
    edit_params(workdir, "evaluate.bootstrap_samples", 150)
    try:
        assert assert_agree(workdir) == {"evaluate", "report"}
        run(["snakemake", "--cores", "2"], workdir, env=job_env(workdir))
        assert assert_agree(workdir) == set()
        assert snapshot(workdir) != baseline
    finally:
        (workdir / "params.yaml").write_text(original)
    assert stages_run(run(["dvc", "repro", "report"], workdir, env=job_env(workdir))) == {"evaluate", "report"}
    assert snapshot(workdir) == baseline


def test_a_deleted_output_is_rebuilt_with_the_same_bytes(workdir, baseline):
    (workdir / "results/metrics/eval/avalon_sim.json").unlink()
    assert assert_agree(workdir) == {"evaluate", "report"}
    run(["dvc", "repro", "report"], workdir, env=job_env(workdir))
    assert snapshot(workdir) == baseline
    assert assert_agree(workdir) == set()


def test_plan_scales_the_recorded_jobs_to_another_size(workdir, tmp_path):
    """`pnlc plan` lists the jobs Snakemake would run at size mini (2 test tasks instead of 3) and
    costs each evaluation at 2/3 of the recorded one, everything before evaluation unchanged."""
    from pnlc.pipeline.report import read_benchmark

    run([sys.executable, "-m", "pnlc.cli", "plan", "--size", "mini", "--out-dir", str(tmp_path), "--nodes", "2"],
        workdir, env=job_env(workdir))
    rows = {r["Phase"]: r for r in csv.DictReader((tmp_path / "plan_mini_sim.csv").open())}
    bench = workdir / "results/timing/benchmarks"
    seconds = {rule: sum(read_benchmark(f)["wall_s"] for f in (bench / rule).rglob("*.tsv"))
               for rule in ("evaluate_method", "summarize_evaluation", "train_critic", "outcome_ceiling")}
    assert rows["evaluate"]["Jobs"] == "5"  # four methods, one seed, and their summary
    assert float(rows["evaluate"]["Job s (sum)"]) == pytest.approx(
        (seconds["evaluate_method"] + seconds["summarize_evaluation"]) * 2 / 3, abs=1)
    assert float(rows["train"]["Job s (sum)"]) == pytest.approx(
        seconds["train_critic"] + seconds["outcome_ceiling"], abs=1)
    assert int(rows["evaluate"]["API calls"].replace(",", "")) > 0
    assert rows["total"]["Jobs"] == str(sum(int(r["Jobs"]) for p, r in rows.items() if p != "total"))
