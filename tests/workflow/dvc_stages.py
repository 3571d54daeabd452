"""What dvc.yaml's stages must declare, derived from workflow/phases.yaml (the rules' own list)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

PHASE_ORDER = ("generate", "annotate", "train", "evaluate", "report", "p4g")


def dvc_param(key: str) -> list[str]:
    """A rule's configuration key as DVC params: a wildcard part lists its parent, `{size}` reads
    `${size}` (and the size key itself)."""
    parts = key.rstrip("?").split(".")
    out = []
    if "{size}" in parts:
        out.append("size")
        parts = ["${size}" if p == "{size}" else p for p in parts]
    for i, part in enumerate(parts):
        if re.fullmatch(r"\{\w+\}", part):
            parts = parts[:i]
            break
    return out + [".".join(parts)]


def minimal(keys: set[str], sep: str = ".") -> list[str]:
    """Keys (or paths) without those already covered by a listed parent."""
    return sorted(k for k in keys if not any(k.startswith(p + sep) for p in keys if p != k))


def expected_stages(repo: Path) -> dict[str, dict[str, list[str]]]:
    """Per phase: deps (its rules' code) and params (what its jobs read and what shapes its jobs)."""
    spec = yaml.safe_load((repo / "workflow" / "phases.yaml").read_text(encoding="utf-8"))
    stages: dict[str, dict[str, set[str]]] = {
        p: {"code": set(), "params": set()} for p in PHASE_ORDER
    }
    for rule in spec["rules"].values():
        stage = stages[rule["phase"]]
        stage["code"].update(spec["common_code"], rule["code"])
        for key in rule["reads"]:
            stage["params"].update(dvc_param(key))
    for phase, info in spec["phases"].items():
        for key in info["shape"]:
            stages[phase]["params"].update(dvc_param(key))
    return {p: {"code": minimal(s["code"], "/"), "params": minimal(s["params"])} for p, s in stages.items()}
