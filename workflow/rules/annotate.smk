rule annotate_trajectories:
    input:
        trajectory_shards,
    output:
        jsonl="results/annotations/{env}/{backend}.jsonl",
        npz="results/annotations/{env}/{backend}.npz",
        usage="results/annotations/{env}/{backend}.usage.json",
    log:
        "results/logs/annotate_trajectories/{env}/{backend}.log",
    benchmark:
        benchmark_path("annotate_trajectories", "{env}/{backend}")
    params:
        config=job_config("annotate_trajectories"),
        code=code_hash("annotate_trajectories"),
    threads: 2
    resources:
        mem_mb=mem_mb("annotate_trajectories"),
        runtime=runtime("annotate_trajectories"),
        llm_calls=calls_llm("annotate_trajectories"),
    shell:
        "pnlc --config-json {params.config:q} annotate --env {wildcards.env} --inputs {input} "
        "--out-jsonl {output.jsonl} --out-npz {output.npz} --out-usage {output.usage} 2> {log}"
