"""Pull the pipeline's artifacts from a DVC remote and let Snakemake adopt them: `pnlc-pull`.

`dvc pull` brings the outputs that dvc.lock records, but not Snakemake's own record of how each
was made (`.snakemake/metadata`: the params, code hash and input checksums of every job). Without
it Snakemake cannot see a later change of a key or of the code, and it judges the pulled files by
the order in which they happened to land. So after pulling, this command asks `dvc status`
whether every pipeline stage is current: its code, its params (the keys its jobs read; the
workflow tests check that dvc.yaml lists the same ones) and its upstream outputs hash to what
dvc.lock recorded when these outputs were made, and the outputs to what it recorded for them.
Only then does it run `snakemake --touch --forceall`, which runs no job: it stamps the outputs in
dependency order and records the present params and code as the ones that made them, which the
status check has just established. A stage that is not current is reported and nothing is
touched: its outputs must be rebuilt (`dvc repro` or `snakemake`), not adopted.
"""

from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time

log = logging.getLogger(__name__)

# The stages that `snakemake all` builds, in order; the P4G stage stands apart (its outputs are
# committed to git, not pulled) and its status does not decide what is adopted here.
PIPELINE = ("generate", "annotate", "train", "evaluate", "report")


class PullError(RuntimeError):
    pass


def _run(cmd: list[str]) -> str:
    start = time.perf_counter()
    try:
        out = subprocess.run(cmd, capture_output=True, text=True)
    except FileNotFoundError as exc:
        raise PullError(f"{cmd[0]} is not installed here; install the project (pip install -e .)") from exc
    if out.returncode != 0:
        raise PullError(f"`{' '.join(cmd)}` failed (exit {out.returncode}):\n{(out.stdout + out.stderr).strip()[-3000:]}")
    log.info("%s: %.1f s", " ".join(cmd), time.perf_counter() - start)
    return out.stdout


def stale_stages(status_json: str) -> dict[str, list]:
    """Pipeline stages that `dvc status --json` reports as changed, with what changed."""
    status = json.loads(status_json or "{}")
    return {stage: status[stage] for stage in PIPELINE if stage in status}


def pull(remote: str | None = None, cores: int = 1) -> None:
    _run(["dvc", "pull", *(["--remote", remote] if remote else [])])
    stale = stale_stages(_run(["dvc", "status", "--json"]))
    if stale:
        detail = "; ".join(f"{stage}: {json.dumps(changes)}" for stage, changes in stale.items())
        raise PullError(
            f"pulled, but dvc.lock does not match this checkout for stage(s) {', '.join(stale)} ({detail}); "
            "the pulled outputs were not made from this code and params.yaml, so Snakemake is not told to adopt "
            "them. Check out the commit they were pushed from, or rebuild with `dvc repro` (or `snakemake`)."
        )
    _run(["snakemake", "--cores", str(cores), "--touch", "--forceall", "all"])
    log.info("pulled; stages %s are current for DVC and Snakemake", ", ".join(PIPELINE))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(
        prog="pnlc-pull",
        description="dvc pull, check that every pipeline stage is current, then record the pulled outputs "
        "in Snakemake's metadata (snakemake --touch) so that `snakemake -n` agrees with `dvc status`.",
    )
    ap.add_argument("-r", "--remote", help="the DVC remote to pull from (default: the configured default remote)")
    ap.add_argument("--cores", type=int, default=1, help="cores for the Snakemake touch run (default 1)")
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    try:
        pull(args.remote, args.cores)
    except PullError as exc:
        print(f"pnlc-pull: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
