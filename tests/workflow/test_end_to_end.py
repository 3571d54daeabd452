"""A shrunken copy of the real workflow runs end to end with `snakemake`, then DVC takes over:
nothing to do right after, and a critic hyper-parameter change reruns only training onwards."""

import os
import shutil
import subprocess

import pytest
import yaml

pytestmark = pytest.mark.slow

ENV = {**os.environ, "DVC_NO_ANALYTICS": "1", "HF_HUB_OFFLINE": "1"}


def run(cmd, cwd, timeout=900):
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=ENV, timeout=timeout)
    assert out.returncode == 0, f"{' '.join(cmd)} failed:\n{out.stdout[-4000:]}\n{out.stderr[-4000:]}"
    return out.stdout + out.stderr


def shrink(params: dict) -> dict:
    quick = params["sizes"]["quick"]
    quick.update(train_episodes=40, shards=2, test_tasks=8, critic_max_steps=40,
                 methods=["react", "reflexion", "self_critique", "best_of_n", "scalar_critic",
                          "lats_n5", "pnlc", "pnlc_const", "pnlc_data10", "oracle"])
    params["train"]["critic"].update(batch_size=128, val_every_n_steps=20, log_every_n_steps=10)
    params["evaluate"]["bootstrap_samples"] = 200
    params["train"]["ceiling"]["rollouts"] = 2
    return params


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    root = tmp_path_factory.mktemp("wf")
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    for name in ("Snakefile", "dvc.yaml", "workflow", "src"):
        src = os.path.join(repo, name)
        if os.path.isdir(src):
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(src, root / name)
    params = shrink(yaml.safe_load(open(os.path.join(repo, "params.yaml"))))
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    run(["git", "init", "-q"], root)
    run(["dvc", "init", "-q"], root)
    shutil.copy(os.path.join(repo, ".dvcignore"), root / ".dvcignore")
    return root


def stages_run(output: str) -> set[str]:
    return {s for s in ("generate", "annotate", "train", "evaluate", "report") if f"Running stage '{s}'" in output}


def test_snakemake_runs_avalon_end_to_end(workdir):
    run(["snakemake", "--cores", "2"], workdir)
    for path in (
        "results/trajectories/avalon/sim/shard0.jsonl",
        "results/annotations/avalon/sim.npz",
        "results/critic/avalon/sim/default/seed0/critic.ckpt",
        "results/critic/avalon/sim/scalar/seed0/metrics.json",
        "results/critic/avalon/sim/ceiling/seed0.json",
        "results/tables/critic_sim.md",
        "results/eval/avalon/sim/pnlc/seed0.jsonl",
        "results/metrics/eval_avalon_sim.json",
        "results/tables/main_sim.md",
        "results/figures/metric_sim.png",
        "results/summary.json",
        "results/tables/controls_sim.md",
        "results/figures/controls_sim.png",
        "results/tables/critic_quality_vs_agent_sim.csv",
        "results/figures/critic_quality_vs_agent_sim.png",
    ):
        assert (workdir / path).exists(), path
    table = (workdir / "results/tables/main_sim.md").read_text()
    assert "simulated" in table.lower()
    critic_table = (workdir / "results/tables/critic_sim.md").read_text()
    assert "Good wins the game." in critic_table and "Ceiling AUC" in critic_table and "SIMULATED" in critic_table
    controls = (workdir / "results/tables/controls_sim.md").read_text()
    assert "PNLC, base-rate critic (control)" in controls and "PNLC − control" in controls
    assert "PNLC, critic of 10 % data" in (workdir / "results/tables/critic_quality_vs_agent_sim.md").read_text()
    assert (workdir / "dvc.lock").exists()


def test_dvc_repro_then_finds_nothing_to_do(workdir):
    out = run(["dvc", "repro", "report"], workdir)
    assert stages_run(out) == set(), out


def test_critic_change_reruns_only_training_and_later(workdir):
    traj = workdir / "results/trajectories/avalon/sim/shard0.jsonl"
    before = traj.stat().st_mtime_ns
    params = yaml.safe_load((workdir / "params.yaml").read_text())
    params["train"]["critic"]["expectile"] = 0.7
    (workdir / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    out = run(["dvc", "repro", "report"], workdir)
    assert stages_run(out) == {"train", "evaluate", "report"}, out
    assert traj.stat().st_mtime_ns == before
