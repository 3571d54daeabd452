"""The whole staleness matrix, every case rerun (too long for CI, which checks the cheap cases).

For each change: a copy of one workflow run from scratch at the tests' shrunken size (run once and
copied with its timestamps, Snakemake metadata and DVC cache); the change applied;
`snakemake -n` and `dvc status` compared; `dvc repro report` run; its outputs compared byte for byte
with a second copy run from scratch with the change already made; `dvc status` checked clean after
the repro and after a plain `snakemake`. Usage (from the repository root):

    PYTHONPATH=$PWD/src python drills/staleness_matrix.py [case ...]

The last line prints `key=value` pairs: cases run and cases that passed every check.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "workflow"))

from test_end_to_end import (  # noqa: E402
    PARAM_CHANGES,
    SOURCE_CHANGES,
    copy_workflow,
    dvc_phases,
    edit_params,
    job_env,
    run,
    snakemake_phases,
    snapshot,
    stages_run,
)


def apply(root: Path, case: str, value) -> list[str]:
    """Make the change in a workflow copy; return extra snakemake arguments (for --config)."""
    if case.startswith("src/"):
        (root / case).write_text((root / case).read_text() + "\n# changed\n")
    elif case == "--config":
        return ["--config", "size=mini"]
    elif case == "deleted output":
        (root / "results/metrics/eval/avalon_sim.json").unlink()
    else:
        edit_params(root, case, value)
    return []


def scratch_run(workspace: Path) -> Path:
    """The undisturbed run every case starts from."""
    root = workspace / "scratch"
    root.mkdir()
    copy_workflow(REPO, root)
    run(["snakemake", "--cores", "2"], root, env=job_env(root))
    return root


def one_case(case: str, value, workspace: Path, scratch: Path) -> dict[str, object]:
    base, fresh = workspace / "base", workspace / "fresh"
    shutil.copytree(scratch, base, symlinks=True)
    extra = apply(base, case, value)
    planned = snakemake_phases(base, *extra)
    reported = dvc_phases(base)
    if extra:  # a command-line override: run it, then DVC restores params.yaml's results
        run(["snakemake", "--cores", "2", *extra], base, env=job_env(base))
        reported = dvc_phases(base)
    ran = stages_run(run(["dvc", "repro", "report"], base, env=job_env(base)))
    clean_after_repro = dvc_phases(base) == set()
    if case in ("--config", "deleted output"):  # params.yaml unchanged: the fresh run is the scratch run
        fresh = scratch
    else:
        fresh.mkdir()
        copy_workflow(REPO, fresh)
        apply(fresh, case, value)
        run(["snakemake", "--cores", "2"], fresh, env=job_env(fresh))
    same_bytes = snapshot(base) == snapshot(fresh)
    run(["snakemake", "--cores", "2"], base, env=job_env(base))
    clean_after_snakemake = dvc_phases(base) == set() and snakemake_phases(base) == set()
    return {
        "case": case, "snakemake -n": sorted(planned), "dvc status": sorted(reported), "dvc repro ran": sorted(ran),
        "bytes equal a fresh run": same_bytes, "clean after repro": clean_after_repro,
        "clean after snakemake": clean_after_snakemake,
    }


def main(argv: list[str]) -> int:
    cases = [(c, None) for c, _ in SOURCE_CHANGES] + list(PARAM_CHANGES) + [("--config", None), ("deleted output", None)]
    if argv:
        cases = [c for c in cases if c[0] in argv]
    passed = 0
    with tempfile.TemporaryDirectory(prefix="staleness-") as tmp:
        scratch = scratch_run(Path(tmp))
        for case, value in cases:
            start = time.time()
            with tempfile.TemporaryDirectory(prefix="case-", dir=tmp) as case_dir:
                try:
                    result = one_case(case, value, Path(case_dir), scratch)
                except AssertionError as error:  # a command failed: the case fails, the matrix goes on
                    result = {"case": case, "error": str(error)[-2000:], "bytes equal a fresh run": False}
            ok = (result["bytes equal a fresh run"] and result["clean after repro"]
                  and result["clean after snakemake"] and set(result["dvc status"]) <= set(result["snakemake -n"])
                  ) if "error" not in result else False
            passed += bool(ok)
            sys.stdout.write(f"{'PASS' if ok else 'FAIL'} {result} ({time.time() - start:.0f} s)\n")
            sys.stdout.flush()
    sys.stdout.write(f"cases={len(cases)} passed={passed}\n")
    return 0 if passed == len(cases) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
