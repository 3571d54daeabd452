# Every helper of the workflow lives here; rule files only declare rules.

import hashlib
import json
import math

import yaml

from pnlc.config import project

BACKEND = config["backend"]
ENVS = list(config["envs"])
if config["size"] not in config["sizes"]:
    raise ValueError(
        f"size: {config['size']!r} is not one of the sizes in params.yaml ({', '.join(config['sizes'])}); "
        "pass one of them (e.g. --config size=quick) or add it under sizes"
    )
RUN = config["sizes"][config["size"]]
# The critic variants trained: those the size's methods read (evaluate.critics), and the default
# critic, whose quality the report always shows.
_READ = {config["evaluate"]["critics"][m]["variant"] for m in config["sizes"][config["size"]]["methods"]
         if m in config["evaluate"]["critics"]}
VARIANTS = [v for v in config["train"]["variants"] if v == "default" or v in _READ]
SEEDS_CRITIC = list(RUN["critic_seeds"])
SEEDS_EVAL = list(RUN["eval_seeds"])
METHODS = list(RUN["methods"])
with open(os.path.join(workflow.basedir, "workflow", "phases.yaml"), encoding="utf-8") as _fh:
    PHASES = yaml.safe_load(_fh)


wildcard_constraints:
    env="|".join(["avalon", "webshop", "persuasion"]),
    backend="sim|anthropic|hf",
    shard=r"\d+",
    seed=r"\d+",
    variant=r"[A-Za-z0-9_]+",
    method=r"[A-Za-z0-9_]+",


def shards():
    return list(range(RUN["shards"]))


def trajectory_shards(wildcards):
    return expand(
        "results/trajectories/{env}/{backend}/shard{shard}.jsonl",
        env=wildcards.env,
        backend=wildcards.backend,
        shard=shards(),
    )


def critic_path(env, variant, seed=None):
    seed = config["evaluate"]["critic_seed"] if seed is None else seed
    return f"results/critic/{env}/{BACKEND}/{variant}/seed{seed}/critic.ckpt"


def critic_inputs(wildcards):
    """The critic a method reads (evaluate.critics: its variant), or nothing."""
    spec = config["evaluate"]["critics"].get(wildcards.method)
    return {"critic": critic_path(wildcards.env, spec["variant"])} if spec else {}


def critic_flags(wildcards, input):
    return f"--critic {input.critic}" if "critic" in input.keys() else ""


def eval_files(wildcards, root="results/eval", suffix="jsonl"):
    return expand(
        root + "/{env}/{backend}/{method}/seed{seed}." + suffix,
        env=wildcards.env,
        backend=wildcards.backend,
        method=METHODS,
        seed=SEEDS_EVAL,
    )


def eval_timing_files(wildcards):
    """Each evaluation's measured seconds and critic ms per decision, in the order of eval_files."""
    return eval_files(wildcards, root="results/timing/eval")


def all_trajectories():
    return expand(
        "results/trajectories/{env}/{backend}/shard{shard}.jsonl",
        env=ENVS,
        backend=BACKEND,
        shard=shards(),
    )


def all_critics():
    return expand(
        "results/critic/{env}/{backend}/{variant}/seed{seed}/metrics.json",
        env=ENVS,
        backend=BACKEND,
        variant=VARIANTS,
        seed=SEEDS_CRITIC,
    )


def all_ceilings():
    """Monte-Carlo outcome ceilings of the critics' held-out episodes: simulated data only (the
    rollouts replay episodes with the simulated policy)."""
    if BACKEND != "sim":
        return []
    return expand("results/critic/{env}/{backend}/ceiling/seed{seed}.json", env=ENVS, backend=BACKEND, seed=SEEDS_CRITIC)


def all_metrics():
    return expand("results/metrics/eval/{env}_{backend}.json", env=ENVS, backend=BACKEND)


def all_timings():
    return expand("results/timing/eval/{env}_{backend}.json", env=ENVS, backend=BACKEND)


def all_evals():
    return expand(
        "results/eval/{env}/{backend}/{method}/seed{seed}.jsonl", env=ENVS, backend=BACKEND, method=METHODS, seed=SEEDS_EVAL
    )


