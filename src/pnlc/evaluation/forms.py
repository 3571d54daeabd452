"""How often an LLM's answers kept the format each role asks for, per environment, phase and role.

Every episode played by an LLM policy records, per role, the answers asked for, those whose first
answer was out of format (re-asked with the parse error) and those replaced by the role's default
after a second malformed answer (`Episode.info["answers"]`); the annotation phase records the same
for its summarizer (`results/annotations/<env>/<backend>.usage.json`). The table sums them: the
well-formed rate is the share of first answers a role's parser accepted, the usable rate the share
that ended in a parsed answer (first or re-asked).
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from pnlc.data import episode_from_dict, read_jsonl
from pnlc.evaluation.tables import Table, write_table

PHASES = ("generate", "annotate", "evaluate")
ALL = "all"


class FormsError(ValueError):
    """A record the table needs has no answer counts (an episode of the simulated backend, or one
    recorded before they were kept)."""


def _add(total: dict[str, int], counts: Mapping[str, Any], where: str) -> None:
    for key in ("asked", "malformed", "defaulted"):
        value = counts.get(key)
        if not isinstance(value, int) or value < 0:
            raise FormsError(f"{where}: answer count {key!r} is {value!r}, expected a whole number >= 0")
        total[key] += value


def episode_counts(paths: Iterable[Path], phase: str) -> dict[tuple[str, str, str, str], dict[str, int]]:
    """(env, phase, model, role) -> summed counts over every episode in `paths`."""
    out: dict[tuple[str, str, str, str], dict[str, int]] = defaultdict(lambda: dict(asked=0, malformed=0, defaulted=0))
    for path in paths:
        for ep in read_jsonl(path, episode_from_dict):
            answers = ep.info.get("answers")
            if answers is None:
                raise FormsError(
                    f"{path}: episode {ep.task_id} (backend {ep.backend}) records no answer counts; only episodes "
                    "an LLM played have them: rerun its phase with backend anthropic or hf"
                )
            for role, counts in answers.items():
                _add(out[(ep.env, phase, ep.model, role)], counts, f"{path}: episode {ep.task_id} role {role}")
    return out


def annotation_counts(paths: Iterable[Path]) -> dict[tuple[str, str, str, str], dict[str, int]]:
    """The summarizers' counts from the annotation usage files (none with summarizer describe)."""
    out: dict[tuple[str, str, str, str], dict[str, int]] = {}
    for path in paths:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
        env = Path(path).parent.name
        for role, stats in (doc.get("forms") or {}).items():
            counts = {"asked": stats["asked"], "malformed": stats["asked"] - stats["first_ok"],
                      "defaulted": stats["defaulted"]}
            total = out.setdefault((env, "annotate", doc["state_text"].split("/", 1)[-1], role),
                                   dict(asked=0, malformed=0, defaulted=0))
            _add(total, counts, f"{path}: role {role}")
    return out


def _rate(good: int, asked: int) -> str:
    return f"{100.0 * good / asked:.1f}" if asked else "–"


def forms_table(counts: Mapping[tuple[str, str, str, str], Mapping[str, int]], backend: str, name: str) -> Table:
    """One row per (environment, phase, model, role), then one per (model, role) over everything."""
    if not counts:
        raise FormsError("no answer counts: the run has no LLM-played episodes or summaries")
    overall: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict(asked=0, malformed=0, defaulted=0))
    rows = []
    order = {p: i for i, p in enumerate(PHASES)}
    for (env, phase, model, role), c in sorted(counts.items(), key=lambda kv: (kv[0][0], order[kv[0][1]], kv[0][2], kv[0][3])):
        rows.append((env, phase, model, role, str(c["asked"]), str(c["malformed"]), str(c["defaulted"]),
                     _rate(c["asked"] - c["malformed"], c["asked"]), _rate(c["asked"] - c["defaulted"], c["asked"])))
        _add(overall[(model, role)], c, f"{env} {phase} {role}")
    for (model, role), c in sorted(overall.items()):
        rows.append((ALL, ALL, model, role, str(c["asked"]), str(c["malformed"]), str(c["defaulted"]),
                     _rate(c["asked"] - c["malformed"], c["asked"]), _rate(c["asked"] - c["defaulted"], c["asked"])))
    return Table(
        name=name,
        title=f"How often the LLM's answers kept each role's format (backend {backend})",
        columns=("Environment", "Phase", "Model", "Role", "Asked", "Malformed first", "Defaulted",
                 "Well formed %", "Usable %"),
        rows=tuple(rows),
        align="lllllrrrr",
        notes=(
            "Well formed: the first answer parsed. Malformed first answers are asked again with the parse error; "
            "Defaulted: the second answer failed too and the role's safe default was used (never silently).",
        ),
    )


def write_forms(trajectories: Sequence[Path], annotation_usage: Sequence[Path], evals: Sequence[Path],
                backend: str, out_dir: Path, name: str) -> list[Path]:
    counts = {**episode_counts(trajectories, "generate"), **annotation_counts(annotation_usage),
              **episode_counts(evals, "evaluate")}
    return write_table(forms_table(counts, backend, name), out_dir)
