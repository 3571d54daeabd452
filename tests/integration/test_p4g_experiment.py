"""The PersuasionForGood experiment on the real dialogues: critic and baselines, held out by dialogue."""

import copy
import json

import pytest
import yaml

from pnlc.config import params_from_dict
from pnlc.pipeline.p4g import p4g_experiment

pytestmark = [pytest.mark.slow, pytest.mark.realdata]


def test_p4g_critic_is_scored_against_baselines_on_held_out_dialogues(repo, shared_data, tmp_path):
    raw = copy.deepcopy(yaml.safe_load((repo / "params.yaml").read_text()))
    raw["p4g"]["data_dir"] = str(shared_data / "persuasion")
    raw["sizes"]["quick"]["critic_max_steps"] = 200
    raw["embed"]["cache_dir"] = str(tmp_path / "embed")
    params = params_from_dict(raw)
    out, fig = tmp_path / "p4g.json", tmp_path / "p4g.png"
    report = p4g_experiment(params, out, fig)
    assert json.loads(out.read_text()) == json.loads(json.dumps(report, default=float))
    assert report["dialogues"]["train"] + report["dialogues"]["test"] == 1017
    assert abs(report["dialogues"]["test"] - 0.2 * 1017) <= 1
    for name, aucs in report["auc"].items():
        for key in ("all", "early", "middle", "late"):
            assert 0.0 <= aucs[key] <= 1.0, (name, key)
    assert fig.stat().st_size > 1000


def test_missing_data_dir_is_a_clear_error(repo, tmp_path):
    from pnlc.config import ConfigError

    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["p4g"]["data_dir"] = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="p4g.data_dir: .*nowhere has no full_data.json"):
        p4g_experiment(params_from_dict(raw), tmp_path / "o.json", tmp_path / "f.png")
    assert not (tmp_path / "o.json").exists()
