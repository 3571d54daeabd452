"""Evaluation statistics, metrics JSON, tables, paper comparison, figures and episode viewer."""

from __future__ import annotations

import csv
import io
import json
import math
import re

import numpy as np
import pytest

from pnlc.data.jsonl import read_jsonl, write_jsonl
from pnlc.data.records import Episode, Step, episode_from_dict
from pnlc.evaluation import (
    DecisionTraceError,
    MetricsError,
    PairingError,
    bootstrap_ci,
    compare_methods,
    comparison_table,
    cost_per_decision,
    cost_table,
    differences_table,
    main_table,
    method_label,
    order_methods,
    paired_difference,
    paper_value,
    read_metrics_json,
    render_viewer,
    summarize_method,
    write_metrics_json,
    write_table,
    write_viewer,
)
from pnlc.evaluation.tables import latex_escape

BOOT = dict(n_boot=2000, ci=0.95, seed=7)

# ----------------------------------------------------------------------------- builders

FLAGS = {
    "react": dict(reads_env_reward=False, uses_critic=False, privileged=False),
    "pnlc": dict(reads_env_reward=False, uses_critic=True, privileged=False),
    "lats_n30": dict(reads_env_reward=True, uses_critic=False, privileged=False),
    "oracle": dict(reads_env_reward=False, uses_critic=False, privileged=True),
}
CALLS = {"react": 2, "pnlc": 4, "lats_n30": 60, "oracle": 1}


def make_step(index: int, method: str, *, thought="Stay quiet and back the leader.", critic_ms=0.0,
              rounds=None) -> Step:
    decision = {
        "policy_calls": CALLS[method],
        "input_tokens": 100 * CALLS[method],
        "output_tokens": 10 * CALLS[method],
        "seconds": 0.01 * CALLS[method],
        "critic_ms": critic_ms,
        "candidates": [thought],
        "rounds": rounds or [],
        "final_thought": thought,
    }
    return Step(index=index, observation=f"obs {index}", state_summary=f"summary {index}", thought=thought,
                action="vote[approve]", reward=0.0, done=False, decision=decision)


def make_episode(env: str, method: str, task: str, seed: int, metric: float, *, backend="sim",
                 outcome=None, n_steps=2, critic_ms=0.0, rounds=None) -> Episode:
    if outcome is None:
        outcome = {
            "avalon": {"good_win": metric > 0},
            "webshop": {"success": metric >= 1.0},
            "persuasion": {"donated": metric > 0},
        }[env]
    steps = tuple(make_step(i, method, critic_ms=critic_ms + i, rounds=rounds) for i in range(n_steps))
    info = {"method": method, "trial": 0, "simulated": backend == "sim", **FLAGS[method]}
    return Episode(env=env, task_id=task, seed=seed, policy=method, backend=backend,
                   model="sim-prior" if backend == "sim" else "claude-test", steps=steps,
                   final_observation="end", final_summary="done", outcome=outcome, metric=metric, info=info)


def avalon_runs(n_tasks=40, seeds=(0, 1), p=None, backend="sim"):
    """Bernoulli wins per method, shared (task, seed) keys; pnlc wins more than react."""
    p = p or {"react": 0.2, "pnlc": 0.5, "lats_n30": 0.35, "oracle": 0.8}
    rng = np.random.default_rng(0)
    runs = {}
    for method, rate in p.items():
        runs[method] = [
            make_episode("avalon", method, f"t{t}", s, float(rng.random() < rate), backend=backend,
                         critic_ms=5.0 if method == "pnlc" else 0.0)
            for t in range(n_tasks) for s in seeds
        ]
    return runs


def webshop_runs():
    rewards = {"react": [0.5, 1.0, 0.2, 0.0], "pnlc": [1.0, 1.0, 0.6, 0.5]}
    return {m: [make_episode("webshop", m, f"w{i}", 0, r) for i, r in enumerate(rs)] for m, rs in rewards.items()}


def persuasion_runs():
    dollars = {"react": [0.0, 0.5, 0.0, 1.0], "pnlc": [1.0, 0.5, 0.0, 2.0]}
    return {m: [make_episode("persuasion", m, f"p{i}", 0, d) for i, d in enumerate(ds)] for m, ds in dollars.items()}


