"""Episode viewer: one self-contained HTML page showing every decision of evaluated episodes.

For each decision it shows the observation (collapsed), the candidate thoughts, every critique
round (thought, goals with their probabilities, the rendered value, the refinement) and the final
thought and action. The page loads nothing from the network: CSS and the small filter script are
inline, and every piece of episode text is HTML-escaped.
"""

from __future__ import annotations

import json
import os
from html import escape
from typing import Any, Iterable, Mapping, Sequence

from pnlc.data.jsonl import atomic_write_text
from pnlc.data.records import Episode
from pnlc.evaluation.cost import COST_FIELDS
from pnlc.evaluation.labels import method_label

_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:1.5rem;color:#1d2327;max-width:70rem}
h1{font-size:1.4rem} h2{font-size:1.1rem;margin:0} h3{font-size:1rem;margin:.4rem 0}
.sim{background:#fff3cd;border:1px solid #e0c36a;padding:.5rem .8rem;border-radius:4px}
table{border-collapse:collapse;margin:.3rem 0} td,th{border:1px solid #d0d7de;padding:.2rem .5rem;font-size:.85rem;vertical-align:top}
th{background:#f3f4f6;text-align:left}
.episode{border:1px solid #c9d1d9;border-radius:6px;margin:1rem 0;padding:.5rem .8rem}
.episode>summary{cursor:pointer;font-weight:600}
.step{border-top:1px solid #e5e7eb;padding:.5rem 0}
.round{margin:.4rem 0 .4rem 1rem;padding:.3rem .6rem;border-left:3px solid #8fa3b8;background:#fafbfc}
.pos td{background:#e8f5e9} .neg td{background:#fdecea}
.bar{display:inline-block;height:.6rem;background:#4a6fa5;vertical-align:middle;margin-right:.3rem}
.neg .bar{background:#c0392b} .pos .bar{background:#2e7d32}
.label{font-weight:600;color:#555} .muted{color:#6b7280;font-size:.85rem}
.action{font-family:ui-monospace,Menlo,Consolas,monospace;background:#eef2ff;padding:.1rem .3rem;border-radius:3px}
pre{white-space:pre-wrap;background:#f6f8fa;padding:.5rem;border-radius:4px;font-size:.8rem;margin:.3rem 0}
.invalid{color:#b91c1c;font-weight:600}
input#filter{padding:.3rem;width:20rem}
"""

_JS = """
document.getElementById('filter').addEventListener('input', function (e) {
  var q = e.target.value.toLowerCase();
  document.querySelectorAll('[data-key]').forEach(function (el) {
    el.style.display = el.getAttribute('data-key').indexOf(q) < 0 ? 'none' : '';
  });
});
"""


def _e(value: Any) -> str:
    return escape(str(value), quote=True)


def _prob(value: Any) -> str:
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return _e(value)


def _goals_table(round_: Mapping[str, Any]) -> str:
    goals = round_.get("goals") or {}
    positive = list(goals.get("positive") or [])
    negative = list(goals.get("negative") or [])
    probs = list(round_.get("probabilities") or [])
    if not positive and not negative:
        return ""
    rows = []
    for i, (kind, goal) in enumerate([("positive", g) for g in positive] + [("negative", g) for g in negative]):
        p = probs[i] if i < len(probs) else None
        try:
            width = max(0.0, min(1.0, float(p))) * 6 if p is not None else 0.0
        except (TypeError, ValueError):
            width = 0.0
        rows.append(
            f'<tr class="{"pos" if kind == "positive" else "neg"}"><td>{kind}</td>'
            f'<td><span class="bar" style="width:{width:.2f}rem"></span>{_prob(p) if p is not None else "–"}</td>'
            f"<td>{_e(goal)}</td></tr>"
        )
    return "<table><tr><th>goal</th><th>probability</th><th>outcome</th></tr>" + "".join(rows) + "</table>"


def _round_html(k: int, round_: Mapping[str, Any]) -> str:
    parts = [f'<div class="round"><div class="label">Round {k + 1}</div>']
    parts.append(f'<div><span class="label">Thought:</span> {_e(round_.get("thought", ""))}</div>')
    parts.append(_goals_table(round_))
    value_text = round_.get("value_text")
    if value_text:
        parts.append(f"<details><summary>Value shown to the policy</summary><pre>{_e(value_text)}</pre></details>")
    refined = round_.get("refined_to")
    if refined:
        parts.append(f'<div><span class="label">Refined to:</span> {_e(refined)}</div>')
    else:
        parts.append('<div class="muted">Accepted (no refinement).</div>')
    parts.append("</div>")
    return "".join(parts)


def _step_html(step: Any) -> str:
    decision = step.decision if isinstance(step.decision, Mapping) else {}
    parts = [f'<div class="step"><h3>Decision {step.index}</h3>']
    parts.append(f"<details><summary>Observation</summary><pre>{_e(step.observation)}</pre></details>")
    if step.state_summary:
        parts.append(f"<details><summary>State summary</summary><pre>{_e(step.state_summary)}</pre></details>")
    candidates = list(decision.get("candidates") or [])
    if len(candidates) > 1:
        items = "".join(f"<li>{_e(c)}</li>" for c in candidates)
        parts.append(f"<details><summary>Candidate thoughts ({len(candidates)})</summary><ol>{items}</ol></details>")
    for k, round_ in enumerate(decision.get("rounds") or []):
        if isinstance(round_, Mapping):
            parts.append(_round_html(k, round_))
    final = decision.get("final_thought") or step.thought
    parts.append(f'<div><span class="label">Final thought:</span> {_e(final)}</div>')
    invalid = "" if step.valid else ' <span class="invalid">(invalid action)</span>'
    parts.append(
        f'<div><span class="label">Action:</span> <span class="action">{_e(step.action)}</span>{invalid}'
        f' <span class="muted">reward {_e(step.reward)}</span></div>'
    )
    costs = [f"{key} {_e(decision[key])}" for key in COST_FIELDS if key in decision]
    if costs:
        parts.append(f'<div class="muted">{" · ".join(costs)}</div>')
    parts.append("</div>")
    return "".join(parts)


def _episode_key(ep: Episode) -> str:
    return f"{ep.policy} {method_label(ep.policy)} {ep.task_id} seed{ep.seed}".lower()


def _episode_html(i: int, ep: Episode) -> str:
    head = (
        f"#{i} · {_e(method_label(ep.policy))} · task {_e(ep.task_id)} · seed {_e(ep.seed)} · "
        f"metric {_e(round(float(ep.metric), 4))}"
    )
    meta_rows = [
        ("env", ep.env),
        ("backend", ep.backend),
        ("model", ep.model),
        ("outcome", json.dumps(dict(ep.outcome), sort_keys=True, ensure_ascii=False, default=str)),
        ("info", json.dumps(dict(ep.info), sort_keys=True, ensure_ascii=False, default=str)),
    ]
    meta = "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in meta_rows)
    steps = "".join(_step_html(step) for step in ep.steps)
    final = (
        f"<details><summary>Final observation</summary><pre>{_e(ep.final_observation)}</pre></details>"
        f'<div><span class="label">Final summary:</span> {_e(ep.final_summary)}</div>'
    )
    return (
        f'<details class="episode" id="ep-{i}" data-key="{_e(_episode_key(ep))}">'
        f"<summary>{head}</summary><table>{meta}</table>{steps}{final}</details>"
    )


def render_viewer(episodes: Sequence[Episode] | Iterable[Episode], title: str) -> str:
    """The whole viewer page as one HTML string."""
    episodes = list(episodes)
    simulated = any(ep.backend == "sim" or ep.info.get("simulated") for ep in episodes)
    index_rows = "".join(
        f'<tr data-key="{_e(_episode_key(ep))}"><td><a href="#ep-{i}">{i}</a></td>'
        f"<td>{_e(method_label(ep.policy))}</td><td>{_e(ep.env)}</td><td>{_e(ep.task_id)}</td>"
        f"<td>{_e(ep.seed)}</td><td>{_e(ep.backend)}</td><td>{_e(round(float(ep.metric), 4))}</td>"
        f"<td>{len(ep.steps)}</td></tr>"
        for i, ep in enumerate(episodes)
    )
    banner = (
        '<p class="sim">SIMULATED episodes (backend sim): offline heuristic agents, not an LLM; '
        "these are not the paper's results.</p>"
        if simulated
        else ""
    )
    body = "".join(_episode_html(i, ep) for i, ep in enumerate(episodes))
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{_e(title)}</h1>{banner}"
        f'<p class="muted">{len(episodes)} episode(s). Positive goals are green, negative goals red; '
        "each round shows the critic's probabilities and whether the thought was refined.</p>"
        '<p><input id="filter" type="search" placeholder="filter by method, task or seed"></p>'
        "<table><tr><th>#</th><th>method</th><th>env</th><th>task</th><th>seed</th><th>backend</th>"
        f"<th>metric</th><th>decisions</th></tr>{index_rows}</table>"
        f"{body}<script>{_JS}</script></body></html>\n"
    )


def write_viewer(path: str | os.PathLike[str], episodes: Iterable[Episode], title: str) -> None:
    """Write the viewer page atomically."""
    atomic_write_text(path, render_viewer(list(episodes), title))
