"""Prompt files of the persuasion task: loaded from package data, rendered strictly."""

from __future__ import annotations

import hashlib
import string
from importlib import resources


class PromptError(ValueError):
    """A prompt file is missing, or a render call does not supply exactly its placeholders."""


def load_prompt(name: str) -> str:
    """Text of `src/pnlc/prompts/<name>.txt`."""
    path = resources.files("pnlc").joinpath("prompts", f"{name}.txt")
    if not path.is_file():
        raise PromptError(f"prompt file prompts/{name}.txt not found in the pnlc package; reinstall pnlc")
    return path.read_text(encoding="utf-8")


def prompt_hash(template: str) -> str:
    """Short content hash stored with every output a prompt produced."""
    return hashlib.sha256(template.encode("utf-8")).hexdigest()[:16]


def placeholders(template: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(template) if field}


def render(template: str, name: str, **fields: str) -> str:
    """Fill `{placeholders}`; a missing or unexpected field is an error naming the prompt."""
    wanted = placeholders(template)
    missing = sorted(wanted - set(fields))
    extra = sorted(set(fields) - wanted)
    if missing or extra:
        raise PromptError(
            f"prompt {name}: missing field(s) {missing or '[]'}, unexpected field(s) {extra or '[]'}; "
            f"the template expects {sorted(wanted)}"
        )
    return template.format(**fields)