def all_viewers():
    """One HTML episode viewer per evaluation file, in the order of all_evals()."""
    return expand(
        "results/viewer/{env}/{backend}/{method}_seed{seed}.html", env=ENVS, backend=BACKEND, method=METHODS, seed=SEEDS_EVAL
    )


def cost_estimate_inputs(wildcards):
    """With report.cost_estimate: that file, and this run's records of LLM use it is set against."""
    if not config["report"]["cost_estimate"]:
        return {}
    return {
        "cost_estimate": config["report"]["cost_estimate"],
        "trajectories": all_trajectories(),
        "annotation_usage": expand("results/annotations/{env}/{backend}.usage.json", env=ENVS, backend=BACKEND),
    }


def cost_estimate_outputs():
    """With report.cost_estimate: the estimated-vs-actual table; else nothing."""
    if not config["report"]["cost_estimate"]:
        return {}
    return {"cost_estimate": table("results/tables/cost_estimate", "cost_estimate", "Tables")}


def cost_estimate_flags(wildcards, input):
    if "cost_estimate" not in input.keys():
        return ""
    return (f"--cost-estimate {input.cost_estimate} --trajectories {' '.join(input.trajectories)} "
            f"--annotation-usage {' '.join(input.annotation_usage)}")


def table(stem, caption, category):
    """A table's three files; the Markdown one carries the caption into the HTML report."""
    markdown = report(f"{stem}.md", caption=f"../report/{caption}.rst", category=category)
    return [markdown, f"{stem}.csv", f"{stem}.tex"]


def job_config(rule):
    """The configuration values the jobs of `rule` read (workflow/phases.yaml), as JSON: what the
    job receives and, being a param, what Snakemake compares to decide that a job is stale."""
    reads = PHASES["rules"][rule]["reads"]
    return lambda wildcards: json.dumps(project(config, reads, dict(wildcards.items())), sort_keys=True)


def code_paths(rule):
    """The package code the jobs of `rule` run: the common files and the rule's own."""
    return list(PHASES["common_code"]) + list(PHASES["rules"][rule]["code"])


def source_files(path):
    """Files under a path (or the file itself), sorted, without bytecode."""
    path = os.path.join(workflow.basedir, path)
    if os.path.isfile(path):
        return [path]
    if not os.path.isdir(path):
        raise WorkflowError(f"workflow/phases.yaml: code path {path} does not exist")
    files = []
    for folder, dirs, names in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        files += [os.path.join(folder, n) for n in sorted(names) if not n.endswith((".pyc", ".pyo"))]
    return files


_CODE_HASHES = {}


def code_hash(rule):
    """sha256 over the names and bytes of the code a rule runs: a param, so a change reruns its jobs."""
    if rule not in _CODE_HASHES:
        digest = hashlib.sha256()
        for path in code_paths(rule):
            for name in source_files(path):
                digest.update(os.path.relpath(name, workflow.basedir).encode() + b"\0")
                with open(name, "rb") as fh:
                    digest.update(hashlib.sha256(fh.read()).digest())
        _CODE_HASHES[rule] = digest.hexdigest()
    return _CODE_HASHES[rule]


def benchmark_path(rule, pattern):
    """Where Snakemake records a job's wall time and memory (results/timing/benchmarks/)."""
    return f"results/timing/benchmarks/{rule}/{pattern}.tsv"


def benchmarks(rule):
    """The benchmark files of every job of `rule` the configuration asks for."""
    patterns = {
        "generate_trajectories": ("{env}/{backend}/shard{shard}", dict(shard=shards())),
        "annotate_trajectories": ("{env}/{backend}", {}),
        "train_critic": ("{env}/{backend}/{variant}/seed{seed}", dict(variant=VARIANTS, seed=SEEDS_CRITIC)),
        "outcome_ceiling": ("{env}/{backend}/seed{seed}", dict(seed=SEEDS_CRITIC if BACKEND == "sim" else [])),
        "evaluate_method": ("{env}/{backend}/{method}/seed{seed}", dict(method=METHODS, seed=SEEDS_EVAL)),
        "summarize_evaluation": ("{env}_{backend}", {}),
    }
    if rule == "report_tables":
        return [benchmark_path(rule, BACKEND)]
    if rule == "report_answer_forms":
        return [] if BACKEND == "sim" else [benchmark_path(rule, BACKEND)]
    pattern, wildcards = patterns[rule]
    return expand(benchmark_path(rule, pattern), env=ENVS, backend=BACKEND, **wildcards)


