"""Kill -9 in every phase, then rerun the same command: the artifacts equal an undisturbed run's.

A workflow copy at the tests' shrunken size (tests/workflow/test_end_to_end.py) runs once
undisturbed. Then, for each kill, a fresh copy starts `snakemake --cores 2`; when the first job of
the chosen phase starts, the drill waits a random delay (fixed seed) and kills Snakemake and every
job with SIGKILL, as a laptop that dies or a node that is pre-empted would. It then runs the same
command again (after `snakemake --unlock` when Snakemake refuses a directory whose lock outlived its
owner) and compares every compared artifact with the undisturbed run's bytes, and the episode
records of every JSONL file: lost (in the undisturbed run, not here) and duplicated (more often here).

    PYTHONPATH=$PWD/src python drills/kill_resume.py [--kills-per-phase 2] [--seed 0] [phase ...]

Last line: `key=value` pairs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "workflow"))

from test_end_to_end import PHASES, copy_workflow, job_env, rule_phases, run, snapshot  # noqa: E402

MAX_DELAY_S = 4.0  # the kill lands within this many seconds after the phase's first job starts


def records(root: Path) -> Counter:
    """Episode records of every trajectory and evaluation JSONL, keyed by (file, policy, task, seed),
    with how often each occurs (evaluation records carry wall-clock fields, so lines are not compared)."""
    keys: Counter = Counter()
    for folder in ("results/trajectories", "results/eval"):
        for path in sorted((root / folder).rglob("*.jsonl")):
            for line in path.read_bytes().splitlines():
                rec = json.loads(line)
                keys[(str(path.relative_to(root)), rec.get("policy"), rec.get("task_id"), rec.get("seed"))] += 1
    return keys


def started_phase(log: Path, phase_of: dict[str, str]) -> set[str]:
    """Phases with a job Snakemake has started, read from its log."""
    seen = set()
    for line in log.read_text(errors="replace").splitlines():
        words = line.replace(":", " ").split()
        if len(words) >= 2 and words[0] in ("rule", "localrule") and words[1] in phase_of:
            seen.add(phase_of[words[1]])
    return seen


def kill_run(root: Path, phase: str, delay: float) -> dict[str, object]:
    """Start the workflow, kill it `delay` s into `phase`, rerun; the row of the drill's table."""
    log = root / "first-run.log"
    phase_of = rule_phases(root)
    with open(log, "w") as fh:
        proc = subprocess.Popen(["snakemake", "--cores", "2"], cwd=root, stdout=fh, stderr=subprocess.STDOUT,
                                env=job_env(root), start_new_session=True)
    killed = False
    while proc.poll() is None:
        if phase in started_phase(log, phase_of):
            time.sleep(delay)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
            break
        time.sleep(0.2)
    proc.wait()
    partial_files = sorted(str(p.relative_to(root)) for p in (root / "results").rglob("*.partial"))
    rerun = subprocess.run(["snakemake", "--cores", "2"], cwd=root, capture_output=True, text=True, env=job_env(root))
    unlocked = False
    if rerun.returncode and "cannot be locked" in rerun.stdout + rerun.stderr:
        unlocked = True
        run(["snakemake", "--unlock"], root, env=job_env(root))
        rerun = subprocess.run(["snakemake", "--cores", "2"], cwd=root, capture_output=True, text=True,
                               env=job_env(root))
    return {"phase": phase, "delay_s": round(delay, 2), "killed": killed, "partial files": partial_files,
            "needed --unlock": unlocked, "rerun exit": rerun.returncode,
            "rerun tail": (rerun.stdout + rerun.stderr)[-1500:] if rerun.returncode else ""}


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills-per-phase", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("phases", nargs="*", default=list(PHASES))
    args = ap.parse_args(argv)
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kill-") as tmp:
        base = Path(tmp) / "undisturbed"
        base.mkdir()
        copy_workflow(REPO, base)
        start = time.time()
        run(["snakemake", "--cores", "2"], base, env=job_env(base))
        sys.stdout.write(f"undisturbed run: {time.time() - start:.0f} s\n")
        want, want_records = snapshot(base), records(base)
        for phase in args.phases:
            for k in range(args.kills_per_phase):
                root = Path(tmp) / f"{phase}-{k}"
                root.mkdir()
                copy_workflow(REPO, root)
                row = kill_run(root, phase, rng.uniform(0.0, MAX_DELAY_S))
                got = records(root)
                row["records lost"] = sum((want_records - got).values())
                row["records duplicated"] = sum((got - want_records).values())
                row["equal to undisturbed"] = row["rerun exit"] == 0 and snapshot(root) == want
                rows.append(row)
                sys.stdout.write(
                    f"{phase:<9} kill at +{row['delay_s']:>4} s  killed={row['killed']!s:<5} "
                    f"partial={len(row['partial files'])} unlock={row['needed --unlock']!s:<5} "
                    f"lost={row['records lost']} duplicated={row['records duplicated']} "
                    f"equal={row['equal to undisturbed']}\n")
                if row["rerun tail"]:
                    sys.stdout.write(row["rerun tail"] + "\n")
                sys.stdout.flush()
    killed = sum(bool(r["killed"]) for r in rows)
    equal = sum(bool(r["equal to undisturbed"]) for r in rows)
    lost = sum(int(r["records lost"]) for r in rows)
    dup = sum(int(r["records duplicated"]) for r in rows)
    sys.stdout.write(f"runs={len(rows)} killed={killed} equal={equal} records_lost={lost} records_duplicated={dup}\n")
    return 0 if equal == len(rows) and lost == dup == 0 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
