"""The PersuasionForGood experiment on the real dialogues: critic and baselines, held out by dialogue."""

import copy
import json

import pytest
import yaml

from pnlc.config import params_from_dict
from pnlc.pipeline.p4g import p4g_experiment

pytestmark = [pytest.mark.slow, pytest.mark.realdata]


@pytest.fixture(scope="module")
def embed_cache(tmp_path_factory):
    """One encoder cache for both state texts: the thoughts and the goal are embedded once."""
    return tmp_path_factory.mktemp("embed")


@pytest.mark.parametrize("state_text", ["summary", "dialogue"])
def test_p4g_critic_is_scored_against_references_on_held_out_dialogues(repo, shared_data, tmp_path, state_text,
                                                                       embed_cache):
    raw = copy.deepcopy(yaml.safe_load((repo / "params.yaml").read_text()))
    raw["p4g"]["data_dir"] = str(shared_data / "persuasion")
    raw["p4g"]["state_text"] = state_text
    raw["p4g"]["bootstrap"]["samples"] = 200
    raw["sizes"]["quick"]["critic_max_steps"] = 200
    raw["embed"]["cache_dir"] = str(embed_cache)
    params = params_from_dict(raw)
    out, fig, rel = tmp_path / "p4g.json", tmp_path / "p4g.png", tmp_path / "rel.png"
    report = p4g_experiment(params, out, fig, rel, tmp_path / "tables", timing_out=tmp_path / "timing.json")
    assert json.loads(out.read_text()) == json.loads(json.dumps(report, default=float))
    # measured seconds differ between runs: they go to the timing file, never into the metrics
    assert '"seconds"' not in out.read_text() and '"transitions_per_s"' not in out.read_text()
    timing = json.loads((tmp_path / "timing.json").read_text())
    assert timing["seconds"]["total"] >= timing["seconds"]["critic"] > 0 and timing["seconds"]["probe"] > 0
    assert timing["critic_training"]["train_seconds"] > 0
    assert report["dialogues"]["train"] + report["dialogues"]["test"] == 1017
    assert abs(report["dialogues"]["test"] - 0.2 * 1017) <= 1
    assert report["bootstrap"]["resampled"] == "held-out dialogues"
    names = list(report["auc"])
    assert names[0] == report["critic"] and names[0].startswith("critic")
    # the probe on the critic's embeddings; two references on the summary, two on the dialogue so far,
    # two on the critic's own dialogue text
    assert names[1].startswith("linear probe (the critic's embeddings of ")
    assert len(names) == (6 if state_text == "summary" else 8)
    for name, aucs in report["auc"].items():
        for key in ("all", "early", "middle", "late"):
            stat = aucs[key]
            assert 0.0 <= stat["lo"] <= stat["auc"] <= stat["hi"] <= 1.0, (name, key)
            assert stat["groups"] <= report["dialogues"]["test"]
        assert aucs["all"]["n"] == report["heldout_states"]
        assert aucs["all"]["groups"] == report["dialogues"]["test"]
    gap = report["critic_minus_best_reference"]
    best = max((n for n in names[2:]), key=lambda n: report["auc"][n]["all"]["auc"])
    assert gap["reference"] == best
    for key in ("all", "early", "middle", "late"):
        diff = gap["difference"][key]
        assert diff["mean"] == pytest.approx(report["auc"][names[0]][key]["auc"] - report["auc"][best][key]["auc"])
        assert diff["lo"] <= diff["mean"] <= diff["hi"]
    table = (tmp_path / "tables" / "p4g.md").read_text()
    assert "real human dialogues" in table and names[0] in table
    assert f"critic − best reference ({best}), paired" in table
    assert {p.suffix for p in (tmp_path / "tables").iterdir()} == {".csv", ".md", ".tex"}
    assert fig.stat().st_size > 1000 and rel.stat().st_size > 1000


def test_missing_data_dir_is_a_clear_error(repo, tmp_path):
    from pnlc.config import ConfigError

    raw = yaml.safe_load((repo / "params.yaml").read_text())
    raw["p4g"]["data_dir"] = str(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="p4g.data_dir: .*nowhere has no full_data.json"):
        p4g_experiment(params_from_dict(raw), tmp_path / "o.json", tmp_path / "f.png", tmp_path / "r.png", tmp_path)
    assert not (tmp_path / "o.json").exists()
