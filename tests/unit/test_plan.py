"""`pnlc plan`: the dry-run parser, the work each job does, and the schedule."""

from __future__ import annotations

import pytest

from pnlc.pipeline.plan import Estimate, Job, makespan, parse_dry_run, work_units

DRY_RUN = """\
Building DAG of jobs...
[Wed Dec  2 14:28:49 2026]
rule generate_trajectories:
    output: results/trajectories/webshop/sim/shard8.jsonl
    log: results/logs/generate_trajectories/webshop/sim/shard8.log
    jobid: 19
    benchmark: results/timing/benchmarks/generate_trajectories/webshop/sim/shard8.tsv
    reason: Forced execution
    wildcards: env=webshop, backend=sim, shard=8
    resources: tmpdir=/tmp, llm_calls=1
[Wed Dec  2 14:28:49 2026]
rule annotate_trajectories:
    input: results/trajectories/webshop/sim/shard8.jsonl
    output: results/annotations/webshop/sim.jsonl, results/annotations/webshop/sim.npz
    benchmark: results/timing/benchmarks/annotate_trajectories/webshop/sim.tsv
    wildcards: env=webshop, backend=sim
    threads: 2
[Wed Dec  2 14:28:49 2026]
localrule all:
    input: results/tables/main_sim.md
    jobid: 0
"""


def test_the_dry_run_gives_each_benchmarked_job_with_its_wildcards_threads_and_first_output():
    jobs = parse_dry_run(DRY_RUN)
    assert [j.rule for j in jobs] == ["generate_trajectories", "annotate_trajectories"]  # `all` has no benchmark
    assert jobs[0].wildcards == {"env": "webshop", "backend": "sim", "shard": "8"}
    assert (jobs[0].threads, jobs[1].threads) == (1, 2)
    assert jobs[1].output == "results/annotations/webshop/sim.jsonl"
    assert jobs[1].benchmark.endswith("annotate_trajectories/webshop/sim.tsv")


RAW = {
    "sizes": {"a": {"train_episodes": 600, "shards": 2, "critic_max_steps": 2000, "test_tasks": 200,
                    "methods": ["react", "pnlc"], "eval_seeds": [0]},
              "b": {"train_episodes": 2500, "shards": 10, "critic_max_steps": 20000, "test_tasks": 100,
                    "methods": ["react"], "eval_seeds": [0, 1, 2]}},
    "env": {"avalon": {"n_test_tasks": 200}, "persuasion": {"n_test_tasks": 50}, "webshop": {"n_test_goals": 100}},
}


@pytest.mark.parametrize("rule,env,a,b", [
    ("generate_trajectories", "avalon", 300, 250),      # episodes per shard
    ("annotate_trajectories", "avalon", 600, 2500),
    ("train_critic", "avalon", 2000, 20000),            # gradient steps
    ("evaluate_method", "avalon", 200, 100),
    ("evaluate_method", "persuasion", 50, 50),          # capped by the environment's test split
    ("evaluate_method", "webshop", 100, 100),
    ("summarize_evaluation", "avalon", 400, 300),       # episodes of all methods and seeds
    ("report_tables", None, 1, 1),
])
def test_work_units_follow_the_size(rule, env, a, b):
    assert (work_units(rule, RAW, "a", env), work_units(rule, RAW, "b", env)) == (a, b)


def est(phase: str, seconds: float, threads: int = 1, api_seconds: float = 0.0) -> Estimate:
    job = Job("r", {}, threads, "b.tsv", "o")
    return Estimate(job, phase, seconds, "b.tsv", False, api_seconds=api_seconds)


def test_the_schedule_packs_jobs_onto_cores_and_runs_phases_one_after_the_other():
    three = [est("train", 10), est("train", 10), est("train", 10)]
    assert makespan(three, 2, api=False) == 20
    assert makespan(three, 3, api=False) == 10
    assert makespan(three + [est("evaluate", 5)], 3, api=False) == 15
    # a two-thread job holds both cores
    assert makespan([est("annotate", 10, threads=2), est("annotate", 4)], 2, api=False) == 14
    # an API-bound job lasts its calls' time when that is longer
    assert makespan([est("evaluate", 1, api_seconds=30)], 2, api=True) == 30
    assert makespan([est("evaluate", 1, api_seconds=30)], 2, api=False) == 1
