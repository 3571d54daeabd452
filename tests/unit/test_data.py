import json

import pytest

from pnlc.data import (
    CorruptRecordError,
    Episode,
    Step,
    Usage,
    append_jsonl,
    count_complete,
    episode_from_dict,
    read_jsonl,
    truncate_incomplete,
    write_jsonl,
)


def make_episode(i: int) -> Episode:
    steps = tuple(
        Step(index=t, observation=f"obs {t}", state_summary=f"state {t}", thought=f"think {t}",
             action=f"act[{t}]", reward=0.0, done=t == 1)
        for t in range(2)
    )
    return Episode(env="avalon", task_id=f"train-{i}", seed=i, policy="react", backend="sim",
                   model="sim-prior", steps=steps, final_observation="end", final_summary="Good wins.",
                   outcome={"good_win": True}, metric=1.0, usage=Usage(calls=2, input_tokens=10),
                   prompt_hashes={"act": "abc"})


def test_roundtrip_preserves_every_field(tmp_path):
    path = tmp_path / "shard0.jsonl"
    eps = [make_episode(i) for i in range(3)]
    assert write_jsonl(path, eps) == 3
    back = read_jsonl(path, episode_from_dict)
    assert back == eps
    assert back[0].usage.calls == 2 and back[0].steps[1].done


def test_corrupt_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    write_jsonl(path, [make_episode(0)])
    with open(path, "a") as fh:
        fh.write("{not json\n")
    with pytest.raises(CorruptRecordError, match=r"bad\.jsonl:2: not valid JSON"):
        read_jsonl(path, episode_from_dict)


def test_truncated_last_line_is_rejected_and_resume_drops_it(tmp_path):
    path = tmp_path / "shard.jsonl"
    append_jsonl(path, make_episode(0))
    append_jsonl(path, make_episode(1))
    with open(path, "ab") as fh:
        fh.write(b'{"env": "aval')
    with pytest.raises(CorruptRecordError, match=r"shard\.jsonl:3: truncated"):
        read_jsonl(path, episode_from_dict)
    assert count_complete(path) == 2
    assert truncate_incomplete(path) == 2
    assert len(read_jsonl(path, episode_from_dict)) == 2


def test_record_with_unknown_or_missing_field_is_rejected(tmp_path):
    path = tmp_path / "x.jsonl"
    data = json.loads(json.dumps(__import__("dataclasses").asdict(make_episode(0))))
    data["surprise"] = 1
    path.write_text(json.dumps(data) + "\n")
    with pytest.raises(CorruptRecordError, match=r"x\.jsonl:1: Episode: unknown field\(s\) surprise"):
        read_jsonl(path, episode_from_dict)
    del data["surprise"]
    del data["metric"]
    path.write_text(json.dumps(data) + "\n")
    with pytest.raises(CorruptRecordError, match="missing field"):
        read_jsonl(path, episode_from_dict)


def test_schema_version_mismatch_is_rejected(tmp_path):
    path = tmp_path / "old.jsonl"
    data = __import__("dataclasses").asdict(make_episode(0))
    data["schema_version"] = 0
    path.write_text(json.dumps(data) + "\n")
    with pytest.raises(CorruptRecordError, match="schema_version 0"):
        read_jsonl(path, episode_from_dict)


def test_failed_atomic_write_leaves_nothing(tmp_path):
    path = tmp_path / "out.jsonl"

    def records():
        yield make_episode(0)
        raise RuntimeError("crash mid-write")

    with pytest.raises(RuntimeError):
        write_jsonl(path, records())
    assert not path.exists()
    assert list(tmp_path.iterdir()) == []


def test_same_records_give_identical_bytes(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_jsonl(a, [make_episode(0)])
    write_jsonl(b, [make_episode(0)])
    assert a.read_bytes() == b.read_bytes()


def test_atomic_writes_get_ordinary_permissions(tmp_path):
    import os

    path = tmp_path / "readable.jsonl"
    write_jsonl(path, [make_episode(0)])
    umask = os.umask(0)
    os.umask(umask)
    assert path.stat().st_mode & 0o777 == 0o666 & ~umask
