"""One function per phase. The CLI parses arguments and calls `run_phase`; Snakemake calls the CLI."""

from __future__ import annotations

import argparse

from pnlc.config import load_params


def run_phase(args: argparse.Namespace) -> int:
    if args.phase == "episode":
        from pnlc.pipeline.episode import show_episode

        return show_episode(args.file, args.index)
    params = load_params(args.params)
    if args.phase == "generate":
        from pnlc.pipeline.generate import generate

        generate(params, args.env, args.shard, args.out)
    elif args.phase == "annotate":
        from pnlc.pipeline.annotate import annotate

        annotate(params, args.env, args.inputs, args.out_jsonl, args.out_npz)
    elif args.phase == "train":
        from pnlc.pipeline.train import train

        train(params, args.env, args.variant, args.seed, args.annotations, args.out_dir, args.threads)
    elif args.phase == "ceiling":
        from pnlc.pipeline.ceiling import ceiling

        ceiling(params, args.env, args.trajectories, args.seed, args.out)
    elif args.phase == "evaluate":
        from pnlc.pipeline.evaluate import evaluate

        evaluate(params, args.env, args.method, args.seed, args.critic, args.out)
    elif args.phase == "summarize":
        from pnlc.pipeline.evaluate import summarize

        summarize(params, args.env, args.inputs, args.out)
    elif args.phase == "report":
        from pnlc.pipeline.report import report

        report(params, args.metrics, args.critic_metrics, args.evals, args.out_dir, args.ceilings)
    elif args.phase == "p4g":
        from pnlc.pipeline.p4g import p4g_experiment

        p4g_experiment(params, args.out, args.figure, args.work_dir, args.threads)
    return 0
