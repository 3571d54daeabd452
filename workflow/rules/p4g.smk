# The PersuasionForGood experiment: a critic trained on real human dialogues, against text
# references. Its own target (`snakemake --cores 2 p4g_all`), since it needs the data folder named in
# params.yaml; its outputs are committed, so a clone without that folder still has them and
# `dvc status` finds them current. One thread: critic training on two cores shared with other jobs
# ran many times slower with two threads than with one.


rule p4g_critic:
    output:
        metrics="results/metrics/p4g_critic.json",
        figure=report("results/p4g/p4g_critic_auc.png", caption="../report/p4g_critic_auc.rst", category="Critic"),
        reliability=report(
            "results/p4g/p4g_heldout_reliability.png", caption="../report/p4g_heldout_reliability.rst", category="Critic"
        ),
        table=table("results/p4g/p4g", "p4g_table", "Critic"),
        timing="results/timing/p4g_critic.json",
    log:
        "results/logs/p4g_critic.log",
    benchmark:
        benchmark_path("p4g_critic", "p4g")
    params:
        config=job_config("p4g_critic"),
        code=code_hash("p4g_critic"),
    threads: 1
    resources:
        mem_mb=mem_mb("p4g_critic"),
        runtime=runtime("p4g_critic"),
    shell:
        "pnlc --config-json {params.config:q} p4g --out {output.metrics} --figure {output.figure} "
        "--reliability {output.reliability} --tables results/p4g --timing {output.timing} --threads {threads} "
        "2> {log}"


rule p4g_all:
    input:
        rules.p4g_critic.output,
