import time

# Every helper of the workflow lives here; rule files only declare rules.

BACKEND = config["backend"]
ENVS = list(config["envs"])
RUN = config["sizes"][config["size"]]
VARIANTS = list(config["train"]["variants"])
SEEDS_CRITIC = list(RUN["critic_seeds"])
SEEDS_EVAL = list(RUN["eval_seeds"])
METHODS = list(RUN["methods"])
PNLC = "pnlc --params params.yaml"

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


def all_annotations():
    return expand("results/annotations/{env}/{backend}.npz", env=ENVS, backend=BACKEND)


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
    return expand("results/metrics/eval_{env}_{backend}.json", env=ENVS, backend=BACKEND)


def report_outputs():
    return [f"results/tables/main_{BACKEND}.md", f"results/figures/metric_{BACKEND}.png"]


RUN_STARTED = time.time()


def newest_mtime(path):
    """Latest modification time of a file, or of anything inside a folder."""
    if os.path.isfile(path):
        return os.path.getmtime(path)
    times = [os.path.getmtime(os.path.join(d, f)) for d, _, files in os.walk(path) for f in files]
    return max(times, default=0.0)


def dvc_stages_written_now():
    """dvc.yaml stages whose outputs all exist and were (re)written by this Snakemake run."""
    import yaml

    if not os.path.isdir(".dvc") or not os.path.exists("dvc.yaml"):
        return []
    with open("dvc.yaml", encoding="utf-8") as fh:
        stages = yaml.safe_load(fh)["stages"]
    written = []
    for name, stage in stages.items():
        paths = [next(iter(o)) if isinstance(o, dict) else o for key in ("outs", "metrics", "plots") for o in stage.get(key, [])]
        if paths and all(os.path.exists(p) for p in paths) and any(newest_mtime(p) >= RUN_STARTED for p in paths):
            written.append(name)
    return written


def record_in_dvc():
    """After a plain `snakemake` run, record the outputs it wrote in dvc.lock so that `dvc repro`
    knows they are current. Skipped inside `dvc repro`, which records them itself."""
    if os.environ.get("DVC_STAGE"):
        return
    stages = dvc_stages_written_now()
    if stages:
        shell("dvc commit --force --quiet " + " ".join(stages))