def all_benchmarks():
    """The benchmark files the pipeline-cost table sums: every rule up to the report's tables."""
    return [path for rule in PHASES["rules"] if rule not in ("report_pipeline_cost", "p4g_critic") for path in benchmarks(rule)]


def phase_outputs(phase):
    """Every output of a phase's jobs, so that its target (and `all`) rebuilds any one deleted, as
    `dvc status` reports it."""
    rules_of = [rule for rule, spec in PHASES["rules"].items() if spec["phase"] == phase]
    timing = [path for rule in rules_of if rule not in ("report_pipeline_cost", "p4g_critic") for path in benchmarks(rule)]
    if phase == "generate":
        return all_trajectories() + timing
    if phase == "annotate":
        return expand(
            "results/annotations/{env}/{backend}.{ext}", env=ENVS, backend=BACKEND, ext=["jsonl", "npz", "usage.json"]
        ) + timing
    if phase == "train":
        critic_files = expand(
            "results/critic/{env}/{backend}/{variant}/seed{seed}/{name}",
            env=ENVS, backend=BACKEND, variant=VARIANTS, seed=SEEDS_CRITIC, name=["critic.ckpt", "metrics.json", "loss_curves.png"],
        )
        critic_timing = expand("results/timing/critic/{env}/{backend}/{variant}/seed{seed}.json",
                               env=ENVS, backend=BACKEND, variant=VARIANTS, seed=SEEDS_CRITIC)
        return critic_files + critic_timing + all_ceilings() + timing
    if phase == "evaluate":
        return all_evals() + all_metrics() + all_timings() + timing
    if phase == "report":
        forms = list(rules.report_answer_forms.output) if BACKEND != "sim" else []
        return list(rules.report_tables.output) + list(rules.report_pipeline_cost.output) + forms + timing
    raise WorkflowError(f"no phase {phase!r} in workflow/phases.yaml")


PHASE_TARGETS = {"generate_all": "generate", "annotate_all": "annotate", "train_all": "train",
                 "evaluate_all": "evaluate", "report_all": "report", "all": "report", "p4g_all": "p4g"}
PHASE_ORDER = ["generate", "annotate", "train", "evaluate", "report"]


def phases_done(targets):
    """dvc.yaml stages whose outputs a successful run of these target rules brought up to date:
    a phase target's own phase and those before it (p4g stands alone)."""
    done = set()
    for target in targets:
        phase = PHASE_TARGETS.get(target)
        if phase == "p4g":
            done.add("p4g")
        elif phase is not None:
            done.update(PHASE_ORDER[: PHASE_ORDER.index(phase) + 1])
    return [p for p in PHASE_ORDER + ["p4g"] if p in done]


def configured_as_params_yaml():
    """Whether this run's configuration is params.yaml's, unchanged by --config, --configfile or a
    profile: only then may dvc.lock record its outputs against params.yaml."""
    with open("params.yaml", encoding="utf-8") as fh:
        return yaml.safe_load(fh) == config


def make_benchmark_folders(stages):
    """The benchmark folders that dvc.yaml declares as outputs of these stages, made where no job
    wrote one because the configuration asks no job of that rule (the outcome ceiling, which only a
    simulated backend has): DVC refuses to record a stage whose declared output is missing, and
    tracks an empty folder as an empty folder."""
    with open("dvc.yaml", encoding="utf-8") as fh:
        declared = yaml.safe_load(fh)["stages"]
    for stage in stages:
        for out in declared.get(stage, {}).get("outs", []):
            path = next(iter(out)) if isinstance(out, dict) else out
            if path.startswith("results/timing/benchmarks/"):
                os.makedirs(path, exist_ok=True)


