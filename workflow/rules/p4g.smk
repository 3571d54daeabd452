# The PersuasionForGood experiment: a critic trained on real human dialogues. Its own target
# (`snakemake --cores 2 p4g_all`), since it needs the data folder named in params.yaml.


rule p4g_critic:
    output:
        metrics="results/metrics/p4g_critic.json",
        figure="results/p4g/p4g_critic_auc.png",
    log:
        "results/logs/p4g_critic.log",
    params:
        p4g=config["p4g"],
        train=config["train"],
        embed=config["embed"],
    threads: 2
    shell:
        "{PNLC} p4g --out {output.metrics} --figure {output.figure} --work-dir results/p4g --threads {threads} 2> {log}"


rule p4g_all:
    input:
        rules.p4g_critic.output,
