"""The `pnlc` command: one subcommand per phase. Snakemake rules call these; so can a user.

Heavy libraries are imported inside the phase functions so that `pnlc --help` starts instantly.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

PHASES = {
    "generate": "play prior-agent episodes for one shard (results/trajectories/...)",
    "annotate": "summarise and embed every step of an environment's episodes (results/annotations/...)",
    "train": "train one goal-conditioned IQL critic (results/critic/...)",
    "ceiling": "outcome probabilities of held-out states by Monte-Carlo rollouts: the bound on critic AUC (sim)",
    "evaluate": "run one method on the test tasks with one seed (results/eval/...)",
    "summarize": "metrics with bootstrap intervals for all methods of an environment (results/metrics/...)",
    "report": "tables, figures and episode viewers from the metrics (results/tables, results/figures)",
    "answer-forms": "how often an LLM's answers kept each role's format (results/tables/answer_forms_<backend>)",
    "pipeline-cost": "wall time and memory per rule and phase from Snakemake's benchmark files (results/timing/)",
    "p4g": "train and test the critic and text references on PersuasionForGood's human dialogues (results/metrics/p4g_critic.json)",
    "plan": "expected wall time, API calls and dollars of a run of another size, from a recorded run's jobs",
    "estimate": "expected LLM calls, tokens and dollars of the configured run per phase and method, from a small recorded run",
    "episode": "print one recorded episode decision by decision",
}


def _parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="pnlc",
        description="Planning with a Natural Language Critic: generate -> annotate -> train -> evaluate -> report.",
    )
    given = ap.add_mutually_exclusive_group()
    given.add_argument("--params", default="params.yaml", help="the configuration file (default: params.yaml)")
    given.add_argument(
        "--config-json",
        metavar="JSON",
        help="the configuration values this job reads, as JSON (what Snakemake rules pass instead of --params)",
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = ap.add_subparsers(dest="phase", metavar="PHASE", required=True)
    for name, text in PHASES.items():
        sub.add_parser(name, help=text, description=text)

    g = sub.choices["generate"]
    g.add_argument("--env", required=True)
    g.add_argument("--shard", type=int, required=True)
    g.add_argument("--out", required=True, type=Path)

    a = sub.choices["annotate"]
    a.add_argument("--env", required=True)
    a.add_argument("--inputs", nargs="+", required=True, type=Path, help="trajectory shards")
    a.add_argument("--out-jsonl", required=True, type=Path)
    a.add_argument("--out-npz", required=True, type=Path)
    a.add_argument("--out-usage", required=True, type=Path, help="what the summarizer used (JSON)")

    t = sub.choices["train"]
    t.add_argument("--env", required=True)
    t.add_argument("--variant", required=True)
    t.add_argument("--seed", type=int, required=True)
    t.add_argument("--annotations", required=True, type=Path, help="the annotation .npz")
    t.add_argument("--out-dir", required=True, type=Path)
    t.add_argument("--threads", type=int, default=1, help="CPU threads for torch (Snakemake passes the job's)")
    t.add_argument("--timing", type=Path, help="where the training's wall-clock figures go, JSON (results/timing/critic/...)")

    c = sub.choices["ceiling"]
    c.add_argument("--env", required=True)
    c.add_argument("--seed", type=int, required=True, help="critic seed whose held-out episodes are scored")
    c.add_argument("--trajectories", nargs="+", required=True, type=Path, help="trajectory shards, in order")
    c.add_argument("--out", required=True, type=Path)

    e = sub.choices["evaluate"]
    e.add_argument("--env", required=True)
    e.add_argument("--method", required=True)
    e.add_argument("--seed", type=int, required=True)
    e.add_argument("--critic", type=Path, help="the critic checkpoint the method reads (evaluate.critics)")
    e.add_argument("--out", required=True, type=Path)
    e.add_argument("--timing", type=Path, help="where each decision's measured seconds and critic ms go, JSONL "
                   "(results/timing/eval/...); without it they stay in the episode records")

    s = sub.choices["summarize"]
    s.add_argument("--env", required=True)
    s.add_argument("--inputs", nargs="+", required=True, type=Path, help="evaluation JSONL files")
    s.add_argument("--out", required=True, type=Path, help="metrics JSON (results/metrics/...)")
    s.add_argument("--timing", required=True, type=Path, help="wall-clock fields, JSON (results/timing/...)")
    s.add_argument("--decision-timing", nargs="*", default=[], type=Path,
                   help="the evaluations' `evaluate --timing` files, in the order of --inputs")

    r = sub.choices["report"]
    r.add_argument("--metrics", nargs="+", required=True, type=Path)
    r.add_argument("--critic-metrics", nargs="*", default=[], type=Path)
    r.add_argument("--ceilings", nargs="*", default=[], type=Path, help="outcome-ceiling JSON files (simulated)")
    r.add_argument("--evals", nargs="*", default=[], type=Path, help="evaluation JSONL files for the viewers")
    r.add_argument("--viewers", nargs="*", default=[], type=Path, help="the viewer page of each --evals file, in order")
    r.add_argument("--timing", nargs="*", default=[], type=Path, help="wall-clock JSON files of the evaluations")
    r.add_argument("--out-dir", required=True, type=Path, help="results/ (tables/, figures/, viewer/ below it)")
    r.add_argument("--timing-dir", required=True, type=Path, help="where the wall-clock table goes")
    r.add_argument("--cost-estimate", type=Path,
                   help="a `pnlc estimate --out` JSON to set against this run's use (report.cost_estimate)")
    r.add_argument("--trajectories", nargs="*", default=[], type=Path, help="this run's trajectory shards (with --cost-estimate)")
    r.add_argument("--annotation-usage", nargs="*", default=[], type=Path,
                   help="this run's annotation usage JSON files (with --cost-estimate)")

    af = sub.choices["answer-forms"]
    af.add_argument("--trajectories", nargs="*", default=[], type=Path, help="generation JSONL files")
    af.add_argument("--annotations", nargs="*", default=[], type=Path, help="annotation usage JSON files")
    af.add_argument("--evals", nargs="*", default=[], type=Path, help="evaluation JSONL files")
    af.add_argument("--out-dir", required=True, type=Path)
    af.add_argument("--name", required=True, help="file stem of the table (csv, md, tex)")

    pc = sub.choices["pipeline-cost"]
    pc.add_argument("--benchmarks", nargs="+", required=True, type=Path, help="Snakemake benchmark files")
    pc.add_argument("--root", required=True, type=Path, help="their folder: <root>/<rule>/... ")
    pc.add_argument("--phase-of", nargs="+", required=True, type=_pair, metavar="RULE=PHASE")
    pc.add_argument("--out-dir", required=True, type=Path)
    pc.add_argument("--name", required=True, help="file stem of the table (csv, md, tex)")

    p = sub.choices["p4g"]
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--figure", required=True, type=Path, help="AUC bars with their intervals (PNG)")
    p.add_argument("--reliability", required=True, type=Path, help="the critic's held-out reliability diagram (PNG)")
    p.add_argument("--tables", required=True, type=Path, help="folder of the table p4g.{csv,md,tex} (the workflow: results/p4g)")
    p.add_argument("--threads", type=int, default=1, help="CPU threads for torch (Snakemake passes the job's)")
    p.add_argument("--timing", type=Path, help="wall-clock seconds, JSON (the workflow: results/timing/p4g_critic.json)")

    pl = sub.choices["plan"]
    pl.add_argument("--size", required=True, help="the size to plan (a key of sizes, e.g. paper)")
    pl.add_argument("--envs", nargs="+", help="environments of the planned run (default: params' envs)")
    pl.add_argument("--backend", help="backend of the planned run (default: params' backend)")
    pl.add_argument("--recorded-size", help="size of the recorded run whose benchmark files are scaled (default: params' size)")
    pl.add_argument("--root", type=Path, default=Path("."), help="the workflow folder with the recorded run")
    pl.add_argument("--cores", type=int, default=2, help="cores of the local machine (default 2)")
    pl.add_argument("--nodes", type=int, nargs="*", default=[1, 4, 16], help="cluster sizes to plan for")
    pl.add_argument("--cores-per-node", type=int, default=16)
    pl.add_argument("--tokens-per-word", type=float, default=1.33,
                    help="tokens per whitespace word of the simulated roles' texts (default 1.33)")
    pl.add_argument("--call-seconds", type=float, default=5.0, help="seconds per API call (default 5)")
    pl.add_argument("--concurrency", type=int, default=1, help="concurrent episodes per API-bound job")
    pl.add_argument("--out-dir", type=Path, help="also write the table as plan_<size>_<backend>.{csv,md,tex} here")

    es = sub.choices["estimate"]
    es.add_argument("--from", dest="root", required=True, type=Path, metavar="DIR",
                    help="the folder of a recorded run (its results/ is read), e.g. one run at a small size")
    es.add_argument("--recorded-backend", choices=("sim", "anthropic", "hf"),
                    help="which recorded backend to read when the run recorded several")
    es.add_argument("--out", type=Path, metavar="FILE.json", help="also write the estimate as JSON (for report.cost_estimate)")

    ep = sub.choices["episode"]
    ep.add_argument("file", type=Path, help="a trajectory or evaluation JSONL")
    ep.add_argument("--index", type=int, default=0, help="which episode of the file (0-based)")
    return ap


def _pair(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep or not key or not value:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=VALUE")
    return key, value


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    from pnlc.config import ConfigError

    try:
        from pnlc import pipeline

        return int(pipeline.run_phase(args) or 0)
    except ConfigError as exc:
        print(f"pnlc: configuration error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:  # noqa: BLE001 - one clear line for the user, details under -v
        known = _known_errors()
        if isinstance(exc, known):
            print(f"pnlc {args.phase}: {_describe(exc)}", file=sys.stderr)
            if args.verbose:
                raise
            return 1
        raise


def _known_errors() -> tuple[type[BaseException], ...]:
    from pnlc.data import CorruptRecordError, RecordError
    from pnlc.envs.base import EnvError
    from pnlc.llm.base import LLMError

    return (CorruptRecordError, RecordError, EnvError, LLMError, OSError, ValueError)


def _describe(exc: BaseException) -> str:
    """The user's line for an error: the project's own messages as they are; an operating-system
    error (full disk, read-only folder, no permission) as the file, the reason and what to do."""
    if isinstance(exc, OSError) and not isinstance(exc, FileNotFoundError) and exc.strerror:
        where = exc.filename if exc.filename is not None else "writing the output"
        return (f"{where}: {exc.strerror} (errno {exc.errno}); make room or make the folder writable, then "
                "rerun the same command (finished outputs are never half-written; a .partial file resumes)")
    return str(exc)


if __name__ == "__main__":
    sys.exit(main())