def record_in_dvc():
    """After a run of phase targets, make their declared benchmark folders (make_benchmark_folders);
    after a plain `snakemake` run, also record the stages it brought up to date in dvc.lock, so that
    `dvc status` agrees with Snakemake. Inside `dvc repro` DVC records them itself; a run with other
    configuration than params.yaml leaves dvc.lock as it is."""
    targets = list(workflow.dag_settings.targets) or ["all"]
    stages = phases_done(targets)
    if os.path.isfile("dvc.yaml"):
        make_benchmark_folders(stages)
    if os.environ.get("DVC_STAGE") or not os.path.isdir(".dvc"):
        return
    if not stages:
        logger.info(f"dvc.lock left as it is: targets {', '.join(targets)} are not phase targets")
        return
    if not configured_as_params_yaml():
        logger.warning("dvc.lock left as it is: this run's configuration differs from params.yaml")
        return
    shell("dvc commit --force --quiet " + " ".join(stages))


# --- cluster resources ---------------------------------------------------------------------------
# What one job of a rule took in the recorded quick run (results/timing/benchmarks/, avalon, backend
# sim, on 2 busy CPU cores): the longest wall time `s` and the largest `max_rss` (MB) over the rule's
# jobs, and the size it took them at. A job asks for that, scaled to the configured size and with
# headroom, so that SLURM neither kills it nor holds more than it needs. These values decide where
# and when a job runs, never what it writes: Snakemake does not rerun a job when they change.
RECORDED = {
    #  rule                    seconds  max_rss  size the job's work grows with (its value in the run)
    "generate_trajectories": (2.8,      49,     lambda: RUN["train_episodes"] / RUN["shards"] / 300),
    "annotate_trajectories": (406,      770,    lambda: RUN["train_episodes"] / 600),
    "train_critic":          (879,      720,    lambda: RUN["critic_max_steps"] / 2000),
    "outcome_ceiling":       (121,      493,    lambda: RUN["train_episodes"] / 600 * config["train"]["ceiling"]["rollouts"] / 16),
    "evaluate_method":       (441,      544,    lambda: RUN["test_tasks"] / 200),
    "summarize_evaluation":  (2.9,      371,    lambda: RUN["test_tasks"] / 200 * len(RUN["eval_seeds"]) * len(METHODS) / 14),
    "report_tables":         (3.5,      137,    lambda: RUN["test_tasks"] / 200 * len(RUN["eval_seeds"]) * len(METHODS) / 14),
    "report_pipeline_cost":  (3.5,      137,    lambda: 1.0),  # no benchmark of its own: report_tables'
    "report_answer_forms":   (3.5,      137,    lambda: 1.0),  # LLM backends only; reads what report_tables reads
    "p4g_critic":            (553,      1255,   lambda: 1.0),
}
# Rules whose memory grows with the data they hold (annotated episodes), not only their run time.
MEMORY_GROWS_WITH = {
    "annotate_trajectories": lambda: RUN["train_episodes"] / 600,
    "train_critic": lambda: RUN["train_episodes"] / 600,
    "outcome_ceiling": lambda: RUN["train_episodes"] / 600,
}
RUNTIME_HEADROOM = 3.0  # a cluster node may be slower than the recorded one, or shared
MEMORY_HEADROOM = 1.5
MIN_RUNTIME_MIN = 10
MIN_MEM_MB = 512


def mem_mb(rule):
    """Memory (MB) a job of `rule` asks for: the recorded peak with headroom, grown with its data
    where it holds it, in 256 MB steps."""
    _, rss, _ = RECORDED[rule]
    grows = max(1.0, MEMORY_GROWS_WITH.get(rule, lambda: 1.0)())
    return max(MIN_MEM_MB, 256 * math.ceil(rss * grows * MEMORY_HEADROOM / 256))


def runtime(rule):
    """Wall-time limit (minutes) of a job of `rule`: the recorded time scaled to the configured size,
    with headroom. Recorded with the simulated backend: jobs of an LLM backend wait on the model and
    need more (README, "Running on a cluster")."""
    seconds, _, scale = RECORDED[rule]
    return max(MIN_RUNTIME_MIN, math.ceil(seconds * max(1.0, scale()) * RUNTIME_HEADROOM / 60))


def calls_llm(rule):
    """1 for a job that calls an LLM (backend anthropic or hf; annotation only with summarizer llm),
    else 0: the `llm_calls` resource, whose cap in the profile bounds how many such jobs run at once."""
    if BACKEND == "sim":
        return 0
    if rule == "annotate_trajectories":
        return int(config["annotate"]["summarizer"] == "llm")
    return 1