@pytest.fixture(scope="module")
def all_metrics():
    return [
        compare_methods(avalon_runs(), "avalon", reference="react", **BOOT),
        compare_methods(webshop_runs(), "webshop", reference="react", **BOOT),
        compare_methods(persuasion_runs(), "persuasion", reference="react", **BOOT),
    ]


# ----------------------------------------------------------------------------- stats


def test_bootstrap_on_bernoulli_covers_p_with_normal_width():
    p, n = 0.3, 2000
    x = (np.random.default_rng(123).random(n) < p).astype(float)
    mean, lo, hi = bootstrap_ci(x, n_boot=4000, ci=0.95, seed=1)
    assert mean == pytest.approx(x.mean())
    assert lo < p < hi
    assert lo < mean < hi
    expected_width = 2 * 1.96 * math.sqrt(p * (1 - p) / n)
    assert (hi - lo) == pytest.approx(expected_width, rel=0.12)


def test_bootstrap_is_deterministic_in_seed_and_narrows_with_ci():
    x = np.random.default_rng(5).normal(size=300)
    assert bootstrap_ci(x, 1000, 0.95, 3) == bootstrap_ci(x, 1000, 0.95, 3)
    _, lo95, hi95 = bootstrap_ci(x, 1000, 0.95, 3)
    _, lo50, hi50 = bootstrap_ci(x, 1000, 0.50, 3)
    assert lo95 < lo50 < hi50 < hi95


def test_bootstrap_of_constant_sample_is_a_point():
    assert bootstrap_ci([2.0, 2.0, 2.0], 100, 0.95, 0) == (2.0, 2.0, 2.0)


@pytest.mark.parametrize("bad", [dict(values=[], n_boot=10, ci=0.95), dict(values=[1.0], n_boot=0, ci=0.95),
                                 dict(values=[1.0], n_boot=10, ci=95), dict(values=[float("nan")], n_boot=10, ci=0.9)])
def test_bootstrap_rejects_bad_input(bad):
    with pytest.raises(ValueError):
        bootstrap_ci(seed=0, **bad)


def test_paired_difference_removes_shared_task_variation():
    rng = np.random.default_rng(0)
    keys = [(f"t{i}", s) for i in range(100) for s in (0, 1)]
    difficulty = {k: rng.normal(scale=10.0) for k in keys}
    a = {k: difficulty[k] + 1.0 + rng.normal(scale=0.1) for k in keys}
    b = {k: difficulty[k] for k in keys}
    d = paired_difference(a, b, n_boot=2000, ci=0.95, seed=0)
    assert d["n"] == 200
    assert d["mean"] == pytest.approx(1.0, abs=0.05)
    assert 0.9 < d["lo"] < 1.0 < d["hi"] < 1.1  # paired: narrow despite the task spread
    unpaired = bootstrap_ci(list(a.values()), 2000, 0.95, 0)
    assert unpaired[2] - unpaired[1] > 10 * (d["hi"] - d["lo"])


def test_paired_difference_of_identical_methods_is_zero():
    a = {("t", s): float(s % 3) for s in range(20)}
    assert paired_difference(a, dict(a), 500, 0.95, 0) == {"mean": 0.0, "lo": 0.0, "hi": 0.0, "n": 20}


def test_paired_difference_requires_the_same_keys():
    a = {("t1", 0): 1.0, ("t2", 0): 0.0}
    b = {("t1", 0): 1.0, ("t3", 0): 0.0}
    with pytest.raises(PairingError, match=r"only in the first \(\('t2', 0\)\).*only in the second \(\('t3', 0\)\)"):
        paired_difference(a, b, 100, 0.95, 0)


# ----------------------------------------------------------------------------- metrics


