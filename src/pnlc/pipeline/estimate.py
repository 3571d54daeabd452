"""`pnlc estimate`: the LLM calls, tokens and dollars a run of the configured size will spend, per
environment, phase and method, read off a small recorded run before paying for a large one.

Each figure is a recorded per-episode mean times the episodes the configured size plays: generation
`train_episodes`, annotation the same episodes (one summary per step and per final state with
`annotate.summarizer: llm`, none with `describe`), evaluation `test_tasks` (capped by the test split)
times the evaluation seeds, per method. An episode's usage is the sum of its decisions' calls plus
what falls between them (reflexion's earlier trials and lessons), so it is read from `Episode.usage`.
Recorded input tokens include the cached ones (the Anthropic backend adds cache reads and writes to
them); dollars charge the cached tokens at the cached price and the rest at the input price.

The same code, given a run's own files and no size to scale to, gives what that run used: the
report sets it against the estimate (`report.cost_estimate`).
"""

from __future__ import annotations

import dataclasses
import importlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from pnlc.config import ConfigError, Params
from pnlc.data import Usage, atomic_write_text, episode_from_dict, read_jsonl

PHASES = ("generate", "annotate", "evaluate")
RECORDED = "recorded"  # a row's basis: per-episode means of recorded episodes
NO_RECORD = "no record"  # nothing recorded to scale: left out of the totals
ROUGH = "rough"  # annotation calls counted, tokens borrowed from generation's per-call figures
NO_CALLS = "describe"  # annotate.summarizer describe: no LLM calls
FORMAT = "pnlc estimate"  # the `what` of an estimate file


@dataclass(frozen=True)
class Prices:
    """USD per million tokens (llm.anthropic.price_*)."""

    input: float
    output: float
    cached: float
    cache_write: float

    @classmethod
    def of(cls, raw: Mapping[str, Any]) -> "Prices":
        return cls(float(raw["price_input_per_mtok"]), float(raw["price_output_per_mtok"]),
                   float(raw["price_cached_per_mtok"]), float(raw["price_cache_write_per_mtok"]))

    def usd(self, input_tokens: float, output_tokens: float, cached_tokens: float) -> float:
        return ((input_tokens - cached_tokens) * self.input + cached_tokens * self.cached
                + output_tokens * self.output) / 1e6


@dataclass(frozen=True)
class Tally:
    """LLM usage summed over the recorded episodes of one environment, phase and method."""

    episodes: int = 0
    steps: int = 0
    usage: Usage = Usage()
    model: str = ""


@dataclass(frozen=True)
class Row:
    env: str
    phase: str
    method: str  # the evaluated method; "" for generation and annotation
    episodes: int  # episodes the run plays (the estimate) or played (a run's own record)
    recorded: int  # recorded episodes the figures are means of
    basis: str  # RECORDED | NO_RECORD | ROUGH | NO_CALLS
    calls: float = 0.0
    input_tokens: float = 0.0
    output_tokens: float = 0.0
    cached_tokens: float = 0.0
    usd: float = 0.0
    note: str = ""

    @property
    def key(self) -> tuple[str, str, str]:
        return self.env, self.phase, self.method

    @property
    def counted(self) -> bool:
        return self.basis != NO_RECORD


@dataclass(frozen=True)
class Recorded:
    """A run's files that hold LLM usage: generation shards per environment, evaluation files per
    (environment, method), and the annotation usage file per environment where there is one."""

    backend: str
    trajectories: Mapping[str, tuple[Path, ...]]
    evals: Mapping[tuple[str, str], tuple[Path, ...]]
    annotation_usage: Mapping[str, Path]


def group_files(backend: str, trajectories: Iterable[Path], evals: Iterable[Path],
                annotation_usage: Iterable[Path]) -> Recorded:
    """Group files by their literal paths: results/trajectories/{env}/{backend}/shard{k}.jsonl,
    results/eval/{env}/{backend}/{method}/seed{s}.jsonl, results/annotations/{env}/{backend}.usage.json."""
    shards: dict[str, list[Path]] = {}
    for path in map(Path, trajectories):
        shards.setdefault(path.parts[-3], []).append(path)
    runs: dict[tuple[str, str], list[Path]] = {}
    for path in map(Path, evals):
        runs.setdefault((path.parts[-4], path.parts[-2]), []).append(path)
    usage = {Path(p).parent.name: Path(p) for p in annotation_usage}
    return Recorded(backend, {k: tuple(sorted(v)) for k, v in shards.items()},
                    {k: tuple(sorted(v)) for k, v in runs.items()}, usage)


