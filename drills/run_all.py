"""Every drill, one table: runs each drill as a subprocess, keeps its whole output in a log folder,
reads the `key=value` pairs of its last line and prints one row per drill.

    PYTHONPATH=$PWD/src python drills/run_all.py [--quick] [--logs DIR] [drill[:arg,arg...] ...]

No names: every drill in DRILLS. `drill:arg,arg` passes arguments to that drill (bad_inputs takes
case names). `--quick` gives each drill its smaller settings where it has any (QUICK). The table's
last line is `key=value` pairs; the exit status is non-zero if any drill failed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DRILLS = ("kill_resume", "fault_storm", "bad_inputs", "secret_key")
QUICK: dict[str, list[str]] = {"kill_resume": ["--kills-per-phase", "1"]}
COLUMNS = ("runs", "faults injected", "resumed", "records lost", "records duplicated",
           "equal to undisturbed (or passed)")
# For each drill, the key of its last line shown in each column; a column it lacks shows "-".
KEYS: dict[str, dict[str, str]] = {
    "kill_resume": {"runs": "runs", "faults injected": "killed", "resumed": "resumed",
                    "records lost": "records_lost", "records duplicated": "records_duplicated",
                    "equal to undisturbed (or passed)": "equal"},
    "fault_storm": {"runs": "runs", "faults injected": "faults", "records lost": "lost",
                    "records duplicated": "duplicated", "equal to undisturbed (or passed)": "passed"},
    "bad_inputs": {"runs": "cases", "faults injected": "cases", "equal to undisturbed (or passed)": "passed"},
    "secret_key": {"equal to undisturbed (or passed)": "passed"},
}


def last_pairs(text: str) -> dict[str, str]:
    """The `key=value` pairs of the last line made only of them ({} if none)."""
    for line in reversed(text.splitlines()):
        words = line.split()
        if words and all("=" in w and not w.startswith("=") for w in words):
            return dict(w.split("=", 1) for w in words)
    return {}


def run_drill(name: str, args: list[str], logs: Path) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO / "src"),
                                                                      os.environ.get("PYTHONPATH")]))}
    log = logs / f"{name}.log"
    start = time.monotonic()
    with open(log, "w") as fh:
        done = subprocess.run([sys.executable, str(REPO / "drills" / f"{name}.py"), *args], cwd=REPO, env=env,
                              stdout=fh, stderr=subprocess.STDOUT)
    return {**row_of(name, log.read_text(errors="replace"), done.returncode),
            "minutes": f"{(time.monotonic() - start) / 60:.1f}"}


def row_of(name: str, output: str, exit_code: int) -> dict[str, object]:
    """A drill's row: its last line's values in the columns KEYS maps them to, "-" where it has none."""
    pairs = last_pairs(output)
    row: dict[str, object] = {"drill": name}
    row.update({col: pairs.get(KEYS[name].get(col, ""), "-") for col in COLUMNS})
    row["exit"] = exit_code
    return row


def table(rows: list[dict[str, object]]) -> str:
    heads = ["drill", *COLUMNS, "exit", "minutes"]
    cells = [[str(r[h]) for h in heads] for r in rows]
    widths = [max(len(h), *(len(c[i]) for c in cells)) for i, h in enumerate(heads)]
    fmt = lambda values: "  ".join(v.ljust(w) if i == 0 else v.rjust(w)  # noqa: E731
                                   for i, (v, w) in enumerate(zip(values, widths)))
    lines = [fmt(heads), fmt(["-" * w for w in widths]), *(fmt(c) for c in cells)]
    ok = sum(r["exit"] == 0 for r in rows)
    lines.append(f"drills={len(rows)} passed={ok} failed={len(rows) - ok}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="each drill's smaller settings (QUICK)")
    ap.add_argument("--logs", type=Path, help="folder for the drills' outputs (default: a new one in /tmp)")
    ap.add_argument("drills", nargs="*", metavar="drill[:arg,arg...]")
    args = ap.parse_args(argv)
    chosen = [(spec.partition(":")[0], [a for a in spec.partition(":")[2].split(",") if a])
              for spec in args.drills] or [(name, []) for name in DRILLS]
    unknown = [name for name, _ in chosen if name not in DRILLS]
    if unknown:
        ap.error(f"unknown drill(s) {', '.join(unknown)}; choose among {', '.join(DRILLS)}")
    logs = args.logs or Path(tempfile.mkdtemp(prefix="pnlc-drills-"))
    logs.mkdir(parents=True, exist_ok=True)
    rows = []
    for name, extra in chosen:
        sys.stderr.write(f"{name}: running, output in {logs / (name + '.log')}\n")
        rows.append(run_drill(name, (QUICK.get(name, []) if args.quick else []) + extra, logs))
    sys.stdout.write(f"logs: {logs}\n" + table(rows))
    return 0 if all(r["exit"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