def test_summarize_avalon_method():
    eps = [make_episode("avalon", "pnlc", f"t{i}", 0, float(i % 2), critic_ms=4.0, n_steps=3) for i in range(10)]
    s = summarize_method(eps, "avalon", **BOOT)
    win = s["task_metrics"]["win_rate"]
    assert win["mean"] == pytest.approx(50.0) and win["n"] == 10
    assert 0.0 <= win["lo"] < 50.0 < win["hi"] <= 100.0
    assert s["n_episodes"] == 10 and s["n_tasks"] == 10 and s["n_seeds"] == 1
    assert (s["reads_env_reward"], s["uses_critic"], s["privileged"]) == (False, True, False)
    assert s["base_model"] == "sim-prior" and s["backend"] == "sim" and s["simulated"] is True
    cost = s["cost"]
    assert cost["decisions"] == 30
    assert cost["policy_calls"] == 4.0 and cost["input_tokens"] == 400.0 and cost["output_tokens"] == 40.0
    assert cost["tokens"] == 440.0 and cost["seconds"] == pytest.approx(0.04)
    assert cost["critic_ms"] == pytest.approx(5.0)  # steps have 4, 5, 6 ms
    assert cost["critic_ms_p50"] == pytest.approx(5.0)
    assert cost["tokens_label"] == "tokens (words, simulated)"


def test_summarize_webshop_and_persuasion_metrics():
    s = summarize_method(webshop_runs()["react"], "webshop", **BOOT)
    assert s["task_metrics"]["score"]["mean"] == pytest.approx(42.5)
    assert s["task_metrics"]["success_rate"]["mean"] == pytest.approx(25.0)
    s = summarize_method(persuasion_runs()["pnlc"], "persuasion", **BOOT)
    assert s["task_metrics"]["donation"]["mean"] == pytest.approx(0.875)
    assert s["task_metrics"]["donor_rate"]["mean"] == pytest.approx(75.0)


def test_summarize_rejects_wrong_env_missing_outcome_and_missing_trace():
    with pytest.raises(MetricsError, match="not 'webshop' episodes"):
        summarize_method(avalon_runs(n_tasks=2)["react"], "webshop", **BOOT)
    ep = make_episode("webshop", "react", "w0", 0, 1.0, outcome={"reward": 1.0})
    with pytest.raises(MetricsError, match="no 'success' field"):
        summarize_method([ep], "webshop", **BOOT)
    bare = Episode(env="avalon", task_id="t", seed=0, policy="react", backend="sim", model="m",
                   steps=(Step(0, "o", "s", "th", "a", 0.0, True, decision={"policy_calls": 1}),),
                   final_observation="", final_summary="", outcome={}, metric=0.0, info=FLAGS["react"])
    with pytest.raises(DecisionTraceError, match=r"step 0: decision\['input_tokens'\]"):
        summarize_method([bare], "avalon", **BOOT)
    with pytest.raises(MetricsError, match="unknown environment"):
        summarize_method([bare], "chess", **BOOT)


def test_cost_per_decision_of_no_decisions_is_json_safe():
    ep = make_episode("avalon", "react", "t", 0, 0.0, n_steps=0)
    cost = cost_per_decision([ep])
    assert cost["decisions"] == 0 and cost["policy_calls"] is None
    json.dumps(cost, allow_nan=False)


def test_compare_methods_pairs_and_orders(tmp_path):
    m = compare_methods(avalon_runs(), "avalon", reference="react", **BOOT)
    assert m["method_order"] == ["react", "lats_n30", "pnlc", "oracle"]
    assert set(m["paired_differences"]) == {"lats_n30", "pnlc", "oracle"}
    d = m["paired_differences"]["pnlc"]["win_rate"]
    assert d["n"] == 80
    pn, re_ = m["methods"]["pnlc"]["task_metrics"]["win_rate"], m["methods"]["react"]["task_metrics"]["win_rate"]
    assert d["mean"] == pytest.approx(pn["mean"] - re_["mean"])
    assert d["lo"] > 0  # 0.5 vs 0.2 over 80 paired games
    assert m["simulated"] is True and m["backend"] == "sim" and m["reference"] == "react"
    path = tmp_path / "metrics" / "eval_avalon_sim.json"
    write_metrics_json(path, m)
    assert read_metrics_json(path) == json.loads(json.dumps(m))


