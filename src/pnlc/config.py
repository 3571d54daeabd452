"""Typed, frozen configuration built from `params.yaml` (the Snakemake config and DVC params at once).

`load_params(path)` validates the file against `workflow/schemas/params.schema.yaml` (unknown keys
and wrong types rejected, errors naming the key path) and builds frozen dataclasses. Every knob is
in the file: the dataclasses have no defaults to hide.
"""

from __future__ import annotations

import collections.abc
import dataclasses
import re
import types
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import yaml


class ConfigError(ValueError):
    """params.yaml is missing, malformed or invalid; the message names the file and key path."""


def schema_path() -> Path:
    """The params schema shipped with the workflow (repository checkout layout)."""
    return Path(__file__).resolve().parents[2] / "workflow" / "schemas" / "params.schema.yaml"


# --------------------------------------------------------------------------------------------- #
# Sections owned by this module. Sections of the environments, LLM, embedder and value model are
# the dataclasses of those packages, imported lazily in `_section_types`.
# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class SizeConfig:
    train_episodes: int  # prior-agent episodes generated per environment
    shards: int  # generation shards (Snakemake {shard} wildcard)
    test_tasks: int  # evaluation tasks per environment (capped by the environment's test split)
    eval_seeds: tuple[int, ...]  # evaluation seeds; every method sees the same (task, seed) list
    critic_seeds: tuple[int, ...]  # critic training seeds
    critic_max_steps: int  # gradient steps per critic
    methods: tuple[str, ...]  # methods evaluated at this size


@dataclass(frozen=True)
class GenerateConfig:
    policy: str  # which simulated policy plays when backend is sim ("prior")
    seed: int  # base seed; episode i of shard k uses a seed derived from (seed, k, i)


@dataclass(frozen=True)
class AnnotateConfig:
    summarizer: str  # "describe" (the environment's summary) or "llm" (LLM annotator)


@dataclass(frozen=True)
class CriticSpec:
    """What a critic-reading method runs: its planning loop and the critic it reads."""

    loop: str  # pnlc | best_of_n | scalar_critic
    variant: str  # a train.variants name
    transform: str  # how the critic answers: none | base_rate | inverted (pnlc.critic.controls)


@dataclass(frozen=True)
class StatsConfig:
    """The bootstrap of the evaluation metrics (keys of `evaluate`)."""

    bootstrap_samples: int
    confidence: float
    seed: int  # bootstrap seed


@dataclass(frozen=True)
class ReportConfig:
    viewer_episodes: int  # episodes per method in each HTML episode viewer
    cost_estimate: str | None  # a `pnlc estimate --out` JSON written before the run, set against what it used


@dataclass(frozen=True)
class P4GConfig:
    data_dir: str  # PersuasionForGood folder (full_data.json, p4g_original/)
    train_fraction: float
    split_seed: int
    state_text: str  # what the critic reads as the state: "summary" or "dialogue" (its last lines)
    dialogue_window: int  # state_text dialogue: lines of the dialogue so far
    bootstrap: Mapping[str, Any]  # samples, confidence, seed of the intervals over held-out dialogues
    embed: Mapping[str, Any]  # this experiment's overrides of `embed` (keys of `embed`)
    critic: Mapping[str, Any]  # this experiment's overrides of `train.critic` (keys of `train.critic`)


SECTION_OWNERS = {
    "embed": "pnlc.embed.config:EmbedConfig",
    "avalon": "pnlc.envs.avalon.config:AvalonConfig",
    "webshop": "pnlc.envs.webshop.config:WebShopConfig",
    "persuasion": "pnlc.envs.persuasion.config:PersuasionConfig",
}


def _import(spec: str) -> type:
    import importlib

    module, name = spec.split(":")
    return getattr(importlib.import_module(module), name)


class NotGivenError(ConfigError, KeyError):
    """A job read a configuration key it was not given (see workflow/phases.yaml)."""

    def __str__(self) -> str:
        return str(self.args[0])


class Given(collections.abc.Mapping):
    """A read-only view of the configuration a job was given: reading a key that is not there is an
    error naming the key path, so a job cannot depend on a value its rule does not declare."""

    def __init__(self, data: Mapping[str, Any], source: str, path: str = "") -> None:
        self._data = data
        self._source = source
        self._path = path

    def __getitem__(self, key: str) -> Any:
        if key not in self._data:
            raise NotGivenError(
                f"{self._source}: {self._path}{key}: not in the configuration this job was given; "
                f"add it to the rule's `reads` in workflow/phases.yaml"
            )
        value = self._data[key]
        return Given(value, self._source, f"{self._path}{key}.") if isinstance(value, Mapping) else value

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)

    def plain(self) -> dict[str, Any]:
        """The underlying plain data."""
        return dict(self._data)


