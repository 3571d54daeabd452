"""Per-method summaries and paired comparisons of evaluated episodes (the eval metrics JSON).

Task metrics per environment (one value per episode, averaged, with a bootstrap interval):
  avalon      win rate %       = 100 * Episode.metric (the agent's side wins 0/1)
  webshop     score            = 100 * Episode.metric (reward in [0, 1])
              success rate %   = 100 * outcome["success"]
  persuasion  mean donation $  = Episode.metric
              donor rate %     = 100 * outcome["donated"]
The first metric of each environment is its primary one (the paper's headline number).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass
from typing import Any, Callable, Iterable, Mapping, Sequence

from pnlc.data.jsonl import atomic_write_text
from pnlc.data.records import Episode, episode_id
from pnlc.evaluation.cost import cost_per_decision
from pnlc.evaluation.labels import method_label, order_methods
from pnlc.evaluation.stats import PairingError, bootstrap_ci, paired_difference

log = logging.getLogger(__name__)

METRICS_SCHEMA = "pnlc.eval_metrics/1"
FLAG_KEYS: tuple[str, ...] = ("reads_env_reward", "uses_critic", "privileged")


class MetricsError(ValueError):
    """Episodes cannot be summarised as asked (wrong env, missing outcome field, mixed runs)."""


@dataclass(frozen=True)
class MetricSpec:
    """One task metric: its key in the metrics JSON, how to print it, and where its value comes from."""

    key: str
    label: str
    unit: str  # "%" or "$" or "" (score)
    decimals: int
    source: str  # "metric" or an outcome key
    scale: float


TASK_METRICS: dict[str, tuple[MetricSpec, ...]] = {
    "avalon": (MetricSpec("win_rate", "Avalon win %", "%", 1, "metric", 100.0),),
    "webshop": (
        MetricSpec("score", "WebShop score", "", 1, "metric", 100.0),
        MetricSpec("success_rate", "WebShop SR %", "%", 1, "success", 100.0),
    ),
    "persuasion": (
        MetricSpec("donation", "Persuasion $", "$", 2, "metric", 1.0),
        MetricSpec("donor_rate", "Persuasion donor %", "%", 1, "donated", 100.0),
    ),
}
ENV_ORDER: tuple[str, ...] = ("webshop", "avalon", "persuasion")


@dataclass(frozen=True)
class ComparisonConfig:
    """Statistics knobs of `compare_methods` (pass as `**dataclasses.asdict(config)`).

    reference: method every other is paired against ("react"); n_boot: bootstrap resamples
    (quick 2000, paper 10000); ci: interval coverage (0.95); seed: bootstrap generator seed.
    """

    reference: str
    n_boot: int
    ci: float
    seed: int

    def __post_init__(self) -> None:
        if self.n_boot < 1:
            raise ValueError(f"evaluate.n_boot must be a positive integer, got {self.n_boot!r}")
        if not 0.0 < self.ci < 1.0:
            raise ValueError(f"evaluate.ci must be a coverage in (0, 1) such as 0.95, got {self.ci!r}")


def task_metrics(env_name: str) -> tuple[MetricSpec, ...]:
    try:
        return TASK_METRICS[env_name]
    except KeyError:
        raise MetricsError(
            f"unknown environment {env_name!r}; expected one of {', '.join(sorted(TASK_METRICS))}"
        ) from None


def tokens_label(simulated: bool) -> str:
    return "tokens (words, simulated)" if simulated else "tokens"


def _extractor(spec: MetricSpec) -> Callable[[Episode], float]:
    def value(ep: Episode) -> float:
        if spec.source == "metric":
            raw: Any = ep.metric
        else:
            if spec.source not in ep.outcome:
                raise MetricsError(
                    f"episode {episode_id(ep)} ({ep.env}): outcome has no {spec.source!r} field "
                    f"(needed for {spec.label}); the environment's outcome() must record it"
                )
            raw = ep.outcome[spec.source]
        if isinstance(raw, bool):
            raw = float(raw)
        if not isinstance(raw, (int, float)):
            raise MetricsError(f"episode {episode_id(ep)}: {spec.source} is {raw!r}, expected a number or bool")
        return float(raw) * spec.scale

    return value


def episode_values(episodes: Sequence[Episode], spec: MetricSpec) -> dict[tuple[str, int], float]:
    """Per-episode value of one metric, keyed by (task_id, seed); a repeated key is an error."""
    get = _extractor(spec)
    out: dict[tuple[str, int], float] = {}
    for ep in episodes:
        key = (ep.task_id, int(ep.seed))
        if key in out:
            raise MetricsError(
                f"method {ep.policy!r} has two episodes for task {ep.task_id!r} seed {ep.seed}; "
                "each (task, seed) must be evaluated once per method (remove the duplicate shard)"
            )
        out[key] = get(ep)
    return out


def _flag(episodes: Sequence[Episode], key: str) -> bool:
    values = set()
    for ep in episodes:
        if key not in ep.info:
            raise MetricsError(
                f"episode {episode_id(ep)}: info has no {key!r}; the evaluation runner must record "
                f"{', '.join(FLAG_KEYS)} in Episode.info"
            )
        values.add(bool(ep.info[key]))
    if len(values) > 1:
        raise MetricsError(f"method {episodes[0].policy!r}: info[{key!r}] differs between episodes")
    return values.pop()


def _single(episodes: Sequence[Episode], attr: str) -> str:
    values = sorted({str(getattr(ep, attr)) for ep in episodes})
    if len(values) > 1:
        raise MetricsError(
            f"method {episodes[0].policy!r}: episodes mix {attr} values {values}; summarise one "
            f"{attr} at a time"
        )
    return values[0]


def summarize_method(
    episodes: Sequence[Episode], env_name: str, *, n_boot: int, ci: float, seed: int
) -> dict[str, Any]:
    """Task metrics with bootstrap intervals, cost per decision and the method's flags.

    All episodes must come from one method, one environment and one backend.
    """
    specs = task_metrics(env_name)
    episodes = list(episodes)
    if not episodes:
        raise MetricsError(f"no episodes to summarise for env {env_name!r}; run `pnlc evaluate` first")
    wrong_env = [episode_id(ep) for ep in episodes if ep.env != env_name]
    if wrong_env:
        raise MetricsError(
            f"{len(wrong_env)} episode(s) are not {env_name!r} episodes (first: {wrong_env[0]})"
        )
    method = _single(episodes, "policy")
    backend = _single(episodes, "backend")
    simulated = backend == "sim" or any(bool(ep.info.get("simulated", False)) for ep in episodes)
    metrics: dict[str, Any] = {}
    for spec in specs:
        values = list(episode_values(episodes, spec).values())
        mean, lo, hi = bootstrap_ci(values, n_boot, ci, seed)
        metrics[spec.key] = {"mean": mean, "lo": lo, "hi": hi, "n": len(values)}
    cost = cost_per_decision(episodes)
    cost["tokens_label"] = tokens_label(simulated)
    return {
        "method": method,
        "label": method_label(method),
        "env": env_name,
        "backend": backend,
        "simulated": simulated,
        "base_model": ", ".join(sorted({ep.model for ep in episodes})),
        "n_episodes": len(episodes),
        "n_tasks": len({ep.task_id for ep in episodes}),
        "n_seeds": len({int(ep.seed) for ep in episodes}),
        **{key: _flag(episodes, key) for key in FLAG_KEYS},
        "task_metrics": metrics,
        "cost": cost,
    }


def compare_methods(
    episodes_by_method: Mapping[str, Sequence[Episode]],
    env_name: str,
    *,
    reference: str,
    n_boot: int,
    ci: float,
    seed: int,
) -> dict[str, Any]:
    """Summaries of every method plus paired differences of each task metric against `reference`.

    Every method must cover exactly the reference's (task_id, seed) list (paired seeds); the
    result is plain JSON (results/metrics/eval/{env}_{backend}.json).
    """
    specs = task_metrics(env_name)
    if not episodes_by_method:
        raise MetricsError(f"no methods to compare for env {env_name!r}")
    if reference not in episodes_by_method:
        raise MetricsError(
            f"reference method {reference!r} has no episodes for env {env_name!r} (methods: "
            f"{', '.join(sorted(episodes_by_method))}); evaluate it or choose another reference"
        )
    for method, episodes in episodes_by_method.items():
        mislabelled = [episode_id(ep) for ep in episodes if ep.policy != method]
        if mislabelled:
            raise MetricsError(
                f"episodes given as method {method!r} carry another policy name (first: {mislabelled[0]})"
            )
    methods = order_methods(episodes_by_method)
    summaries = {
        m: summarize_method(episodes_by_method[m], env_name, n_boot=n_boot, ci=ci, seed=seed) for m in methods
    }
    backends = sorted({s["backend"] for s in summaries.values()})
    if len(backends) > 1:
        raise MetricsError(
            f"env {env_name!r}: methods ran on different backends {backends}; compare one backend at a time"
        )

    values = {m: {spec.key: episode_values(episodes_by_method[m], spec) for spec in specs} for m in methods}
    ref_keys = set(values[reference][specs[0].key])
    for m in methods:
        keys = set(values[m][specs[0].key])
        if keys != ref_keys:
            missing, extra = len(ref_keys - keys), len(keys - ref_keys)
            raise PairingError(
                f"env {env_name!r}: method {m!r} was evaluated on a different (task, seed) list than "
                f"{reference!r} ({missing} missing, {extra} extra); every method must see the same "
                "test tasks and seeds"
            )
    differences = {
        m: {
            spec.key: paired_difference(values[m][spec.key], values[reference][spec.key], n_boot, ci, seed)
            for spec in specs
        }
        for m in methods
        if m != reference
    }
    simulated = any(s["simulated"] for s in summaries.values())
    log.info("compared %d methods on %s (%s), %d paired episodes", len(methods), env_name, backends[0], len(ref_keys))
    return {
        "schema": METRICS_SCHEMA,
        "env": env_name,
        "backend": backends[0],
        "simulated": simulated,
        "reference": reference,
        "n_boot": int(n_boot),
        "ci": float(ci),
        "seed": int(seed),
        "metric_specs": [asdict(spec) for spec in specs],
        "method_order": methods,
        "methods": summaries,
        "paired_differences": differences,
    }


def group_by_method(episodes: Iterable[Episode]) -> dict[str, list[Episode]]:
    """Episodes keyed by method (`Episode.policy`), in the canonical method order."""
    groups: dict[str, list[Episode]] = {}
    for ep in episodes:
        groups.setdefault(ep.policy, []).append(ep)
    return {m: groups[m] for m in order_methods(groups)}


def write_metrics_json(path: str | os.PathLike[str], metrics: Mapping[str, Any]) -> None:
    """Write a metrics dict as indented, key-sorted JSON (atomic; NaN is refused)."""
    atomic_write_text(path, json.dumps(metrics, indent=2, sort_keys=True, allow_nan=False) + "\n")


def read_metrics_json(path: str | os.PathLike[str]) -> dict[str, Any]:
    """Read a metrics JSON written by `write_metrics_json`, checking its schema tag."""
    with open(path, encoding="utf-8") as fh:
        try:
            data = json.load(fh)
        except json.JSONDecodeError as exc:
            raise MetricsError(f"{path}: not valid JSON ({exc.msg}); rerun `pnlc evaluate`") from None
    if not isinstance(data, dict) or data.get("schema") != METRICS_SCHEMA:
        raise MetricsError(f"{path}: not an eval metrics file (schema {METRICS_SCHEMA}); rerun `pnlc evaluate`")
    return data