def find_recorded(root: Path, envs: Sequence[str], backend: str | None = None) -> Recorded:
    """The recorded files under `root`/results for `envs`; the backend is the one folder name they
    share (or `backend`)."""
    results = Path(root) / "results"
    if not results.is_dir():
        raise ConfigError(f"estimate: {results} does not exist; give --from the folder of a recorded run "
                          "(the one holding results/), e.g. a checkout where the workflow ran at a small size")
    found: dict[str, set[str]] = {}
    for env in envs:
        folder = results / "trajectories" / env
        found[env] = {d.name for d in folder.iterdir() if d.is_dir() and any(d.glob("shard*.jsonl"))} \
            if folder.is_dir() else set()
        if not found[env]:
            raise ConfigError(
                f"estimate: no recorded trajectories of {env} under {folder} (shard*.jsonl); run the workflow "
                f"there at a small size first (e.g. `snakemake --cores 2 --config size=tiny envs=[{env}]`), "
                "or drop the environment from envs"
            )
    if backend is None:
        shared = set.intersection(*found.values()) if found else set()
        if len(shared) != 1:
            listing = "; ".join(f"{env}: {', '.join(sorted(b))}" for env, b in found.items())
            raise ConfigError(f"estimate: cannot tell which recorded backend to read under {results / 'trajectories'} "
                              f"({listing}); name one with --recorded-backend")
        backend = shared.pop()
    trajectories, evals, usage = [], [], []
    for env in envs:
        shards = sorted((results / "trajectories" / env / backend).glob("shard*.jsonl"))
        if not shards:
            raise ConfigError(f"estimate: no recorded trajectories under {results / 'trajectories' / env / backend}; "
                              f"record {env} with backend {backend} first, or pick another --recorded-backend")
        trajectories += shards
        evals += sorted((results / "eval" / env / backend).glob("*/seed*.jsonl"))
        annotation = results / "annotations" / env / f"{backend}.usage.json"
        if annotation.is_file():
            usage.append(annotation)
    return group_files(backend, trajectories, evals, usage)


def tally(paths: Sequence[Path]) -> Tally:
    """Usage summed over every episode of `paths`."""
    episodes = steps = 0
    usage, model = Usage(), ""
    for path in paths:
        for ep in read_jsonl(path, episode_from_dict):
            episodes += 1
            steps += len(ep.steps)
            usage = usage + ep.usage
            model = model or ep.model
    return Tally(episodes, steps, usage, model)


def read_annotation_usage(path: Path) -> dict[str, Any]:
    """An annotation usage file (results/annotations/{env}/{backend}.usage.json), checked."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); rerun `pnlc annotate` for it") from None
    if not isinstance(doc, Mapping) or doc.get("summarizer") not in ("describe", "llm") \
            or not isinstance(doc.get("episodes"), int):
        raise ValueError(f"{path}: not an annotation usage file (summarizer describe|llm, episodes); "
                         "rerun `pnlc annotate` for it")
    if doc["summarizer"] == "llm" and not all(isinstance(doc.get(k), (int, float))
                                              for k in ("calls", "input_tokens", "output_tokens")):
        raise ValueError(f"{path}: summarizer llm without calls, input_tokens and output_tokens; "
                         "rerun `pnlc annotate` for it")
    return dict(doc)


def _row(env: str, phase: str, method: str, record: Tally, episodes: int | None, basis: str, prices: Prices,
         note: str = "") -> Row:
    """A row of `episodes` episodes at the record's per-episode means (None: as recorded)."""
    target = record.episodes if episodes is None else episodes
    factor = target / record.episodes if record.episodes else 0.0
    u = record.usage
    calls, tokens_in, tokens_out, cached = (u.calls * factor, u.input_tokens * factor, u.output_tokens * factor,
                                            u.cached_tokens * factor)
    return Row(env, phase, method, target, record.episodes, basis, calls, tokens_in, tokens_out, cached,
               prices.usd(tokens_in, tokens_out, cached), note)