@dataclass(frozen=True)
class Params:
    raw: Mapping[str, Any]  # the validated configuration, or the part of it a job was given (Given)
    source: str

    @property
    def size(self) -> str:
        return self.raw["size"]

    @property
    def backend(self) -> str:
        return self.raw["backend"]

    @property
    def envs(self) -> tuple[str, ...]:
        return tuple(self.raw["envs"])

    @property
    def run(self) -> Any:
        """The configured size's section (`sizes.<size>`); a job sees only the keys it was given."""
        return _Run(self.raw["sizes"][self.size])

    def section(self, name: str) -> Any:
        """Build a typed section (`embed`, `generate`, `annotate`, `report`, `p4g`)
        or an environment's config (`avalon`, `webshop`, `persuasion`)."""
        local = {
            "generate": GenerateConfig,
            "annotate": AnnotateConfig,
            "p4g": P4GConfig,
            "report": ReportConfig,
        }
        if name in local:
            return build(local[name], self.raw[name], name, self.source)
        if name in ("avalon", "webshop", "persuasion"):
            return build(_import(SECTION_OWNERS[name]), self.raw["env"][name], f"env.{name}", self.source)
        if name in SECTION_OWNERS:
            return build(_import(SECTION_OWNERS[name]), self.raw[name], name, self.source)
        raise KeyError(f"no config section {name!r}")


class _Run:
    """Attribute access to `sizes.<size>` (SizeConfig's fields), lists as tuples."""

    def __init__(self, section: Mapping[str, Any]) -> None:
        self._section = section

    def __getattr__(self, name: str) -> Any:
        if name not in SIZE_FIELDS:
            raise AttributeError(name)
        value = self._section[name]
        return tuple(value) if isinstance(value, list) else value


SIZE_FIELDS = frozenset(f.name for f in dataclasses.fields(SizeConfig))


def _type_error(source: str, path: str, msg: str) -> ConfigError:
    return ConfigError(f"{source}: {path}: {msg}")


def plain_data(value: Any) -> Any:
    """`value` as plain JSON-ready data: every mapping (a `Given` view, a built section's read-only
    mapping) a dict, every tuple a list, recursively."""
    if isinstance(value, Mapping):
        return {str(k): plain_data(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_data(v) for v in value]
    return value


def with_overrides(base: Mapping[str, Any], overrides: Mapping[str, Any], where: str, section: str,
                   source: str) -> dict[str, Any]:
    """`base` (the `section` of params.yaml) with `overrides` (named `where` in errors) on top; an
    override key that `section` does not have is an error naming both."""
    unknown = sorted(set(overrides) - set(base))
    if unknown:
        raise ConfigError(f"{source}: {where}: unknown key(s) {', '.join(unknown)}; use keys of {section}")
    return {**base, **overrides}


def build(cls: Any, data: Any, path: str, source: str = "params.yaml") -> Any:
    """Build a (nested) frozen dataclass from plain data, naming the key path on any mismatch."""
    return _convert(cls, data, path, source)


def _convert(tp: Any, value: Any, path: str, source: str) -> Any:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        if not isinstance(value, Mapping):
            raise _type_error(source, path, f"expected a mapping, got {type(value).__name__}")
        hints = typing.get_type_hints(tp)
        fields = {f.name for f in dataclasses.fields(tp)}
        unknown = sorted(set(value) - fields)
        if unknown:
            raise _type_error(source, path, f"unknown key(s) {', '.join(unknown)}")
        missing = sorted(fields - set(value))
        if missing:
            raise _type_error(source, path, f"missing key(s) {', '.join(missing)}")
        return tp(**{k: _convert(hints[k], value[k], f"{path}.{k}", source) for k in fields})
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        errors = []
        for arg in args:
            if arg is type(None):
                continue
            try:
                return _convert(arg, value, path, source)
            except ConfigError as exc:
                errors.append(str(exc))
        if errors:
            raise ConfigError(errors[0])
        raise _type_error(source, path, "no matching type")
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise _type_error(source, path, f"expected a list, got {type(value).__name__}")
        item = args[0] if args else Any
        return tuple(_convert(item, v, f"{path}[{i}]", source) for i, v in enumerate(value))
    if origin in (dict, Mapping, typing.Mapping, collections.abc.Mapping) or tp in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise _type_error(source, path, f"expected a mapping, got {type(value).__name__}")
        vt = args[1] if len(args) == 2 else Any
        return types.MappingProxyType({k: _convert(vt, v, f"{path}.{k}", source) for k, v in value.items()})
    if origin is typing.Literal:
        if value not in args:
            raise _type_error(source, path, f"{value!r} is not one of {list(args)}")
        return value
    if tp is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise _type_error(source, path, f"{value!r} is not a number")
        return float(value)
    if tp is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise _type_error(source, path, f"{value!r} is not an integer")
        return value
    if tp is bool:
        if not isinstance(value, bool):
            raise _type_error(source, path, f"{value!r} is not true/false")
        return value
    if tp is str:
        if not isinstance(value, str):
            raise _type_error(source, path, f"{value!r} is not a string")
        return value
    return value


def _format_error(err: Any) -> str:
    path = ".".join(str(p) for p in err.absolute_path)
    return f"{path}: {err.message}" if path else err.message


def validate(data: Any, source: str = "params.yaml", schema: Mapping[str, Any] | None = None) -> None:
    """Validate against the params schema; raise ConfigError listing every problem by key path."""
    import jsonschema

    if schema is None:
        schema = load_schema()
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: [str(p) for p in e.absolute_path])
    if errors:
        lines = "\n  ".join(_format_error(e) for e in errors)
        raise ConfigError(f"{source}: invalid configuration:\n  {lines}\nFix these keys (see the comments in params.yaml).")


