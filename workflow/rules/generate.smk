rule generate_trajectories:
    output:
        "results/trajectories/{env}/{backend}/shard{shard}.jsonl",
    log:
        "results/logs/generate_trajectories/{env}/{backend}/shard{shard}.log",
    params:
        size=lambda wc: RUN["train_episodes"],
        shards=lambda wc: RUN["shards"],
        generate=config["generate"],
        env_config=lambda wc: config["env"][wc.env],
    resources:
        llm_calls=1,
    shell:
        "{PNLC} generate --env {wildcards.env} --shard {wildcards.shard} --out {output} 2> {log}"
