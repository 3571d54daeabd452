"""drills/run_all.py: each drill's last `key=value` line lands in the table's columns, a missing key
shows "-", and the table's last line counts the drills that exited 0."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "drills"))

import run_all  # noqa: E402

LINES = {
    "kill_resume": "runs=8 killed=8 equal=8 records_lost=0 records_duplicated=0 resumed=2",
    "fault_storm": "runs=1 requests=563 faults=171 retries=171 fault_rate=0.30 answered=392 usage_equal=1 "
                   "episodes=21 lost=0 duplicated=0 passed=1",
    "bad_inputs": "cases=21 passed=19 skipped=2 failed=0",
    "secret_key": "requests=40 files_written=60 files_with_key=0 passed=1",
}


def test_every_drill_maps_only_keys_into_known_columns():
    assert set(run_all.KEYS) == set(run_all.DRILLS)
    assert all(set(cols) <= set(run_all.COLUMNS) for cols in run_all.KEYS.values())


@pytest.mark.parametrize("name", sorted(LINES))
def test_every_mapped_key_is_on_the_drills_last_line(name):
    row = run_all.row_of(name, f"some output\nwith = signs in it\n{LINES[name]}\n\n", 0)
    pairs = dict(word.split("=") for word in LINES[name].split())
    for col in run_all.COLUMNS:
        key = run_all.KEYS[name].get(col)
        assert row[col] == (pairs[key] if key else "-"), (col, row)


def test_a_missing_key_shows_a_dash_and_a_failed_drill_fails_the_table():
    rows = [
        {**run_all.row_of("kill_resume", "runs=2 killed=2 equal=1 records_lost=3 records_duplicated=0", 1),
         "minutes": "9.0"},
        {**run_all.row_of("secret_key", "Traceback (most recent call last):\nValueError: x", 1), "minutes": "0.1"},
        {**run_all.row_of("bad_inputs", LINES["bad_inputs"], 0), "minutes": "3.0"},
    ]
    assert rows[0]["resumed"] == "-" and rows[0]["records lost"] == "3"
    assert rows[1]["equal to undisturbed (or passed)"] == "-"
    text = run_all.table(rows)
    assert text.splitlines()[-1] == "drills=3 passed=1 failed=2"
    assert len(text.splitlines()) == 2 + len(rows) + 1