def test_compare_methods_requires_paired_seeds_and_reference():
    runs = avalon_runs(n_tasks=5)
    runs["pnlc"] = runs["pnlc"][:-1]
    with pytest.raises(PairingError, match="'pnlc' was evaluated on a different"):
        compare_methods(runs, "avalon", reference="react", **BOOT)
    with pytest.raises(MetricsError, match="reference method 'reflexion'"):
        compare_methods(avalon_runs(n_tasks=2), "avalon", reference="reflexion", **BOOT)
    runs = avalon_runs(n_tasks=3)
    runs["pnlc"] = runs["pnlc"] + runs["pnlc"][:1]
    with pytest.raises(MetricsError, match="two episodes for task 't0' seed 0"):
        compare_methods(runs, "avalon", reference="react", **BOOT)
    runs = avalon_runs(n_tasks=3)
    runs["best_of_n"] = runs.pop("pnlc")
    with pytest.raises(MetricsError, match="carry another policy name"):
        compare_methods(runs, "avalon", reference="react", **BOOT)


def test_compare_methods_rejects_mixed_backends():
    runs = avalon_runs(n_tasks=3, p={"react": 0.5})
    runs.update(avalon_runs(n_tasks=3, p={"pnlc": 0.5}, backend="anthropic"))
    with pytest.raises(MetricsError, match="different backends"):
        compare_methods(runs, "avalon", reference="react", **BOOT)


def test_metrics_survive_jsonl_round_trip(tmp_path):
    runs = avalon_runs(n_tasks=4)
    path = tmp_path / "seed0.jsonl"
    write_jsonl(path, runs["pnlc"])
    back = read_jsonl(path, episode_from_dict)
    assert summarize_method(back, "avalon", **BOOT) == summarize_method(runs["pnlc"], "avalon", **BOOT)


# ----------------------------------------------------------------------------- labels


def test_method_labels_and_order():
    assert method_label("lats_n30") == "LATS (n=30)" and method_label("pnlc") == "PNLC"
    assert method_label("my_method") == "my_method"
    assert order_methods(["pnlc", "zeta", "lats_n30", "react", "lats_n5", "oracle"]) == [
        "react", "lats_n5", "lats_n30", "pnlc", "oracle", "zeta"]


# ----------------------------------------------------------------------------- tables


def test_main_table_cells_and_sim_labels(all_metrics, tmp_path):
    t = main_table(all_metrics)
    assert t.name == "main_sim"
    assert "SIMULATED" in t.title and "not the paper's numbers" in t.title
    assert any("not the paper's numbers" in n for n in t.notes)
    assert t.columns == ("Method", "WebShop score", "WebShop SR %", "Avalon win %", "Persuasion $",
                         "Persuasion donor %", "Backend")
    rows = {r[0]: r for r in t.rows}
    assert [r[0] for r in t.rows] == ["ReAct", "LATS (n=30) †", "PNLC", "Oracle (privileged) ‡"]
    pnlc = rows["PNLC"]
    assert re.fullmatch(r"77\.5 \[\d+\.\d, \d+\.\d\]", pnlc[1])  # webshop score 77.5 [lo, hi]
    assert pnlc[4].startswith("0.88 [")  # persuasion $0.875, two decimals
    assert pnlc[-1] == "sim (simulated)"
    assert rows["LATS (n=30) †"][1] == "–"  # not run on webshop
    avalon = all_metrics[0]["methods"]["pnlc"]["task_metrics"]["win_rate"]
    assert pnlc[3] == f"{avalon['mean']:.1f} [{avalon['lo']:.1f}, {avalon['hi']:.1f}]"

    paths = write_table(t, tmp_path / "tables")
    assert [p.name for p in paths] == ["main_sim.csv", "main_sim.md", "main_sim.tex"]
    parsed = list(csv.reader(io.StringIO(paths[0].read_text())))
    assert tuple(parsed[0]) == t.columns and len(parsed) == 1 + len(t.rows)
    md = paths[1].read_text()
    assert "SIMULATED" in md and "| PNLC |" in md
    tex = paths[2].read_text()
    assert "\\toprule" in tex and "SIMULATED" in tex and "Persuasion \\$" in tex and "\\textdagger{}" in tex
    assert not list((tmp_path / "tables").glob(".*tmp*"))  # no temporary files left behind


def test_tables_for_a_real_backend_do_not_say_simulated():
    m = compare_methods(avalon_runs(n_tasks=5, backend="anthropic"), "avalon", reference="react", **BOOT)
    for table in (main_table([m]), cost_table([m]), differences_table([m]), comparison_table([m])):
        text = table.to_markdown() + table.to_latex() + table.to_csv()
        assert "SIMULATED" not in text and "simulated" not in text
    assert main_table([m]).name == "main_anthropic"
    assert "Input tokens/decision" in cost_table([m]).columns


