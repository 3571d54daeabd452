rule train_critic:
    input:
        annotations="results/annotations/{env}/{backend}.npz",
    output:
        ckpt="results/critic/{env}/{backend}/{variant}/seed{seed}/critic.ckpt",
        metrics="results/critic/{env}/{backend}/{variant}/seed{seed}/metrics.json",
        curves=report(
            "results/critic/{env}/{backend}/{variant}/seed{seed}/loss_curves.png",
            caption="../report/critic_loss_curves.rst",
            category="Critic",
        ),
        timing="results/timing/critic/{env}/{backend}/{variant}/seed{seed}.json",
    log:
        "results/logs/train_critic/{env}/{backend}/{variant}/seed{seed}.log",
    benchmark:
        benchmark_path("train_critic", "{env}/{backend}/{variant}/seed{seed}")
    params:
        config=job_config("train_critic"),
        code=code_hash("train_critic"),
        out_dir=lambda wc, output: os.path.dirname(output.ckpt),
    threads: 1
    # One GPU where the cluster has one: the SLURM profile submits it with `--gpus=1`, while the local
    # default profile runs it on the CPU (train.critic.accelerator: auto takes CUDA when present).
    resources:
        mem_mb=mem_mb("train_critic"),
        runtime=runtime("train_critic"),
        gpu=1,
    shell:
        "pnlc --config-json {params.config:q} train --env {wildcards.env} --variant {wildcards.variant} "
        "--seed {wildcards.seed} --annotations {input.annotations} --out-dir {params.out_dir} "
        "--threads {threads} --timing {output.timing} 2> {log}"


rule outcome_ceiling:
    input:
        trajectory_shards,
    output:
        "results/critic/{env}/{backend}/ceiling/seed{seed}.json",
    log:
        "results/logs/outcome_ceiling/{env}/{backend}/seed{seed}.log",
    benchmark:
        benchmark_path("outcome_ceiling", "{env}/{backend}/seed{seed}")
    params:
        config=job_config("outcome_ceiling"),
        code=code_hash("outcome_ceiling"),
    threads: 1
    resources:
        mem_mb=mem_mb("outcome_ceiling"),
        runtime=runtime("outcome_ceiling"),
    shell:
        "pnlc --config-json {params.config:q} ceiling --env {wildcards.env} --seed {wildcards.seed} "
        "--trajectories {input} --out {output} 2> {log}"
