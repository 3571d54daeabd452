"""Prompt files: plain text with `{named}` placeholders, shipped in `pnlc/prompts/`, rendered strictly."""

from __future__ import annotations

import hashlib
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path


class PromptError(ValueError):
    """A prompt file is missing, or a render call does not supply exactly its placeholders."""


@dataclass(frozen=True)
class Prompt:
    """A prompt file: its text with `{named}` placeholders (`{{`/`}}` for literal braces)."""

    name: str
    text: str

    @property
    def sha256(self) -> str:
        """Content hash, stored with every output the prompt produced."""
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    @property
    def fields(self) -> frozenset[str]:
        names = set()
        for _, field_name, _, _ in string.Formatter().parse(self.text):
            if field_name is not None:
                if not field_name.isidentifier():
                    raise PromptError(f"prompt {self.name}.txt: placeholder {{{field_name}}} is not a plain name")
                names.add(field_name)
        return frozenset(names)

    def render(self, **values: object) -> str:
        """The text with every placeholder filled; a missing or unexpected value is an error."""
        missing = sorted(self.fields - set(values))
        extra = sorted(set(values) - self.fields)
        if missing or extra:
            raise PromptError(
                f"prompt {self.name}.txt: missing field(s) {missing or '[]'}, unexpected field(s) {extra or '[]'}; "
                f"the file's placeholders are {sorted(self.fields)}"
            )
        return self.text.format(**values)


def load_prompt(name: str, directory: str | Path | None = None) -> Prompt:
    """Read `<name>.txt` from `directory` (by default the prompts shipped in the package)."""
    if directory is None:
        source = resources.files("pnlc").joinpath("prompts", f"{name}.txt")
        where = f"package pnlc/prompts/{name}.txt"
    else:
        source = Path(directory) / f"{name}.txt"
        where = str(source)
    if not source.is_file():
        raise PromptError(f"prompt file {where} not found; add it (prompts are plain text with {{named}} fields)")
    return Prompt(name, source.read_text(encoding="utf-8"))
