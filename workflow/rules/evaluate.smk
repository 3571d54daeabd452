rule evaluate_method:
    input:
        unpack(critic_inputs),
    output:
        "results/eval/{env}/{backend}/{method}/seed{seed}.jsonl",
    log:
        "results/logs/evaluate_method/{env}/{backend}/{method}/seed{seed}.log",
    params:
        evaluate=config["evaluate"],
        test_tasks=lambda wc: RUN["test_tasks"],
        env_config=lambda wc: config["env"][wc.env],
        critics=critic_flags,
    resources:
        llm_calls=1,
    shell:
        "{PNLC} evaluate --env {wildcards.env} --method {wildcards.method} --seed {wildcards.seed} "
        "{params.critics} --out {output} 2> {log}"


rule summarize_evaluation:
    input:
        eval_files,
    output:
        "results/metrics/eval_{env}_{backend}.json",
    log:
        "results/logs/summarize_evaluation/{env}_{backend}.log",
    params:
        evaluate=config["evaluate"],
    shell:
        "{PNLC} summarize --env {wildcards.env} --inputs {input} --out {output} 2> {log}"
