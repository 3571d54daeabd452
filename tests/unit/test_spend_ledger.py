"""The spend ledger: caps that hold for every process booking on one file."""

from __future__ import annotations

import json
import multiprocessing

import pytest

from pnlc.llm import BudgetExceeded, LLMError, SpendGuard
from pnlc.llm.ledger import SpendLedger


_PAID_ONCE = multiprocessing.get_context("fork").Barrier(3)  # forked into the pool's three jobs


def spend_until_refused(path: str) -> int:
    """One job: reserve and pay 0.01 per call (estimate 0.02) until a cap refuses; calls paid. Each
    job pays one call and waits for the others to have paid theirs, so that all three book on the
    ledger together however busy the machine is (one job could otherwise spend the cap alone)."""
    guard = SpendGuard(spend_cap_usd=1.0, call_cap=30, ledger=SpendLedger(path))
    guard.reserve(0.02).charge(0.01)
    _PAID_ONCE.wait(timeout=60)
    paid = 1
    while True:
        try:
            booking = guard.reserve(0.02)
        except BudgetExceeded:
            return paid
        booking.charge(0.01)
        paid += 1


def test_the_call_cap_holds_for_all_processes_together(tmp_path):
    path = str(tmp_path / "spend.json")
    with multiprocessing.get_context("fork").Pool(3) as pool:
        paid = pool.map(spend_until_refused, [path] * 3)
    assert sum(paid) == 30  # three jobs, one cap
    totals = json.loads((tmp_path / "spend.json").read_text())
    assert totals["calls"] == 30 and totals["spent_usd"] == pytest.approx(0.30)


def test_a_failed_call_gives_back_its_booking_and_the_refusal_names_the_ledger(tmp_path):
    ledger = SpendLedger(tmp_path / "spend.json")
    first = SpendGuard(spend_cap_usd=0.05, call_cap=None, ledger=ledger)
    other_job = SpendGuard(spend_cap_usd=0.05, call_cap=None, ledger=SpendLedger(tmp_path / "spend.json"))
    held = first.reserve(0.03)
    assert ledger.totals() == (1, pytest.approx(0.03))  # the estimate is held while the call runs
    with pytest.raises(BudgetExceeded, match="jobs booking on .*spend.json"):
        other_job.reserve(0.03)
    held.release()
    assert ledger.totals() == (0, pytest.approx(0.0))
    other_job.reserve(0.03).charge(0.02)
    assert ledger.totals() == (1, pytest.approx(0.02)) and first.calls == 0


def test_a_damaged_ledger_is_named_with_what_to_do(tmp_path):
    (tmp_path / "spend.json").write_text("{not json")
    with pytest.raises(LLMError, match=r"spend\.json: damaged spend ledger .*delete it"):
        SpendGuard(1.0, None, SpendLedger(tmp_path / "spend.json")).reserve(0.01)
