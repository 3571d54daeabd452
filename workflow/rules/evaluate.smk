rule evaluate_method:
    input:
        unpack(critic_inputs),
    output:
        episodes="results/eval/{env}/{backend}/{method}/seed{seed}.jsonl",
        timing="results/timing/eval/{env}/{backend}/{method}/seed{seed}.jsonl",
    log:
        "results/logs/evaluate_method/{env}/{backend}/{method}/seed{seed}.log",
    benchmark:
        benchmark_path("evaluate_method", "{env}/{backend}/{method}/seed{seed}")
    params:
        config=job_config("evaluate_method"),
        code=code_hash("evaluate_method"),
        critics=critic_flags,
    resources:
        mem_mb=mem_mb("evaluate_method"),
        runtime=runtime("evaluate_method"),
        llm_calls=calls_llm("evaluate_method"),
    shell:
        "pnlc --config-json {params.config:q} evaluate --env {wildcards.env} --method {wildcards.method} "
        "--seed {wildcards.seed} {params.critics} --out {output.episodes} --timing {output.timing} 2> {log}"


rule summarize_evaluation:
    input:
        episodes=eval_files,
        timing=eval_timing_files,
    output:
        metrics="results/metrics/eval/{env}_{backend}.json",
        timing="results/timing/eval/{env}_{backend}.json",
    log:
        "results/logs/summarize_evaluation/{env}_{backend}.log",
    benchmark:
        benchmark_path("summarize_evaluation", "{env}_{backend}")
    params:
        config=job_config("summarize_evaluation"),
        code=code_hash("summarize_evaluation"),
    resources:
        mem_mb=mem_mb("summarize_evaluation"),
        runtime=runtime("summarize_evaluation"),
    shell:
        "pnlc --config-json {params.config:q} summarize --env {wildcards.env} --inputs {input.episodes} "
        "--decision-timing {input.timing} --out {output.metrics} --timing {output.timing} 2> {log}"