def load_schema() -> dict[str, Any]:
    return yaml.safe_load(schema_path().read_text(encoding="utf-8"))


def _without_required(node: Any) -> Any:
    """The schema with every `required` list dropped: the rules for a part of the configuration."""
    if isinstance(node, dict):
        return {k: _without_required(v) for k, v in node.items() if k != "required"}
    if isinstance(node, list):
        return [_without_required(v) for v in node]
    return node


def load_params(path: str | Path = "params.yaml") -> Params:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"{p}: no such file; run from the repository root or pass --params PATH")
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{p}:{mark.line + 1}" if mark is not None else str(p)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', exc)})") from None
    return params_from_dict(data, str(p))


BASE_METHODS = ("react", "reflexion", "self_critique", "oracle")
_LATS_METHOD = re.compile(r"^lats_n[1-9][0-9]*$")


def check_methods(data: Mapping[str, Any], sizes: Mapping[str, SizeConfig], source: str) -> None:
    """Every evaluated method is a base method, lats_n<simulations> or a key of evaluate.critics, and
    every critic a method reads is a trained variant (train.variants)."""
    critics = data["evaluate"]["critics"]
    variants = data["train"]["variants"]
    for method, spec in critics.items():
        if spec["variant"] not in variants:
            raise ConfigError(
                f"{source}: evaluate.critics.{method}.variant: {spec['variant']!r} is not a key of "
                f"train.variants ({', '.join(variants)})"
            )
    for name, size in sizes.items():
        for i, method in enumerate(size.methods):
            if method not in BASE_METHODS and method not in critics and not _LATS_METHOD.match(method):
                raise ConfigError(
                    f"{source}: sizes.{name}.methods[{i}]: unknown method {method!r}; use one of "
                    f"{', '.join(BASE_METHODS)}, lats_n<simulations> or a key of evaluate.critics "
                    f"({', '.join(critics)})"
                )


def params_from_dict(data: Any, source: str = "params.yaml") -> Params:
    """The complete configuration (params.yaml, or Snakemake's config), validated."""
    validate(data, source)
    if data["size"] not in data["sizes"]:
        raise ConfigError(f"{source}: size: {data['size']!r} is not a key of sizes ({', '.join(data['sizes'])})")
    sizes = {k: build(SizeConfig, v, f"sizes.{k}", source) for k, v in data["sizes"].items()}
    check_methods(data, sizes, source)
    return Params(raw=Given(data, source), source=source)


def job_params(data: Any, source: str) -> Params:
    """The part of the configuration a workflow job was given (`pnlc --config-json`): validated
    against the schema's rules for the keys present; reading any other key is an error."""
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping of configuration keys")
    validate(data, source, _without_required(load_schema()))
    return Params(raw=Given(data, source), source=source)


def _split_key(key: str) -> list[str]:
    return key.split(".")


def project(data: Mapping[str, Any], keys: Sequence[str], wildcards: Mapping[str, str]) -> dict[str, Any]:
    """The values of `keys` in `data`, nested as in `data`. A key is a dotted path whose `{name}`
    parts are filled from `wildcards` and `{size}` from `data["size"]` (the size key itself is then
    included); a key ending in `?` is left out when absent, any other absent key is an error."""
    out: dict[str, Any] = {}
    fill = {"size": data["size"], **wildcards}
    for key in keys:
        optional = key.endswith("?")
        path = _split_key(key.rstrip("?"))
        if "{size}" in path:
            out["size"] = data["size"]
        try:
            path = [part.format(**fill) for part in path]
        except KeyError as exc:
            raise ConfigError(f"configuration key {key}: no wildcard {exc} in this job") from None
        node: Any = data
        for i, part in enumerate(path):
            if not isinstance(node, Mapping) or part not in node:
                if optional:
                    break
                raise ConfigError(f"configuration key {'.'.join(path[: i + 1])}: not in the configuration")
            node = node[part]
        else:
            target = out
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = node
    return out
