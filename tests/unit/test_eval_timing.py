"""An evaluation's measured fields live in a sidecar file: the episode records repeat byte for byte,
a torn pair of files resumes to the same bytes, and the summary joins the two back (or says why not)."""

from __future__ import annotations

import json

import pytest
import yaml

from pnlc.config import params_from_dict
from pnlc.pipeline.evaluate import DECISION_TIMING, evaluate, join_decision_timing, split_decision_timing, summarize


@pytest.fixture
def params(repo):
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["sizes"][raw["size"]]["test_tasks"] = 4
    raw["env"]["persuasion"]["max_turns"] = 3
    return params_from_dict(raw, "test params")


def play(params, tmp_path, name):
    out, timing = tmp_path / f"{name}.jsonl", tmp_path / f"{name}.timing.jsonl"
    evaluate(params, "persuasion", "react", 0, None, out, timing)
    return out, timing


def test_records_carry_no_clock_and_repeat_byte_for_byte(params, tmp_path):
    first, first_timing = play(params, tmp_path, "a")
    second, _ = play(params, tmp_path, "b")
    assert first.read_bytes() == second.read_bytes()
    records = [json.loads(line) for line in first.read_text().splitlines()]
    sidecar = [json.loads(line) for line in first_timing.read_text().splitlines()]
    assert len(records) == len(sidecar) == 4
    for record, timing in zip(records, sidecar):
        assert all(key not in step["decision"] for step in record["steps"] for key in DECISION_TIMING)
        assert all(len(timing[key]) == len(record["steps"]) for key in DECISION_TIMING)
        assert all(seconds > 0 for seconds in timing["seconds"])


def test_a_torn_pair_of_files_resumes_to_the_same_bytes(params, tmp_path):
    whole, whole_timing = play(params, tmp_path, "whole")
    lines = whole.read_bytes().splitlines(keepends=True)
    timing_lines = whole_timing.read_bytes().splitlines(keepends=True)
    # the crash came after the third timing line, before its episode line was complete
    (tmp_path / "torn.jsonl.partial").write_bytes(b"".join(lines[:2]) + lines[2][:40])
    (tmp_path / "torn.timing.jsonl.partial").write_bytes(b"".join(timing_lines[:3]))
    out, timing = play(params, tmp_path, "torn")
    assert out.read_bytes() == whole.read_bytes()
    assert [json.loads(line)["episode"] for line in timing.read_text().splitlines()] == \
        [json.loads(line)["episode"] for line in timing_lines]
    assert not list(tmp_path.glob("*.partial"))


def test_summary_joins_the_sidecar_and_names_a_mismatch(params, tmp_path):
    out, timing = play(params, tmp_path, "a")
    metrics, clock = tmp_path / "metrics.json", tmp_path / "clock.json"
    summarize(params, "persuasion", [out], metrics, clock, [timing])
    measured = json.loads(clock.read_text())["methods"]["react"]
    assert measured["seconds"] > 0 and measured["decisions"] > 0
    assert '"seconds"' not in metrics.read_text()

    lines = timing.read_text().splitlines(keepends=True)
    swapped = tmp_path / "swapped.jsonl"
    swapped.write_text(lines[1] + lines[0] + "".join(lines[2:]))
    with pytest.raises(ValueError, match=r"swapped\.jsonl:1: timing of episode .* different runs"):
        summarize(params, "persuasion", [out], metrics, clock, [swapped])
    short = tmp_path / "short.jsonl"
    short.write_text("".join(lines[:3]))
    with pytest.raises(ValueError, match=r"short\.jsonl: 3 timing lines for 4 episodes"):
        summarize(params, "persuasion", [out], metrics, clock, [short])
    # without the sidecar the records lack the measured fields, and the summary says which
    with pytest.raises(ValueError, match="seconds"):
        summarize(params, "persuasion", [out], metrics, clock)


def test_split_and_join_are_inverse(params, tmp_path):
    from pnlc.data import episode_from_dict, read_jsonl

    out = tmp_path / "whole.jsonl"
    evaluate(params, "persuasion", "react", 0, None, out)  # no sidecar: the fields stay in the records
    for episode in read_jsonl(out, episode_from_dict):
        bare, timing = split_decision_timing(episode)
        assert join_decision_timing(bare, timing, "here:1") == episode
        with pytest.raises(ValueError, match="here:1: 'critic_ms' must list one number per step"):
            join_decision_timing(bare, {**timing, "critic_ms": timing["critic_ms"][:-1]}, "here:1")