def annotate_row(env: str, backend: str, generation: Tally, usage_path: Path | None, summarizer: str | None,
                 episodes: int | None, prices: Prices) -> Row:
    """Annotation: the usage file's per-episode figures; without one (or one of `describe`) with the
    llm summarizer, one call per step and per final state at generation's per-call tokens (rough)."""
    doc = read_annotation_usage(usage_path) if usage_path is not None else None
    summarizer = summarizer or (doc["summarizer"] if doc else None)
    played = generation.episodes if episodes is None else episodes
    missing = f"no results/annotations/{env}/{backend}.usage.json"
    if summarizer == "describe":
        return Row(env, "annotate", "", played, doc["episodes"] if doc else generation.episodes, NO_CALLS,
                   note="summarizer describe: no LLM calls")
    if doc is not None and doc["summarizer"] == "llm":
        used = Usage(calls=int(doc["calls"]), input_tokens=int(doc["input_tokens"]),
                     output_tokens=int(doc["output_tokens"]), cached_tokens=int(doc.get("cached_tokens", 0)))
        record = Tally(int(doc["episodes"]), int(doc.get("steps", 0)), used, str(doc.get("model", "")))
        return _row(env, "annotate", "", record, episodes, RECORDED, prices)
    if episodes is None or not generation.episodes:
        return Row(env, "annotate", "", played, 0, NO_RECORD, note=missing)
    why = "the record annotated with describe" if doc is not None else missing
    gen = generation.usage
    calls = generation.steps + generation.episodes
    per_call = calls / gen.calls if gen.calls else 0.0
    used = Usage(calls=calls, input_tokens=round(gen.input_tokens * per_call),
                 output_tokens=round(gen.output_tokens * per_call))
    record = Tally(generation.episodes, generation.steps, used, generation.model)
    return _row(env, "annotate", "", record, episodes, ROUGH, prices,
                note=f"{why}: one call per step and final state, tokens per call as generation's (rough)")


def usage_rows(recorded: Recorded, envs: Sequence[str], methods: Sequence[str], prices: Prices,
               summarizer: str | None = None, train_episodes: int | None = None,
               eval_episodes: Mapping[str, int] | None = None) -> list[Row]:
    """Rows per environment: generation, annotation, then each method's evaluation. With episode
    counts, the record's per-episode means scaled to them (the estimate); without, the record as it
    is (what a run used; the summarizer is then the one its usage file names)."""
    rows = []
    for env in envs:
        generation = tally(recorded.trajectories.get(env, ()))
        if generation.episodes:
            rows.append(_row(env, "generate", "", generation, train_episodes, RECORDED, prices))
        else:
            rows.append(Row(env, "generate", "", train_episodes or 0, 0, NO_RECORD, note="no recorded trajectories"))
        rows.append(annotate_row(env, recorded.backend, generation, recorded.annotation_usage.get(env), summarizer,
                                 train_episodes, prices))
        for method in methods:
            record = tally(recorded.evals.get((env, method), ()))
            target = None if eval_episodes is None else eval_episodes[env]
            if record.episodes:
                rows.append(_row(env, "evaluate", method, record, target, RECORDED, prices))
            else:
                rows.append(Row(env, "evaluate", method, target or 0, 0, NO_RECORD))
    return rows


def totals(rows: Sequence[Row]) -> dict[str, float]:
    """Sums over the rows that have a figure (not the `no record` ones)."""
    keys = ("calls", "input_tokens", "output_tokens", "cached_tokens", "usd")
    return {k: float(sum(getattr(r, k) for r in rows if r.counted)) for k in keys}


def first_model(paths: Sequence[Path]) -> str:
    """The model of the first recorded episode (one line read, not the file)."""
    from pnlc.data.jsonl import iter_jsonl

    for path in paths:
        for ep in iter_jsonl(path, episode_from_dict):
            return ep.model
    return ""


def evaluation_tasks(params: Params, env: str) -> int:
    """Test tasks a method plays per seed: sizes.<size>.test_tasks capped by the environment's test
    split (the donor does not change the split, so an LLM donor is not built for it)."""
    from pnlc.pipeline.factory import env_config

    cfg = env_config(params, env)
    if env == "persuasion":
        cfg = dataclasses.replace(cfg, donor="sim")
    split = importlib.import_module(f"pnlc.envs.{env}").make_env(cfg).tasks("test")
    return min(params.run.test_tasks, len(split))


def target_model(params: Params) -> str:
    backend = params.backend if params.backend != "sim" else "anthropic"
    return str(params.raw["llm"][backend]["model"])


