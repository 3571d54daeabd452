"""One function per phase. The CLI parses arguments and calls `run_phase`; Snakemake calls the CLI."""

from __future__ import annotations

import argparse
import json

from pnlc.config import ConfigError, Params, job_params, load_params


def phase_params(args: argparse.Namespace) -> Params:
    """The configuration a phase runs with: the values a workflow job was given (--config-json), or
    the complete --params file for a run by hand."""
    if args.config_json is None:
        return load_params(args.params)
    source = f"--config-json of pnlc {args.phase}"
    try:
        data = json.loads(args.config_json)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{source}: not valid JSON ({exc})") from None
    return job_params(data, source)


def run_phase(args: argparse.Namespace) -> int:
    if args.phase == "episode":
        from pnlc.pipeline.episode import show_episode

        return show_episode(args.file, args.index)
    params = phase_params(args)
    if args.phase == "generate":
        from pnlc.pipeline.generate import generate

        generate(params, args.env, args.shard, args.out)
    elif args.phase == "annotate":
        from pnlc.pipeline.annotate import annotate

        annotate(params, args.env, args.inputs, args.out_jsonl, args.out_npz, args.out_usage)
    elif args.phase == "train":
        from pnlc.pipeline.train import train

        train(params, args.env, args.variant, args.seed, args.annotations, args.out_dir, args.threads, args.timing)
    elif args.phase == "ceiling":
        from pnlc.pipeline.ceiling import ceiling

        ceiling(params, args.env, args.trajectories, args.seed, args.out)
    elif args.phase == "evaluate":
        from pnlc.pipeline.evaluate import evaluate

        evaluate(params, args.env, args.method, args.seed, args.critic, args.out, args.timing)
    elif args.phase == "summarize":
        from pnlc.pipeline.evaluate import summarize

        summarize(params, args.env, args.inputs, args.out, args.timing, args.decision_timing)
    elif args.phase == "report":
        from pnlc.pipeline.report import report

        report(params, args.metrics, args.critic_metrics, args.evals, args.out_dir, args.ceilings, args.timing,
               args.timing_dir, args.viewers, args.cost_estimate, args.trajectories, args.annotation_usage)
    elif args.phase == "answer-forms":
        from pnlc.evaluation.forms import write_forms

        write_forms(args.trajectories, args.annotations, args.evals, params.backend, args.out_dir, args.name)
    elif args.phase == "pipeline-cost":
        from pnlc.pipeline.report import pipeline_cost

        pipeline_cost(args.benchmarks, args.root, dict(args.phase_of), args.out_dir, args.name)
    elif args.phase == "plan":
        from pnlc.pipeline.plan import plan

        plan(params, args.root, args.size, args.envs, args.backend, args.cores, args.nodes, args.cores_per_node,
             args.recorded_size, args.tokens_per_word, args.call_seconds, args.concurrency, args.out_dir)
    elif args.phase == "estimate":
        from pnlc.pipeline.estimate import estimate, estimate_table

        print(estimate_table(estimate(params, args.root, args.out, args.recorded_backend)).to_markdown(), end="")
    elif args.phase == "p4g":
        from pnlc.pipeline.p4g import p4g_experiment

        p4g_experiment(params, args.out, args.figure, args.reliability, args.tables, args.threads, args.timing)
    return 0
