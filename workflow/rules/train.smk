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