def estimate(params: Params, root: Path, out: Path | None = None, recorded_backend: str | None = None) -> dict[str, Any]:
    """The estimate of the configured run from the run recorded under `root`, as a JSON-ready dict
    (written atomically to `out` when given)."""
    recorded = find_recorded(root, params.envs, recorded_backend)
    run = params.run
    prices = Prices.of(params.raw["llm"]["anthropic"])
    summarizer = params.section("annotate").summarizer
    eval_episodes = {env: evaluation_tasks(params, env) * len(run.eval_seeds) for env in params.envs}
    rows = usage_rows(recorded, params.envs, run.methods, prices, summarizer, run.train_episodes, eval_episodes)
    models = sorted({first_model(shards) for shards in recorded.trajectories.values()} - {""})
    notes = []
    if recorded.backend == "sim":
        notes.append("The record is of backend sim: its tokens are whitespace words of what the simulated roles "
                     "read and wrote (an LLM tokenizer gives more, about 1.3 per English word); calls are exact.")
    if recorded.backend == "hf":
        notes.append("The record is of backend hf: its tokens are the local model's tokenizer's, which may count "
                     "a text differently from the configured model's.")
    if any(r.basis == NO_RECORD for r in rows):
        missing = sorted({f"{r.env}/{r.method or r.phase}" for r in rows if r.basis == NO_RECORD})
        notes.append(f"No record (left out of the totals): {', '.join(missing)}; record them at the small size "
                     "to have them estimated.")
    if any(r.basis == ROUGH for r in rows):
        notes.append("Annotation is rough: the record holds no LLM summarizer usage, so its calls are one per step "
                     "and final state of the generated episodes and its tokens per call are generation's.")
    if params.backend != "anthropic":
        notes.append(f"The configured backend is {params.backend}: these are the calls an LLM backend would make, "
                     "priced at llm.anthropic's prices.")
    if "persuasion" in params.envs and params.raw["env"]["persuasion"]["donor"] == "llm":
        notes.append("env.persuasion.donor llm: the donor's own calls are not in the records and not estimated.")
    if recorded.backend == "anthropic":
        notes.append("Cache writes are recorded as input tokens and priced at the input price "
                     f"({prices.input} USD/Mtok, not the cache-write price {prices.cache_write}).")
    doc = {
        "what": FORMAT,
        "size": params.size,
        "backend": params.backend,
        "model": target_model(params),
        "prices_per_mtok": dataclasses.asdict(prices),
        "recorded": {"root": str(root), "backend": recorded.backend, "simulated": recorded.backend == "sim",
                     "models": models},
        "episodes": {"train": run.train_episodes, "evaluate": eval_episodes},
        "summarizer": summarizer,
        "rows": [dataclasses.asdict(r) for r in rows],
        "totals": {"all": totals(rows), **{env: totals([r for r in rows if r.env == env]) for env in params.envs}},
        "notes": notes,
    }
    if out is not None:
        atomic_write_text(out, json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return doc


def _count(value: float) -> str:
    return f"{value:,.0f}"


def _usd(value: float) -> str:
    """Cents for a bill; four decimals for the small figures of a tiny run."""
    if value == 0:
        return "0"
    return f"{value:,.2f}" if abs(value) >= 1 else f"{value:.4f}"


def estimate_table(doc: Mapping[str, Any]) -> Any:
    """The estimate as a table: a row per environment, phase and method, then totals."""
    from pnlc.evaluation import tables

    rows = []
    for r in map(lambda d: Row(**d), doc["rows"]):
        figures = (_count(r.calls), _count(r.input_tokens), _count(r.output_tokens), _count(r.cached_tokens),
                   _usd(r.usd)) if r.counted else (tables.MISSING,) * 5
        basis = {RECORDED: f"{r.recorded} recorded", ROUGH: f"{r.recorded} recorded", NO_CALLS: ""}.get(r.basis, r.basis)
        rows.append((r.env, r.phase, r.method or tables.MISSING, _count(r.episodes), *figures,
                     "; ".join(part for part in (basis, r.note) if part)))
    per_env = {env: t for env, t in doc["totals"].items() if env != "all"}
    shown = [*(per_env.items() if len(per_env) > 1 else ()), ("all", doc["totals"]["all"])]
    for env, t in shown:
        rows.append((env, "total", "", "", _count(t["calls"]), _count(t["input_tokens"]), _count(t["output_tokens"]),
                     _count(t["cached_tokens"]), _usd(t["usd"]), ""))
    p = doc["prices_per_mtok"]
    rec = doc["recorded"]
    notes = (f"Per-episode means of the run recorded under {rec['root']} (backend {rec['backend']}"
             + (f", model {', '.join(rec['models'])}" if rec["models"] else "") + f"), times the episodes of size "
             f"{doc['size']}. USD at {p['input']} / {p['output']} / {p['cached']} per Mtok input / output / cached.",
             *doc["notes"])
    return tables.Table(
        f"estimate_{doc['size']}", f"Expected LLM use of a {doc['size']}-size run, model {doc['model']}",
        ("Env", "Phase", "Method", "Episodes", "Calls", "Input tok", "Output tok", "Cached tok", "USD", "Basis"),
        tuple(rows), notes, align="lll" + "r" * 6 + "l",
    )


# --- estimated vs actual (the report) -------------------------------------------------------------


def read_estimate(path: Path) -> dict[str, Any]:
    """A `pnlc estimate --out` file, checked."""
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"report.cost_estimate: {path} does not exist; write it with "
                          f"`pnlc estimate --from DIR --out {path}` before the run, or set the key to null") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not valid JSON ({exc}); write it again with `pnlc estimate --out`") from None
    if not isinstance(doc, Mapping) or doc.get("what") != FORMAT or not isinstance(doc.get("rows"), list):
        raise ValueError(f"{path}: not a `pnlc estimate --out` file (report.cost_estimate); write it with "
                         "`pnlc estimate --from DIR --out FILE`")
    return dict(doc)