def test_cost_table(all_metrics):
    t = cost_table(all_metrics)
    assert "SIMULATED" in t.title
    assert "Input tokens (words, simulated)/decision" in t.columns
    rows = {(r[0], r[1]): dict(zip(t.columns, r)) for r in t.rows}
    lats = rows[("avalon", "LATS (n=30) †")]
    assert lats["Policy calls/decision"] == "60.00" and lats["Reads env reward"] == "yes"
    pnlc = rows[("avalon", "PNLC")]
    assert pnlc["Uses critic"] == "yes" and not any("ms" in c or "Seconds" in c for c in t.columns)
    assert pnlc["Base model"] == "sim-prior"
    assert [k[0] for k in rows][:2] == ["webshop", "webshop"]  # env order follows the paper


def test_wall_clock_fields_leave_the_metrics_for_their_own_table(all_metrics):
    from pnlc.evaluation.cost import TIMING_FIELDS, split_timing
    from pnlc.evaluation.tables import decision_time_table

    avalon = next(m for m in all_metrics if m["env"] == "avalon")
    rest, timing = split_timing(avalon)
    assert not any(k in s["cost"] for s in rest["methods"].values() for k in TIMING_FIELDS)
    assert rest["methods"]["pnlc"]["task_metrics"] == avalon["methods"]["pnlc"]["task_metrics"]
    assert cost_table([rest]).rows == cost_table([avalon]).rows  # the cost table reads no timing
    t = decision_time_table([timing], name="decision_time_sim")
    row = next(dict(zip(t.columns, r)) for r in t.rows if r[1] == "PNLC")
    assert row["Critic ms (p50)"] == "5.50"  # steps at 5 and 6 ms
    assert "SIMULATED" in t.title


def test_differences_table(all_metrics):
    t = differences_table(all_metrics)
    row = next(r for r in t.rows if r[0] == "avalon" and r[1] == "PNLC")
    assert row[3].startswith("+") and row[4] == "80" and row[5] == "above"


def test_table_rejects_duplicate_env_and_mixed_backends(all_metrics):
    with pytest.raises(MetricsError, match="two metrics dicts for env 'avalon'"):
        main_table([all_metrics[0], all_metrics[0]])
    real = compare_methods(webshop_runs() | {}, "webshop", reference="react", **BOOT)
    real = json.loads(json.dumps(real))
    real["backend"], real["simulated"] = "anthropic", False
    with pytest.raises(MetricsError, match="different backends"):
        main_table([all_metrics[0], real])


def test_latex_escape():
    assert latex_escape("50% of $2 & A_b – x") == "50\\% of \\$2 \\& A\\_b -- x"


# ----------------------------------------------------------------------------- paper


def test_paper_values_and_comparison_table(all_metrics):
    assert paper_value("pnlc", "avalon", "win_rate") == 47.0
    assert paper_value("lats_n5", "webshop", "score") == 53.9
    assert paper_value("self_critique", "persuasion", "donation") == 0.62
    assert paper_value("oracle", "avalon", "win_rate") is None
    t = comparison_table(all_metrics)
    assert "SIMULATED" in t.title and "not comparable" in t.title
    assert "Avalon win % (ours, simulated)" in t.columns and "Avalon win % (paper)" in t.columns
    rows = {r[0]: dict(zip(t.columns, r)) for r in t.rows}
    assert rows["PNLC"]["Avalon win % (paper)"] == "47.0"
    assert rows["PNLC"]["WebShop score (paper)"] == "78.2"
    assert rows["PNLC"]["Avalon win % (ours, simulated)"].endswith("]")
    assert rows["Oracle (privileged) ‡"]["Avalon win % (paper)"] == "–"
    agent_q = rows["Agent Q (n=30) (paper only)"]
    assert agent_q["WebShop score (paper)"] == "77.1" and agent_q["Avalon win % (paper)"] == "–"
    assert agent_q["WebShop score (ours, simulated)"] == "–"
    assert "Reflexion (paper only)" in rows  # not evaluated here, still listed


