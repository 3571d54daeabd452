"""The environments sit below every LLM and agent layer (DESIGN.md §1): a module under
`src/pnlc/envs` imports only the environments themselves, the record types of `pnlc.data`, and
light third-party libraries. An LLM donor or counterpart is built above and handed in."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"
ENVS = SRC / "pnlc" / "envs"
ALLOWED_PNLC = ("pnlc.envs", "pnlc.data")
FORBIDDEN_THIRD_PARTY = ("torch", "lightning", "transformers", "anthropic")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[str]:
    """Every module `source` imports, at any depth (function bodies included), relative ones resolved."""
    package = module if is_package else module.rpartition(".")[0]
    found: list[str] = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append(name)
            found += [f"{name}.{alias.name}" for alias in node.names if node.module is None]
    return found


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    bad = []
    for name in imported_modules(source, module, is_package):
        root = name.split(".")[0]
        if root == "pnlc" and not any(name == ok or name.startswith(ok + ".") for ok in ALLOWED_PNLC):
            bad.append(name)
        elif root in FORBIDDEN_THIRD_PARTY:
            bad.append(name)
    return bad


@pytest.mark.parametrize(
    "source",
    [
        "from pnlc.llm.base import Request",
        "def f():\n    from pnlc.llm.base import user\n",
        "import pnlc.agents.seat",
        "from ...agents import seat",
        "from ... import llm",
        "def f():\n    import torch\n",
    ],
)
def test_the_scan_catches_an_upward_import(source: str) -> None:
    assert violations(source, "pnlc.envs.persuasion.env")


def test_the_scan_allows_the_environments_own_layers() -> None:
    source = "from pnlc.envs.base import EnvError\nfrom pnlc.data.records import Usage\nfrom .donor import Donor\n"
    assert violations(source, "pnlc.envs.persuasion.env") == []


def test_no_environment_module_imports_an_llm_agent_or_torch() -> None:
    files = sorted(ENVS.rglob("*.py"))
    assert len(files) > 10, f"expected the environment sources under {ENVS}"
    found = {
        str(f.relative_to(SRC)): bad
        for f in files
        if (bad := violations(f.read_text(encoding="utf-8"), module_name(f), f.name == "__init__.py"))
    }
    assert found == {}, f"environment modules import layers above them: {found}"
