# Every helper of the workflow lives here; rule files only declare rules.

import hashlib
import json

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
VARIANTS = list(config["train"]["variants"])
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


def eval_files(wildcards):
    return expand(
        "results/eval/{env}/{backend}/{method}/seed{seed}.jsonl",
        env=wildcards.env,
        backend=wildcards.backend,
        method=METHODS,
        seed=SEEDS_EVAL,
    )


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
        return expand("results/annotations/{env}/{backend}.{ext}", env=ENVS, backend=BACKEND, ext=["jsonl", "npz"]) + timing
    if phase == "train":
        critic_files = expand(
            "results/critic/{env}/{backend}/{variant}/seed{seed}/{name}",
            env=ENVS, backend=BACKEND, variant=VARIANTS, seed=SEEDS_CRITIC, name=["critic.ckpt", "metrics.json", "loss_curves.png"],
        )
        return critic_files + all_ceilings() + timing
    if phase == "evaluate":
        return all_evals() + all_metrics() + all_timings() + timing
    if phase == "report":
        return list(rules.report_tables.output) + list(rules.report_pipeline_cost.output) + timing
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


def record_in_dvc():
    """After a plain `snakemake` run of phase targets, record the stages it brought up to date in
    dvc.lock, so that `dvc status` agrees with Snakemake. Inside `dvc repro` DVC records them itself;
    a run with other configuration than params.yaml leaves dvc.lock as it is."""
    if os.environ.get("DVC_STAGE") or not os.path.isdir(".dvc"):
        return
    targets = list(workflow.dag_settings.targets) or ["all"]
    stages = phases_done(targets)
    if not stages:
        logger.info(f"dvc.lock left as it is: targets {', '.join(targets)} are not phase targets")
        return
    if not configured_as_params_yaml():
        logger.warning("dvc.lock left as it is: this run's configuration differs from params.yaml")
        return
    shell("dvc commit --force --quiet " + " ".join(stages))