# ----------------------------------------------------------------------------- figures


def test_figures_are_written_as_png(all_metrics, tmp_path):
    from pnlc.evaluation import figures

    outs = {
        "bars": (figures.plot_task_metrics, tmp_path / "fig" / "task_metrics_sim.png"),
        "forest": (figures.plot_paired_differences, tmp_path / "fig" / "paired_differences_sim.png"),
        "cost": (figures.plot_cost_vs_performance, tmp_path / "fig" / "cost_vs_performance_sim.png"),
    }
    for fn, path in outs.values():
        fn(all_metrics, path)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    curves = {"held-out": {"mean_predicted": [0.1, 0.5, 0.9, 0.95], "observed_frequency": [0.2, 0.5, 0.7, 0.0],
                           "count": [10, 5, 5, 0]}}
    path = tmp_path / "fig" / "calibration.png"
    figures.plot_calibration(curves, path, title="Critic calibration (avalon)", simulated=True)
    assert path.read_bytes()[:4] == b"\x89PNG"
    assert not list((tmp_path / "fig").glob(".*tmp*"))
    assert figures.expected_calibration_error(curves["held-out"]) == pytest.approx((10 * 0.1 + 0 + 5 * 0.2) / 20)
    with pytest.raises(ValueError, match="missing observed_frequency"):
        figures.plot_calibration({"x": {"mean_predicted": [0.5], "count": [1]}}, path, title="t", simulated=False)


def test_figure_titles_say_simulated(all_metrics, monkeypatch, tmp_path):
    from pnlc.evaluation import figures

    titles = []
    monkeypatch.setattr(figures, "_save", lambda fig, path: titles.append(fig._suptitle.get_text()))
    figures.plot_task_metrics(all_metrics, tmp_path / "a.png")
    figures.plot_paired_differences(all_metrics, tmp_path / "b.png")
    figures.plot_cost_vs_performance(all_metrics, tmp_path / "c.png")
    assert len(titles) == 3 and all("SIMULATED" in t for t in titles)
    real = compare_methods(avalon_runs(n_tasks=3, backend="anthropic"), "avalon", reference="react", **BOOT)
    figures.plot_task_metrics([real], tmp_path / "d.png")
    assert "SIMULATED" not in titles[-1]


# ----------------------------------------------------------------------------- viewer


def _critic_episode() -> Episode:
    rounds = [
        {"thought": "Accuse <Player 3> & demand a vote", "goals": {
            "positive": ["Good wins the game."], "negative": ["Merlin is <b>assassinated</b>."]},
         "probabilities": [0.41, 0.73], "value_text": "Positive outcomes:\n0.41: Good wins the game.",
         "refined_to": "Hint quietly that Player 3 is suspicious"},
        {"thought": "Hint quietly that Player 3 is suspicious", "goals": {
            "positive": ["Good wins the game."], "negative": ["Merlin is <b>assassinated</b>."]},
         "probabilities": [0.58, 0.22], "value_text": "", "refined_to": None},
    ]
    return make_episode("avalon", "pnlc", "task<1>", 3, 1.0, rounds=rounds, n_steps=1, critic_ms=4.0)


def test_viewer_shows_escaped_decision_trace(tmp_path):
    ep = _critic_episode()
    html = render_viewer([ep], title="Avalon <sim> episodes")
    assert html.startswith("<!DOCTYPE html>")
    assert "Accuse &lt;Player 3&gt; &amp; demand a vote" in html
    assert "Merlin is &lt;b&gt;assassinated&lt;/b&gt;." in html
    assert "<b>assassinated" not in html and "task<1>" not in html
    assert "task&lt;1&gt;" in html and "Avalon &lt;sim&gt; episodes" in html
    for p in ("0.41", "0.73", "0.58", "0.22"):
        assert p in html
    assert "Refined to:" in html and "Accepted (no refinement)" in html
    assert html.count('class="pos"') == 2 and html.count('class="neg"') == 2
    assert "SIMULATED" in html
    assert "<details><summary>Observation</summary>" in html
    assert "vote[approve]" in html
    assert "<script src=" not in html.lower()
    assert not re.search(r"https?://", html)
    path = tmp_path / "viewer" / "avalon_sim.html"
    write_viewer(path, [ep], title="t")
    assert path.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_viewer_tolerates_plain_policy_steps():
    ep = make_episode("avalon", "react", "t0", 0, 0.0, backend="anthropic")
    html = render_viewer([ep], title="react")
    assert "Stay quiet and back the leader." in html and "Round 1" not in html
    assert "SIMULATED" not in html


