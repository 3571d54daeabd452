"""How close `pnlc estimate` comes to what a run uses: Claude's roles played against the loopback
Messages server, first at a small size (the record), then at a larger one whose bill is estimated
from the record before it runs; the larger run's report sets the estimate against what it used
(results/tables/cost_estimate.md, report.cost_estimate).

    python drills/estimate_loopback.py [--work DIR]

Runs two tiny-size workflows (a few minutes each on 2 cores). Prints the estimate-against-actual
table and a last line of key=value figures.
"""

from __future__ import annotations

import argparse
import csv
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))
sys.path.insert(0, str(REPO / "tests" / "workflow"))

from test_llm_workflows import copy_workflow, job_env, overrides, server, snakemake  # noqa: E402

SMALL = {"train_episodes": 3, "test_tasks": 1}
LARGE = {"train_episodes": 6, "test_tasks": 2}


def sized(root: Path, size: dict) -> None:
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["sizes"]["tiny"].update(size)
    (root / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--work", type=Path, help="working folder (default: a new temporary one)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="pnlc-estimate-"))
    small, large = copy_workflow(work / "small"), copy_workflow(work / "large")
    sized(small, SMALL)
    sized(large, LARGE)
    with server() as fake:
        out = snakemake(small, overrides(fake.url, "off"))
        if out.returncode != 0:
            sys.exit(f"the small run failed:\n{out.stderr[-3000:]}")
        small_requests = len(fake.received)
        # the estimate reads the large run's configuration: params.yaml with the same overrides merged
        config = overrides(fake.url, "off")
        params = yaml.safe_load((large / "params.yaml").read_text())
        for key, value in config.items():
            params[key] = {**params[key], **value} if isinstance(value, dict) and key in params else value
        params["llm"]["anthropic"] = {**yaml.safe_load((large / "params.yaml").read_text())["llm"]["anthropic"],
                                      **config["llm"]["anthropic"]}
        merged = large / "merged.yaml"
        merged.write_text(yaml.safe_dump(params, sort_keys=False))
        estimate = large / "estimate.json"
        subprocess.run(["pnlc", "--params", str(merged), "estimate", "--from", str(small), "--out", str(estimate)],
                       cwd=large, check=True, env=job_env(large))
        config["report"] = {"cost_estimate": str(estimate)}
        out = snakemake(large, config)
        if out.returncode != 0:
            sys.exit(f"the large run failed:\n{out.stderr[-3000:]}")
        large_requests = len(fake.received) - small_requests
    table = large / "results/tables/cost_estimate.md"
    print(table.read_text())
    rows = list(csv.DictReader(open(large / "results/tables/cost_estimate.csv")))
    total = next(r for r in rows if r[next(iter(r))].strip().lower() in ("all", "total"))
    print(f"small_requests={small_requests} large_requests={large_requests} "
          + " ".join(f"{k.strip().replace(' ', '_').lower()}={v.strip()}" for k, v in total.items() if v.strip()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
