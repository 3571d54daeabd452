"""drills/secret_key.py: the API key reaches every request of a run against the loopback Messages
API, and no file the run wrote or touched (results, logs, caches, the DVC cache, the report) holds it."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "drills"))

import secret_key  # noqa: E402

pytestmark = pytest.mark.slow


def test_the_key_reaches_the_api_and_no_file(tmp_path):
    row = secret_key.drill(tmp_path)
    assert row["requests"] > 0
    assert row["requests carrying the key"] == row["requests"]
    assert row["files holding the key"] == [] and row["files holding its last 12 characters"] == []
    assert row["401 exit"] != 0 and "ANTHROPIC_API_KEY" in row["401 message"]
    assert secret_key.passed(row)


def test_the_search_finds_a_key_that_was_written(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / "b" / "log.txt").write_bytes(b"x-api-key: sk-ant-drill-0123456789abcdef\n")
    assert secret_key.files_holding(tmp_path, b"sk-ant-drill-0123456789abcdef") == ["a/b/log.txt"]


def test_a_dvc_repro_of_the_claude_workflow_leaves_the_key_in_no_file(tmp_path):
    """Through the workflow: `dvc repro` of every phase (DVC cache, `.snakemake/`, job logs, LLM and
    embedding caches) and `snakemake --report`."""
    row = secret_key.workflow_drill(tmp_path)
    assert row["requests"] > 0 and row["requests carrying the key"] == row["requests"]
    assert row["DVC cache files"] > 0 and row["report written"]
    assert row["files holding the key"] == [] and row["files holding its last 12 characters"] == []
