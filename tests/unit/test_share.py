import json

import pytest

from pnlc import share


def test_only_pipeline_stages_decide_staleness():
    status = {"p4g": [{"changed deps": {"src/pnlc/pipeline/p4g.py": "modified"}}],
              "evaluate": [{"changed params": {"params.yaml": {"evaluate.bootstrap_samples": "modified"}}}]}
    assert list(share.stale_stages(json.dumps(status))) == ["evaluate"]
    assert share.stale_stages("{}") == {} and share.stale_stages("") == {}


def test_a_stale_stage_is_reported_and_nothing_is_touched(monkeypatch):
    calls = []
    status = json.dumps({"train": [{"changed deps": {"src/pnlc/value": "modified"}}]})
    monkeypatch.setattr(share, "_run", lambda cmd: calls.append(cmd) or (status if cmd[1] == "status" else ""))
    with pytest.raises(share.PullError, match="train.*dvc repro"):
        share.pull("lab")
    assert calls == [["dvc", "pull", "--remote", "lab"], ["dvc", "status", "--json"]]


def test_a_current_checkout_is_adopted_by_snakemake(monkeypatch):
    calls = []
    monkeypatch.setattr(share, "_run", lambda cmd: calls.append(cmd) or "")
    share.pull(cores=2)
    assert calls[-1] == ["snakemake", "--cores", "2", "--touch", "--forceall", "all"]
