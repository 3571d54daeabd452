rule report_tables:
    input:
        unpack(cost_estimate_inputs),
        metrics=all_metrics(),
        timing=all_timings(),
        critics=all_critics(),
        ceilings=all_ceilings(),
        evals=all_evals(),
    output:
        main=table(f"results/tables/main_{BACKEND}", "main_table", "Tables"),
        cost=table(f"results/tables/cost_{BACKEND}", "cost_table", "Tables"),
        differences=table(f"results/tables/differences_{BACKEND}", "differences_table", "Tables"),
        paper=table(f"results/tables/paper_comparison_{BACKEND}", "paper_comparison", "Tables"),
        critic_table=table(f"results/tables/critic_{BACKEND}", "critic_table", "Critic"),
        decision_time=table(f"results/timing/report/decision_time_{BACKEND}", "decision_time", "Timing"),
        figure=report(f"results/figures/metric_{BACKEND}.png", caption="../report/metric_bars.rst", category="Figures"),
        differences_figure=report(
            f"results/figures/differences_{BACKEND}.png", caption="../report/paired_differences.rst", category="Figures"
        ),
        cost_figure=report(
            f"results/figures/cost_{BACKEND}.png", caption="../report/cost_vs_performance.rst", category="Figures"
        ),
        calibration=report(
            f"results/figures/critic_calibration_{BACKEND}.png",
            caption="../report/critic_calibration.rst",
            category="Critic",
        ),
        controls=table(f"results/tables/controls_{BACKEND}", "controls_table", "Does the critic matter?"),
        controls_figure=report(
            f"results/figures/controls_{BACKEND}.png",
            caption="../report/controls_figure.rst",
            category="Does the critic matter?",
        ),
        dose_table=table(
            f"results/tables/critic_quality_vs_agent_{BACKEND}", "critic_quality_vs_agent_table", "Does the critic matter?"
        ),
        dose_figure=report(
            f"results/figures/critic_quality_vs_agent_{BACKEND}.png",
            caption="../report/critic_quality_vs_agent.rst",
            category="Does the critic matter?",
        ),
        viewers=[report(p, caption="../report/episode_viewer.rst", category="Episodes") for p in all_viewers()],
        summary="results/summary.json",
        plot="results/plots/methods.csv",
        **cost_estimate_outputs(),
    log:
        f"results/logs/report_tables/{BACKEND}.log",
    benchmark:
        benchmark_path("report_tables", BACKEND)
    params:
        config=job_config("report_tables"),
        code=code_hash("report_tables"),
        estimate=cost_estimate_flags,
    resources:
        mem_mb=mem_mb("report_tables"),
        runtime=runtime("report_tables"),
    shell:
        "pnlc --config-json {params.config:q} report --metrics {input.metrics} --timing {input.timing} "
        "--critic-metrics {input.critics} --ceilings {input.ceilings} --evals {input.evals} "
        "--viewers {output.viewers} --out-dir results --timing-dir results/timing/report {params.estimate} 2> {log}"


rule report_pipeline_cost:
    input:
        all_benchmarks(),
    output:
        table(f"results/timing/report/pipeline_cost_{BACKEND}", "pipeline_cost", "Timing"),
    log:
        f"results/logs/report_pipeline_cost/{BACKEND}.log",
    params:
        config=job_config("report_pipeline_cost"),
        code=code_hash("report_pipeline_cost"),
        phase_of=" ".join(f"{rule}={spec['phase']}" for rule, spec in PHASES["rules"].items()),
    resources:
        mem_mb=mem_mb("report_pipeline_cost"),
        runtime=runtime("report_pipeline_cost"),
    shell:
        "pnlc --config-json {params.config:q} pipeline-cost --benchmarks {input} --root results/timing/benchmarks "
        "--phase-of {params.phase_of} --out-dir results/timing/report --name pipeline_cost_{BACKEND} 2> {log}"


# LLM backends only (phase_outputs asks for it then): how often the answers kept each format.

rule report_answer_forms:
    input:
        trajectories=all_trajectories(),
        annotations=expand("results/annotations/{env}/{backend}.usage.json", env=ENVS, backend=BACKEND),
        evals=all_evals(),
    output:
        table(f"results/tables/answer_forms_{BACKEND}", "answer_forms", "Tables"),
    log:
        f"results/logs/report_answer_forms/{BACKEND}.log",
    benchmark:
        benchmark_path("report_answer_forms", BACKEND)
    params:
        config=job_config("report_answer_forms"),
        code=code_hash("report_answer_forms"),
    resources:
        mem_mb=mem_mb("report_answer_forms"),
        runtime=runtime("report_answer_forms"),
    shell:
        "pnlc --config-json {params.config:q} answer-forms --trajectories {input.trajectories} "
        "--annotations {input.annotations} --evals {input.evals} --out-dir results/tables "
        "--name answer_forms_{BACKEND} 2> {log}"
