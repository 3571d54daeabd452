rule generate_trajectories:
    output:
        "results/trajectories/{env}/{backend}/shard{shard}.jsonl",
    log:
        "results/logs/generate_trajectories/{env}/{backend}/shard{shard}.log",
    benchmark:
        benchmark_path("generate_trajectories", "{env}/{backend}/shard{shard}")
    params:
        config=job_config("generate_trajectories"),
        code=code_hash("generate_trajectories"),
    resources:
        mem_mb=mem_mb("generate_trajectories"),
        runtime=runtime("generate_trajectories"),
        llm_calls=calls_llm("generate_trajectories"),
    shell:
        "pnlc --config-json {params.config:q} generate --env {wildcards.env} --shard {wildcards.shard} "
        "--out {output} 2> {log}"
