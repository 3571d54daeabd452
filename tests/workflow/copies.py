"""Scratch copies of the workflow for the tests that run it."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Iterable


# What a workflow run reads besides params.yaml: rules, default profile, code, DVC stages.
WORKFLOW = ("Snakefile", "dvc.yaml", "workflow", "profiles", "src", ".dvcignore")


def copy_sources(repo: Path, root: Path, names: Iterable[str]) -> None:
    """Copy files and folders of `repo` into `root`, leaving out bytecode and install metadata."""
    for name in names:
        src = repo / name
        if src.is_dir():
            shutil.copytree(src, root / name, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy(src, root / name)