def actual_rows(estimate_doc: Mapping[str, Any], recorded: Recorded, methods: Sequence[str]) -> list[Row]:
    """What the run used, from its own files, at the estimate's prices (so the two compare)."""
    envs = sorted(set(recorded.trajectories) | {env for env, _ in recorded.evals})
    ran = [m for m in methods if any((env, m) in recorded.evals for env in envs)]
    ran += sorted({m for _, m in recorded.evals} - set(ran))
    prices = Prices(**estimate_doc["prices_per_mtok"])
    return usage_rows(recorded, envs, ran, prices)


def comparison_table(estimate_doc: Mapping[str, Any], actual: Sequence[Row], backend: str,
                     name: str = "cost_estimate") -> Any:
    """Estimated vs actual calls, tokens and dollars per environment, phase and method."""
    from pnlc.evaluation import tables

    est = {r.key: r for r in map(lambda d: Row(**d), estimate_doc["rows"])}
    act = {r.key: r for r in actual}
    keys = list(est) + [k for k in act if k not in est]

    def cells(row: Row | None, field: str) -> str:
        if row is None or not row.counted:
            return tables.MISSING
        return _usd(row.usd) if field == "usd" else _count(getattr(row, field))

    fields = ("calls", "input_tokens", "output_tokens", "usd")
    rows = []
    for key in keys:
        e, a = est.get(key), act.get(key)
        ratio = (f"{a.usd / e.usd:.2f}" if e is not None and a is not None and e.counted and a.counted and e.usd
                 else tables.MISSING)
        rows.append((*key[:2], key[2] or tables.MISSING,
                     *(c for f in fields for c in (cells(e, f), cells(a, f))), ratio))
    both = [k for k in keys if k in est and k in act and est[k].counted and act[k].counted]
    te, ta = totals([est[k] for k in both]), totals([act[k] for k in both])
    rows.append(("all", "total", "", *(c for f in fields for c in (
        _usd(te[f]) if f == "usd" else _count(te[f]), _usd(ta[f]) if f == "usd" else _count(ta[f]))),
        f"{ta['usd'] / te['usd']:.2f}" if te["usd"] else tables.MISSING))
    p = estimate_doc["prices_per_mtok"]
    rec = estimate_doc["recorded"]
    notes = [
        f"Estimated: `pnlc estimate` before the run, for size {estimate_doc['size']} from the run recorded under "
        f"{rec['root']} (backend {rec['backend']}). Actual: this run's own trajectories, annotation usage and "
        "evaluation files.",
        f"USD of both at the estimate's prices ({p['input']} / {p['output']} / {p['cached']} per Mtok input / output "
        "/ cached). The total sums the rows that have both figures.",
    ]
    if rec.get("simulated") or backend == "sim":
        notes.append("Tokens of backend sim are whitespace words of the simulated roles' texts.")
    return tables.Table(
        name, "LLM use: estimated before the run vs actual",
        ("Env", "Phase", "Method", "Calls est.", "Calls actual", "Input tok est.", "Input tok actual",
         "Output tok est.", "Output tok actual", "USD est.", "USD actual", "Actual / est. USD"),
        tuple(rows), tuple(notes), align="lll" + "r" * 9,
    )


def write_cost_estimate(estimate_path: Path, backend: str, trajectories: Sequence[Path], evals: Sequence[Path],
                        annotation_usage: Sequence[Path], methods: Sequence[str], out_dir: Path) -> list[Path]:
    """results/tables/cost_estimate.{csv,md,tex}: the estimate file set against this run's records."""
    from pnlc.evaluation import tables

    doc = read_estimate(estimate_path)
    recorded = group_files(backend, trajectories, evals, annotation_usage)
    return tables.write_table(comparison_table(doc, actual_rows(doc, recorded, methods), backend), out_dir)
