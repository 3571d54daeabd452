rule train_critic:
    input:
        annotations="results/annotations/{env}/{backend}.npz",
    output:
        ckpt="results/critic/{env}/{backend}/{variant}/seed{seed}/critic.ckpt",
        metrics="results/critic/{env}/{backend}/{variant}/seed{seed}/metrics.json",
    log:
        "results/logs/train_critic/{env}/{backend}/{variant}/seed{seed}.log",
    params:
        train=config["train"],
        steps=lambda wc: RUN["critic_max_steps"],
        out_dir=lambda wc, output: os.path.dirname(output.ckpt),
    threads: 1
    resources:
        gpu=0,
    shell:
        "{PNLC} train --env {wildcards.env} --variant {wildcards.variant} --seed {wildcards.seed} "
        "--annotations {input.annotations} --out-dir {params.out_dir} --threads {threads} 2> {log}"


rule outcome_ceiling:
    input:
        trajectory_shards,
    output:
        "results/critic/{env}/{backend}/ceiling/seed{seed}.json",
    log:
        "results/logs/outcome_ceiling/{env}/{backend}/seed{seed}.log",
    params:
        ceiling=config["train"]["ceiling"],
        val_fraction=config["train"]["critic"]["val_fraction"],
    threads: 1
    shell:
        "{PNLC} ceiling --env {wildcards.env} --seed {wildcards.seed} --trajectories {input} "
        "--out {output} 2> {log}"
