"""The answer-forms table: per environment, phase, model and role, how many answers came back in
format, from the episodes' counts and the annotation summarizer's."""

import json

import pytest

from pnlc.data import write_jsonl
from pnlc.data.records import Episode
from pnlc.evaluation.forms import FormsError, annotation_counts, episode_counts, forms_table


def episode(env: str, answers: dict | None, backend: str = "hf") -> Episode:
    info = {} if answers is None else {"answers": answers}
    return Episode(env=env, task_id="t0", seed=0, policy="react", backend=backend, model="Smol@1", steps=(),
                   final_observation="", final_summary="", outcome={}, metric=0.0, info=info)


def test_counts_sum_over_episodes_and_rates_are_shares_of_first_answers(tmp_path):
    evals = tmp_path / "eval.jsonl"
    write_jsonl(evals, [
        episode("avalon", {"act": {"asked": 4, "malformed": 1, "defaulted": 0}}),
        episode("avalon", {"act": {"asked": 6, "malformed": 1, "defaulted": 1},
                           "refine": {"asked": 2, "malformed": 2, "defaulted": 2}}),
    ])
    usage = tmp_path / "avalon" / "hf.usage.json"
    usage.parent.mkdir()
    usage.write_text(json.dumps({"state_text": "llm:hf/Smol@1", "forms": {
        "summarize": {"asked": 5, "first_ok": 4, "reask_ok": 1, "defaulted": 0}}}))
    counts = {**episode_counts([evals], "evaluate"), **annotation_counts([usage])}
    assert counts[("avalon", "evaluate", "Smol@1", "act")] == {"asked": 10, "malformed": 2, "defaulted": 1}
    assert counts[("avalon", "annotate", "Smol@1", "summarize")] == {"asked": 5, "malformed": 1, "defaulted": 0}
    table = forms_table(counts, "hf", "answer_forms_hf")
    rows = {(r[0], r[1], r[3]): r for r in table.rows}
    assert rows[("avalon", "evaluate", "act")][7:] == ("80.0", "90.0")
    assert rows[("all", "all", "refine")][7:] == ("0.0", "0.0")
    assert rows[("all", "all", "summarize")][4:] == ("5", "1", "0", "80.0", "100.0")
    assert [r[1] for r in table.rows[:3]] == ["annotate", "evaluate", "evaluate"]  # phases in pipeline order


def test_simulated_episodes_have_no_counts_and_are_refused_by_name(tmp_path):
    path = tmp_path / "sim.jsonl"
    write_jsonl(path, [episode("webshop", None, backend="sim")])
    with pytest.raises(FormsError, match="sim.jsonl.*backend sim.*records no answer counts"):
        episode_counts([path], "generate")
    with pytest.raises(FormsError, match="no answer counts"):
        forms_table({}, "hf", "x")
