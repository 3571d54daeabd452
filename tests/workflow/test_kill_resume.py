"""drills/kill_resume.py in CI, for the phase with the most to lose: the workflow is killed with
SIGKILL while critic training is between two mid-run checkpoints, and the same command, rerun,
resumes training from the last checkpoint and ends in the undisturbed run's bytes (the other
phases' kills run in the drill, outside CI)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "drills"))

import kill_resume  # noqa: E402

pytestmark = pytest.mark.slow


def test_a_kill_during_training_resumes_from_the_checkpoint_to_the_same_bytes(tmp_path):
    base = tmp_path / "undisturbed"
    base.mkdir()
    kill_resume.drill_copy(base)
    kill_resume.run(["snakemake", "--cores", "2"], base, env=kill_resume.job_env(base))
    want = kill_resume.undisturbed(base)
    assert want[2], "the undisturbed run trained no critic"
    row = kill_resume.one_kill(tmp_path / "killed", "train", 0.3, want)
    assert row["killed"], row
    assert row["rerun exit"] == 0, row["rerun tail"]
    assert row["critics resumed"] >= 1, row
    assert row["records lost"] == row["records duplicated"] == 0, row
    assert row["equal to undisturbed"], row
