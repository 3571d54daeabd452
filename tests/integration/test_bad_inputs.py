"""Every bad input of drills/bad_inputs.py: a non-zero exit, one message that names the key or
file:line and what to do, no traceback, nothing half-written (and a full disk resumes to the
undisturbed bytes once there is room)."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "drills"))

import bad_inputs  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def workspace(tmp_path_factory):
    root = tmp_path_factory.mktemp("bad-inputs")
    bad_inputs.prepare(root)
    return root


@pytest.fixture(scope="module")
def mountable():
    return bad_inputs.can_mount()


@pytest.mark.parametrize("case", bad_inputs.CASES, ids=[c.name for c in bad_inputs.CASES])
def test_a_bad_input_gets_one_clear_message_and_leaves_nothing_behind(case, workspace, mountable):
    if case.mount and not mountable:
        pytest.skip("mounting a tmpfs needs root and mount(8)")
    row = bad_inputs.one_case(case, workspace)
    assert row["exit"] != 0, row
    assert not row["traceback"], row["stderr"]
    assert row["message names it"], f"expected {case.expect} in:\n{row['stderr']}"
    assert row["half-written"] == [], row
    assert row["resumed to the same bytes"] in (None, True), row


def test_the_drill_fails_a_case_whose_message_does_not_name_the_key(workspace):
    vague = bad_inputs.Case("vague", bad_inputs.CASES[0].command, ("a word no message holds",))
    row = bad_inputs.one_case(vague, workspace)
    assert not bad_inputs.passed(row)
