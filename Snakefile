# pnlc: Planning with a Natural Language Critic, end to end.
#   snakemake --cores 2                  full reproduction on the configured size and backend
#   snakemake --cores 2 train_all        up to trained critics
# Every rule calls the `pnlc` command with exactly the configuration values its jobs read, and
# declares the code they run (workflow/phases.yaml); every path below results/ is literal with its
# wildcards. After a plain run, the phases it brought up to date are recorded in dvc.lock.

from snakemake.utils import min_version, validate

min_version("8.0")


configfile: "params.yaml"


validate(config, "workflow/schemas/params.schema.yaml")


include: "workflow/rules/common.smk"
include: "workflow/rules/generate.smk"
include: "workflow/rules/annotate.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"
include: "workflow/rules/p4g.smk"


rule all:
    input:
        [phase_outputs(phase) for phase in ("generate", "annotate", "train", "evaluate", "report")],


rule generate_all:
    input:
        phase_outputs("generate"),


rule annotate_all:
    input:
        phase_outputs("annotate"),


rule train_all:
    input:
        phase_outputs("train"),


rule evaluate_all:
    input:
        phase_outputs("evaluate"),


rule report_all:
    input:
        phase_outputs("report"),


onsuccess:
    record_in_dvc()
