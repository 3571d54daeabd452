"""`pnlc generate`: shards cover the episodes once, resume after a crash, and are byte-identical per seed."""

import subprocess
import sys

import yaml

from pnlc.data import episode_from_dict, read_jsonl


def tiny_params(repo, tmp_path, episodes=12, shards=2):
    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["sizes"]["quick"].update(train_episodes=episodes, shards=shards)
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(raw))
    return path


def generate(params, shard, out):
    cmd = [sys.executable, "-m", "pnlc.cli", "--params", str(params), "generate", "--env", "avalon",
           "--shard", str(shard), "--out", str(out)]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return res


def test_shards_cover_every_episode_once_and_repeat_byte_for_byte(repo, tmp_path):
    params = tiny_params(repo, tmp_path)
    a0, a1, b0 = tmp_path / "a0.jsonl", tmp_path / "a1.jsonl", tmp_path / "b0.jsonl"
    generate(params, 0, a0)
    generate(params, 1, a1)
    generate(params, 0, b0)
    assert a0.read_bytes() == b0.read_bytes()
    eps = read_jsonl(a0, episode_from_dict) + read_jsonl(a1, episode_from_dict)
    assert len(eps) == 12 and len({e.seed for e in eps}) == 12
    assert all(e.steps and "goal_outcomes" in e.info for e in eps)


def test_generation_resumes_after_the_last_complete_episode(repo, tmp_path):
    params = tiny_params(repo, tmp_path, episodes=6, shards=1)
    full = tmp_path / "full.jsonl"
    generate(params, 0, full)
    lines = full.read_bytes().splitlines(keepends=True)
    out = tmp_path / "resumed.jsonl"
    partial = tmp_path / "resumed.jsonl.partial"
    partial.write_bytes(b"".join(lines[:2]) + lines[2][:40])  # two complete episodes and a torn one
    res = generate(params, 0, out)
    assert "resuming" in res.stderr and "after 2 complete episodes" in res.stderr
    assert out.read_bytes() == full.read_bytes()
    assert not partial.exists()


def test_bad_shard_number_is_a_clear_error(repo, tmp_path):
    params = tiny_params(repo, tmp_path)
    cmd = [sys.executable, "-m", "pnlc.cli", "--params", str(params), "generate", "--env", "avalon",
           "--shard", "5", "--out", str(tmp_path / "x.jsonl")]
    res = subprocess.run(cmd, capture_output=True, text=True)
    assert res.returncode == 1
    assert "--shard 5: must be in 0..1" in res.stderr
    assert not (tmp_path / "x.jsonl").exists()
