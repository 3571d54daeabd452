"""Typed records shared by every phase: steps, episodes, annotations, usage.

Records are frozen dataclasses that serialise to plain JSON objects; each carries the schema version
so that a reader can refuse data written by an incompatible release.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Mapping

SCHEMA_VERSION = 1


class RecordError(ValueError):
    """A record does not have the fields or types its schema requires."""


@dataclass(frozen=True)
class Usage:
    """LLM usage summed over a unit of work (a call, a decision, an episode)."""

    calls: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float = 0.0
    seconds: float = 0.0

    def __add__(self, other: "Usage") -> "Usage":
        return Usage(
            calls=self.calls + other.calls,
            input_tokens=self.input_tokens + other.input_tokens,
            output_tokens=self.output_tokens + other.output_tokens,
            cached_tokens=self.cached_tokens + other.cached_tokens,
            cost_usd=self.cost_usd + other.cost_usd,
            seconds=self.seconds + other.seconds,
        )


@dataclass(frozen=True)
class Step:
    """One decision of the agent: what it saw, thought and did, and what came back.

    `state_summary` is the environment's outcome-style summary of the state *before* the action
    (`Env.describe()`); `decision` holds the planning trace of a method (goals with probabilities,
    refinements, candidate thoughts), empty for a plain policy.
    """

    index: int
    observation: str
    state_summary: str
    thought: str
    action: str
    reward: float
    done: bool
    valid: bool = True
    decision: Mapping[str, Any] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Episode:
    """One played task. `metric` is the task's headline number (win 0/1, reward, donation)."""

    env: str
    task_id: str
    seed: int
    policy: str
    backend: str
    model: str
    steps: tuple[Step, ...]
    final_observation: str
    final_summary: str
    outcome: Mapping[str, Any]
    metric: float
    usage: Usage = Usage()
    prompt_hashes: Mapping[str, str] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)
    schema_version: int = SCHEMA_VERSION


@dataclass(frozen=True)
class Annotation:
    """Summaries and thought text of one step, with rows into the embedding matrix.

    `state_row`, `next_state_row` and `thought_row` index the `embeddings` array of the annotation
    `.npz`; identical texts share a row.
    """

    episode_id: str
    episode_index: int
    step_index: int
    state_summary: str
    next_state_summary: str
    thought: str
    state_row: int
    next_state_row: int
    thought_row: int
    terminal: bool
    reward: float
    outcome: Mapping[str, Any]
    schema_version: int = SCHEMA_VERSION


def episode_id(ep: Episode) -> str:
    """Stable identifier of an episode within its env and backend."""
    return f"{ep.policy}/{ep.task_id}/seed{ep.seed}"


def to_dict(record: Any) -> dict[str, Any]:
    """Plain-JSON form of a record (tuples become lists, nested records become objects)."""
    return dataclasses.asdict(record)


def _build(cls: type, data: Mapping[str, Any]) -> Any:
    if not isinstance(data, Mapping):
        raise RecordError(f"{cls.__name__}: expected a JSON object, got {type(data).__name__}")
    names = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise RecordError(f"{cls.__name__}: unknown field(s) {', '.join(unknown)}")
    missing = [
        n
        for n, f in names.items()
        if n not in data and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
    ]
    if missing:
        raise RecordError(f"{cls.__name__}: missing field(s) {', '.join(missing)}")
    return cls(**data)


def step_from_dict(data: Mapping[str, Any]) -> Step:
    return _build(Step, data)


def episode_from_dict(data: Mapping[str, Any]) -> Episode:
    if not isinstance(data, Mapping):
        raise RecordError(f"Episode: expected a JSON object, got {type(data).__name__}")
    version = data.get("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise RecordError(
            f"Episode: schema_version {version} is not {SCHEMA_VERSION}; regenerate the trajectories"
        )
    fields = dict(data)
    steps = fields.get("steps")
    if not isinstance(steps, list):
        raise RecordError("Episode: field steps must be a list")
    fields["steps"] = tuple(step_from_dict(s) for s in steps)
    usage = fields.get("usage", {})
    fields["usage"] = _build(Usage, usage) if isinstance(usage, Mapping) else usage
    return _build(Episode, fields)


def annotation_from_dict(data: Mapping[str, Any]) -> Annotation:
    if isinstance(data, Mapping) and data.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION:
        raise RecordError("Annotation: schema_version mismatch; rerun `pnlc annotate`")
    return _build(Annotation, data)
