"""Kill -9 in every phase, then rerun the same command: the artifacts equal an undisturbed run's.

A workflow copy at the tests' shrunken size (tests/workflow/test_end_to_end.py) runs once
undisturbed. Then, for each kill, a fresh copy starts `snakemake --cores 2`; when the first job of
the chosen phase starts (for `ceiling`, the outcome-ceiling job of the training phase; for `train`,
once critic training has written its first mid-run checkpoint; for generation and evaluation, once
a job has journaled an episode in its `.partial` file), the drill waits a random delay
(fixed seed) and kills Snakemake and every job with SIGKILL, as a laptop that dies or a node that is
pre-empted would. It then runs the same
command again (after `snakemake --unlock` when Snakemake refuses a directory whose lock outlived its
owner) and compares every compared artifact with the undisturbed run's bytes, and the episode
records of every JSONL file: lost (in the undisturbed run, not here) and duplicated (more often here),
and counts the critics whose rerun resumed from a mid-run checkpoint instead of starting from zero.
The copies train their critics for CRITIC_STEPS updates with a checkpoint every CHECKPOINT_EVERY, so
that a kill in training lands between checkpoints.

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

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "workflow"))

from test_end_to_end import PHASES, copy_workflow, job_env, rule_phases, run, snapshot  # noqa: E402

MAX_DELAY_S = 4.0  # the kill lands within this many seconds after the phase's first job starts
TRAIN_DELAY_S = 1.0  # in training: within this many seconds after the first mid-run checkpoint
JOURNAL_DELAY_S = 0.2  # generation, evaluation: after the first journaled episode (a shrunken job ends soon after)
CRITIC_STEPS, CHECKPOINT_EVERY = 400, 50
TARGETS = (*PHASES[:3], "ceiling", *PHASES[3:])  # where a kill lands: a phase, or the ceiling's rule
RESUMED = "resuming critic training from update"  # what a resumed training job logs


def drill_copy(root: Path) -> None:
    """The tests' shrunken workflow, with critics long enough to be killed between checkpoints."""
    copy_workflow(REPO, root)
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["sizes"]["quick"]["critic_max_steps"] = CRITIC_STEPS
    params["train"]["critic"]["early_stop_patience"] = 0
    params["train"]["resume_every_n_steps"] = CHECKPOINT_EVERY
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def rules_of(target: str, phase_of: dict[str, str]) -> set[str]:
    if target == "ceiling":
        return {"outcome_ceiling"}
    return {rule for rule, phase in phase_of.items() if phase == target}


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


def started_rules(log: Path) -> set[str]:
    """Rules with a job Snakemake has started, read from its log."""
    seen = set()
    for line in log.read_text(errors="replace").splitlines():
        words = line.replace(":", " ").split()
        if len(words) >= 2 and words[0] in ("rule", "localrule"):
            seen.add(words[1])
    return seen


JOURNALED = {"generate": "trajectories", "evaluate": "eval"}  # phases that append episodes to a .partial journal
JOURNAL_WAIT_S = 30.0  # a phase whose jobs journal nothing in this long is killed anyway


def reached(root: Path, log: Path, target: str, rules: set[str], since: dict[str, float]) -> bool:
    """Whether the kill may land: training once it has a mid-run checkpoint; generation and
    evaluation once a job has journaled an episode (or JOURNAL_WAIT_S after their first job started);
    any other target once its first job started."""
    if target == "train":
        return any((root / "results" / "critic").rglob("resume.ckpt"))
    if not started_rules(log) & rules:
        return False
    if target in JOURNALED:
        since.setdefault(target, time.time())
        journals = (root / "results" / JOURNALED[target]).rglob("*.partial")
        return any(p.stat().st_size > 0 for p in journals) or time.time() - since[target] > JOURNAL_WAIT_S
    return True


