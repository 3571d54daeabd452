rule report_tables:
    input:
        metrics=all_metrics(),
        critics=all_critics(),
        evals=expand(
            "results/eval/{env}/{backend}/{method}/seed{seed}.jsonl",
            env=ENVS,
            backend=BACKEND,
            method=METHODS,
            seed=SEEDS_EVAL,
        ),
    output:
        table=report(
            f"results/tables/main_{BACKEND}.md",
            caption="../report/main_table.rst",
            category="Tables",
        ),
        figure=report(
            f"results/figures/metric_{BACKEND}.png",
            caption="../report/metric_bars.rst",
            category="Figures",
        ),
        summary="results/summary.json",
        plot="results/plots/methods.csv",
    log:
        f"results/logs/report_tables/{BACKEND}.log",
    shell:
        "{PNLC} report --metrics {input.metrics} --critic-metrics {input.critics} "
        "--evals {input.evals} --out-dir results 2> {log}"
