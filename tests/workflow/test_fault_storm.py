"""drills/fault_storm.py: the tiny Claude workflow against a loopback Messages API that fails 30 %
of all requests (429, 529, 500, hang, drop) finishes, records exactly the usage the server
answered, and writes every planned episode once."""

from __future__ import annotations

import math
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "drills"))

import fault_storm  # noqa: E402
from loopback import USAGE_KEYS  # noqa: E402

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def storm(tmp_path_factory):
    row = fault_storm.drill(tmp_path_factory.mktemp("storm") / "workflow")
    print("\n" + fault_storm.report(row))
    return row


def test_the_workflow_finishes_through_the_storm(storm):
    assert storm["exit"] == 0, storm["log_tail"]


def test_every_kind_of_fault_was_injected_at_the_chosen_rate(storm):
    faults = storm["faults"]
    assert set(faults) == set(fault_storm.KINDS) and all(faults.values()), faults
    assert storm["requests"] == storm["answered"] + sum(faults.values())
    # a binomial share: 4 standard deviations either side of 0.30
    spread = 4 * math.sqrt(fault_storm.RATE * (1 - fault_storm.RATE) / storm["requests"])
    assert storm["retries_logged"] == sum(faults.values())  # each fault retried once, none failed for good
    assert abs(storm["fault_rate"] - fault_storm.RATE) < spread, storm["fault_rate"]
    # the kinds evenly: each within 4 standard deviations of a fifth of the faults
    n, share = sum(faults.values()), 1 / len(fault_storm.KINDS)
    assert all(abs(k - n * share) < 4 * math.sqrt(n * share * (1 - share)) for k in faults.values()), faults


def test_no_answer_was_abandoned_by_the_client(storm):
    assert storm["ok_unanswered"] == 0
    assert storm["slowest_ok_s"] < fault_storm.TIMEOUT_S < fault_storm.HANG_S


def test_recorded_usage_equals_the_servers_count_over_answered_requests(storm):
    recorded, counted = storm["recorded"], storm["counted"]
    assert counted["calls"] == storm["answered"] > 0
    assert {k: recorded[k] for k in USAGE_KEYS} == {k: counted[k] for k in USAGE_KEYS}
    assert math.isclose(recorded["cost_usd"], counted["cost_usd"], rel_tol=1e-9)
    assert storm["usage_equal"]


def test_every_planned_episode_is_recorded_once(storm):
    assert storm["unplanned_files"] == []
    assert storm["lost"] == storm["duplicated"] == 0
    assert storm["episodes"] == storm["planned"] > 0


def test_the_drill_reports_a_pass(storm):
    last = fault_storm.report(storm).splitlines()[-1]
    assert last.endswith("passed=1") and f"faults={sum(storm['faults'].values())}" in last
    assert fault_storm.passed(storm)
