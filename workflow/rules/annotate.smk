rule annotate_trajectories:
    input:
        trajectory_shards,
    output:
        jsonl="results/annotations/{env}/{backend}.jsonl",
        npz="results/annotations/{env}/{backend}.npz",
    log:
        "results/logs/annotate_trajectories/{env}/{backend}.log",
    params:
        annotate=config["annotate"],
        embed=config["embed"],
    threads: 2
    shell:
        "{PNLC} annotate --env {wildcards.env} --inputs {input} "
        "--out-jsonl {output.jsonl} --out-npz {output.npz} 2> {log}"
