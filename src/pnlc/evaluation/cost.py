"""Cost per decision: policy calls, tokens, wall seconds and the critic's own milliseconds.

Each evaluated `Step.decision` records what its decision cost (see the decision-trace contract):
policy_calls, input_tokens, output_tokens, seconds, critic_ms. Costs are averaged over decisions
(all steps of all episodes of a method), not over episodes, so a long episode weighs more.
Simulated policies have no tokenizer; their tokens are whitespace-separated words.
The measured fields (seconds, critic_ms) of a workflow's evaluation live in a sidecar file under
results/timing/eval/, joined back to the records before these averages (pnlc.pipeline.evaluate).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

import numpy as np

from pnlc.data.records import Episode, episode_id

COST_FIELDS: tuple[str, ...] = ("policy_calls", "input_tokens", "output_tokens", "seconds", "critic_ms")


class DecisionTraceError(ValueError):
    """A step's decision trace lacks a field the evaluation contract requires."""


def _number(ep: Episode, step_index: int, decision: Any, key: str) -> float:
    if not isinstance(decision, Mapping):
        raise DecisionTraceError(
            f"episode {episode_id(ep)} step {step_index}: decision is {type(decision).__name__}, "
            "expected an object; re-run `pnlc evaluate` with a runner that records decision traces"
        )
    value = decision.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
        raise DecisionTraceError(
            f"episode {episode_id(ep)} step {step_index}: decision[{key!r}] is {value!r}, expected a "
            f"finite number; every evaluated decision must record {', '.join(COST_FIELDS)} (an evaluation "
            "run with `--timing` keeps seconds and critic_ms in that file: pass it to `summarize --decision-timing`)"
        )
    return float(value)


def decision_cost_matrix(episodes: Iterable[Episode]) -> np.ndarray:
    """Array of shape (n_decisions, len(COST_FIELDS)), one row per step of every episode."""
    rows = [
        [_number(ep, step.index, step.decision, key) for key in COST_FIELDS]
        for ep in episodes
        for step in ep.steps
    ]
    return np.asarray(rows, dtype=np.float64).reshape(len(rows), len(COST_FIELDS))


def cost_per_decision(episodes: Iterable[Episode]) -> dict[str, float | int | None]:
    """Mean of each cost field per decision, total tokens, and the median critic milliseconds.

    Values are None when there are no decisions at all (so the result stays valid JSON).
    """
    m = decision_cost_matrix(episodes)
    n = int(m.shape[0])
    out: dict[str, float | int | None] = {"decisions": n}
    if n == 0:
        for key in COST_FIELDS:
            out[key] = None
        out["tokens"] = None
        out["critic_ms_p50"] = None
        out["critic_ms_p95"] = None
        return out
    means = m.mean(axis=0)
    for key, value in zip(COST_FIELDS, means):
        out[key] = float(value)
    out["tokens"] = float(means[1] + means[2])
    critic = m[:, COST_FIELDS.index("critic_ms")]
    out["critic_ms_p50"] = float(np.median(critic))
    out["critic_ms_p95"] = float(np.quantile(critic, 0.95))
    return out


# Wall-clock fields: measured, so they differ between two runs of the same seeds. They are kept out
# of results/metrics/ (which then repeats byte for byte) and written under results/timing/.
TIMING_FIELDS: tuple[str, ...] = ("seconds", "critic_ms", "critic_ms_p50", "critic_ms_p95")


def split_timing(metrics: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A metrics dict without wall-clock fields, and those fields by method (with env and backend)."""
    methods = {}
    timing: dict[str, Any] = {}
    for method, summary in metrics["methods"].items():
        cost = dict(summary["cost"])
        timing[method] = {key: cost.pop(key) for key in TIMING_FIELDS if key in cost}
        timing[method]["decisions"] = cost.get("decisions")
        methods[method] = {**summary, "cost": cost}
    rest = {**metrics, "methods": methods}
    return rest, {"env": metrics["env"], "backend": metrics["backend"], "simulated": metrics["simulated"],
                  "what": "wall-clock cost per decision (measured; differs between runs)", "methods": timing}