def critics(root: Path) -> dict[str, bytes]:
    """The trained critics' bytes (outside test_end_to_end's compared folders; a resumed run must
    equal an undisturbed one here too)."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted((root / "results/critic").rglob("critic.ckpt"))}


def resumed_critics(root: Path) -> int:
    return sum(RESUMED in p.read_text(errors="replace") for p in (root / "results/logs/train_critic").rglob("*.log"))


def kill_run(root: Path, target: str, delay: float) -> dict[str, object]:
    """Start the workflow, kill it `delay` s into `target`, rerun; the row of the drill's table."""
    log = root / "first-run.log"
    rules = rules_of(target, rule_phases(root))
    with open(log, "w") as fh:
        proc = subprocess.Popen(["snakemake", "--cores", "2"], cwd=root, stdout=fh, stderr=subprocess.STDOUT,
                                env=job_env(root), start_new_session=True)
    killed, since = False, {}
    while proc.poll() is None:
        if reached(root, log, target, rules, since):
            time.sleep(delay)
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                killed = True
            break
        time.sleep(0.2)
    proc.wait()
    partial_files = sorted(str(p.relative_to(root)) for p in (root / "results").rglob("*.partial"))
    journaled = sum(len(root.joinpath(p).read_bytes().splitlines()) for p in partial_files)
    rerun = subprocess.run(["snakemake", "--cores", "2"], cwd=root, capture_output=True, text=True, env=job_env(root))
    unlocked = False
    if rerun.returncode and "cannot be locked" in rerun.stdout + rerun.stderr:
        unlocked = True
        run(["snakemake", "--unlock"], root, env=job_env(root))
        rerun = subprocess.run(["snakemake", "--cores", "2"], cwd=root, capture_output=True, text=True,
                               env=job_env(root))
    return {"phase": target, "delay_s": round(delay, 2), "killed": killed, "partial files": partial_files,
            "journaled episodes": journaled,
            "needed --unlock": unlocked, "rerun exit": rerun.returncode, "critics resumed": resumed_critics(root),
            "rerun tail": (rerun.stdout + rerun.stderr)[-1500:] if rerun.returncode else ""}


def undisturbed(root: Path) -> tuple[dict, Counter, dict[str, bytes]]:
    """What a run of a drill copy left in `root` that a killed run must equal: the compared files,
    the episode records and the critics."""
    return snapshot(root), records(root), critics(root)


def one_kill(root: Path, target: str, delay: float, want: tuple[dict, Counter, dict[str, bytes]]) -> dict[str, object]:
    """A fresh drill copy in `root`, killed `delay` s into `target` and rerun, compared with `want`
    (undisturbed()): the row of the drill's table."""
    root.mkdir()
    drill_copy(root)
    row = kill_run(root, target, delay)
    files, want_records, want_critics = want
    got = records(root)
    row["records lost"] = sum((want_records - got).values())
    row["records duplicated"] = sum((got - want_records).values())
    row["equal to undisturbed"] = row["rerun exit"] == 0 and snapshot(root) == files and critics(root) == want_critics
    return row


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--kills-per-phase", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("phases", nargs="*", default=list(TARGETS), help=f"where to kill: {', '.join(TARGETS)}")
    args = ap.parse_args(argv)
    unknown = [p for p in args.phases if p not in TARGETS]
    if unknown:
        ap.error(f"unknown kill target {', '.join(unknown)}; choose from {', '.join(TARGETS)}")
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="kill-") as tmp:
        base = Path(tmp) / "undisturbed"
        base.mkdir()
        drill_copy(base)
        start = time.time()
        run(["snakemake", "--cores", "2"], base, env=job_env(base))
        sys.stdout.write(f"undisturbed run: {time.time() - start:.0f} s\n")
        want, want_records, want_critics = undisturbed(base)
        for phase in args.phases:
            for k in range(args.kills_per_phase):
                delay = rng.uniform(0.0, TRAIN_DELAY_S if phase == "train" else
                                    JOURNAL_DELAY_S if phase in JOURNALED else MAX_DELAY_S)
                row = one_kill(Path(tmp) / f"{phase}-{k}", phase, delay, (want, want_records, want_critics))
                rows.append(row)
                sys.stdout.write(
                    f"{phase:<9} kill at +{row['delay_s']:>4} s  killed={row['killed']!s:<5} "
                    f"partial={len(row['partial files'])} ({row['journaled episodes']} episodes) unlock={row['needed --unlock']!s:<5} "
                    f"resumed={row['critics resumed']} "
                    f"lost={row['records lost']} duplicated={row['records duplicated']} "
                    f"equal={row['equal to undisturbed']}\n")
                if row["rerun tail"]:
                    sys.stdout.write(row["rerun tail"] + "\n")
                sys.stdout.flush()
    killed = sum(bool(r["killed"]) for r in rows)
    equal = sum(bool(r["equal to undisturbed"]) for r in rows)
    lost = sum(int(r["records lost"]) for r in rows)
    dup = sum(int(r["records duplicated"]) for r in rows)
    train_kills = [r for r in rows if r["phase"] == "train" and r["killed"]]
    resumed = sum(bool(r["critics resumed"]) for r in train_kills)
    sys.stdout.write(f"runs={len(rows)} killed={killed} equal={equal} records_lost={lost} records_duplicated={dup} "
                     f"train_kills={len(train_kills)} resumed={resumed}\n")
    return 0 if equal == len(rows) and lost == dup == 0 and resumed == len(train_kills) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