def test_comparison_config_feeds_compare_methods():
    from dataclasses import asdict

    from pnlc.evaluation import ComparisonConfig

    cfg = ComparisonConfig(reference="react", n_boot=500, ci=0.9, seed=1)
    m = compare_methods(avalon_runs(n_tasks=3), "avalon", **asdict(cfg))
    assert m["ci"] == 0.9 and m["n_boot"] == 500 and m["reference"] == "react"
    with pytest.raises(ValueError, match="evaluate.ci"):
        ComparisonConfig(reference="react", n_boot=10, ci=1.5, seed=0)


def test_group_by_method_orders_and_feeds_compare():
    from pnlc.evaluation import group_by_method

    runs = avalon_runs(n_tasks=3)
    mixed = [ep for eps in zip(*runs.values()) for ep in eps]  # interleaved, as read from many shards
    groups = group_by_method(mixed)
    assert list(groups) == ["react", "lats_n30", "pnlc", "oracle"]
    assert all(len(v) == 6 for v in groups.values())
    assert compare_methods(groups, "avalon", reference="react", **BOOT) == compare_methods(
        runs, "avalon", reference="react", **BOOT)


def _critic_doc(aucs, late, eces, pooled, references=True):
    return {
        "outcome_goals": {
            "per_goal": [
                {"goal": g, "auc": a, "ece": e, "by_phase": {"late": {"auc": l}}, "linear_probe_auc": a - 0.01,
                 **({"text_reference_auc": {"tfidf_logreg": a + 0.1, "tfidf_svd_boosting": a + 0.2}} if references else {})}
                for g, a, l, e in zip(("Good wins the game.", "Merlin is assassinated."), aucs, late, eces)
            ],
            "pooled": {"auc": pooled, "ece": 0.05, "by_phase": {}},
        }
    }


def test_critic_table_puts_critic_and_ceiling_side_by_side(tmp_path):
    from pnlc.evaluation.tables import critic_table

    critics = {"avalon": [_critic_doc((0.6, 0.7), (0.7, 0.8), (0.02, 0.04), 0.68),
                          _critic_doc((0.64, 0.7), (0.75, None), (0.04, 0.06), 0.7)],
               "persuasion": [_critic_doc((0.55, 0.5), (0.6, 0.5), (0.1, 0.1), 0.52, references=False)]}
    ceilings = {"avalon": [_critic_doc((0.81, 0.86), (0.92, 0.96), (0.03, 0.03), 0.9)]}
    table = critic_table(critics, ceilings, simulated=True, variant="default", name="critic_sim")
    rows = {(r[0], r[1]): r for r in table.rows}
    assert rows[("avalon", "Good wins the game.")][2:] == (
        "0.620", "0.725", "0.030", "0.610", "0.720", "0.820", "0.810", "0.920")
    assert rows[("persuasion", "Good wins the game.")][6:8] == ("–", "–")  # annotations without texts
    assert rows[("avalon", "Merlin is assassinated.")][3] == "0.800"  # a missing phase AUC is left out of the mean
    assert rows[("avalon", "All outcome goals (pooled)")][2] == "0.690"
    assert rows[("persuasion", "Good wins the game.")][8:] == ("–", "–")  # no simulator replay: no ceiling
    assert rows[("avalon", "All outcome goals (pooled)")][5] == "–"  # no probe of the pooled goals
    assert [r[0] for r in table.rows][:3] == ["avalon"] * 3
    md = table.to_markdown()
    assert "SIMULATED" in md and "Ceiling AUC" in md and "Probe AUC" in md and "variant 'default'" in md
    assert "TF-IDF LR AUC" in md and "Boosted trees AUC" in md
    real = critic_table(critics, {}, simulated=False, variant="default", name="critic_anthropic")
    assert "SIMULATED" not in real.to_markdown()
