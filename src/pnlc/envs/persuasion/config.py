"""Persuasion configuration: every knob is a field the caller passes."""

from __future__ import annotations

from dataclasses import dataclass

from pnlc.envs.base import EnvError

DONOR_KINDS = ("sim", "llm")


@dataclass(frozen=True)
class PersuasionConfig:
    """Persuasion task settings.

    max_turns: persuader messages before the donor must decide (paper: 10).
    n_train_tasks / n_test_tasks: number of donor task ids per split (disjoint id ranges).
    donor: "sim" (simulated persona, the offline default) or "llm" (an LLM plays the donor).
    donor_temperature / donor_max_tokens: sampling settings of the LLM donor (unused for "sim").
    """

    max_turns: int
    n_train_tasks: int
    n_test_tasks: int
    donor: str
    donor_temperature: float
    donor_max_tokens: int

    def __post_init__(self) -> None:
        if self.max_turns < 1:
            raise EnvError(f"PersuasionConfig.max_turns must be >= 1, got {self.max_turns}")
        if self.n_train_tasks < 1 or self.n_test_tasks < 1:
            raise EnvError("PersuasionConfig.n_train_tasks and n_test_tasks must be >= 1")
        if self.donor_max_tokens < 16:
            raise EnvError(f"PersuasionConfig.donor_max_tokens must be >= 16, got {self.donor_max_tokens}")
        if self.donor not in DONOR_KINDS:
            raise EnvError(f"PersuasionConfig.donor must be one of {DONOR_KINDS}, got {self.donor!r}")
