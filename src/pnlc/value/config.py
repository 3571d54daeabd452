"""Training configuration of the value model (critic); every knob is an explicit field."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from typing import Any, Mapping

PRECISIONS = ("32-true", "bf16-mixed")
ACCELERATORS = ("auto", "cpu", "cuda", "gpu")
OUTCOME_MC_GOALS = ("sampled", "every")  # which outcome goals the Monte-Carlo term asks each outcome row about
OUTCOME_MC_LOSSES = ("squared", "log")  # how the Monte-Carlo term scores Q against what happened


class ConfigError(ValueError):
    """A training config value is missing, unknown or out of range; the message names the key."""


@dataclass(frozen=True)
class GoalMixture:
    """Proportions of relabeled goal kinds per sampled transition; they sum to 1.

    future:        a later state s_{t+k} of the same episode, k >= 1 geometric in the discount
    final:         the episode's final state
    other_episode: a state of a different episode (rewards only when it matches by cosine)
    outcome:       one of the environment's outcome goals ("Good wins the game."), rewarded at the
                   episode's end from the outcome labels, undiscounted
    """

    future: float
    final: float
    other_episode: float
    outcome: float

    def __post_init__(self) -> None:
        for f in fields(self):
            v = getattr(self, f.name)
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not math.isfinite(v) or v < 0:
                raise ConfigError(f"goal_mixture.{f.name} = {v!r}: must be a finite number >= 0")
        total = self.future + self.final + self.other_episode + self.outcome
        if abs(total - 1.0) > 1e-6:
            raise ConfigError(
                f"goal_mixture proportions sum to {total:.6g}, not 1 "
                f"({self.as_tuple()}); adjust future/final/other_episode/outcome"
            )

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.future, self.final, self.other_episode, self.outcome)


@dataclass(frozen=True)
class TrainConfig:
    """Goal-conditioned IQL critic training (PAPER.md §3-4).

    hidden_sizes:          hidden layer widths of every MLP (paper: two hidden layers; ours 256, 256)
    expectile:             IQL expectile for V; 0.5 = mean regression, -> 1 = max over the data's thoughts
    discount:              gamma for state goals (outcome goals and the scalar critic use 1.0)
    target_update_rate:    Polyak rate of the target Q: target <- (1 - rate) target + rate Q
    learning_rate:         AdamW learning rate (V and Q)
    weight_decay:          AdamW weight decay
    batch_size:            sampled transitions per update
    max_steps:             number of updates (each = one V, one Q and one target step)
    goal_mixture:          proportions of relabeled goal kinds
    goal_match_threshold:  cosine similarity at which a state counts as reaching a goal
    val_fraction:          fraction of episodes held out (never trained on; diagnostics run on them)
    goal_conditioned:      False = scalar-critic ablation: Q(s, a) predicts the episode's success
    standardize_inputs:    centre and scale every embedding dimension by its mean and standard
                           deviation over the training texts before the networks (saved with them)
    train_episode_fraction: share of the training episodes used (a seeded subset; the held-out
                           episodes stay the same): 1.0 = all, smaller = a critic of less data
    shuffle_outcomes:      negative control: permute the training episodes' outcome labels and
                           success among them (seeded) before training; held-out labels stay true
    precision:             "32-true" or "bf16-mixed" (bf16 only pays on a GPU)
    accelerator:           "auto" (CUDA when present), "cpu", "cuda"/"gpu"
    seed:                  seeds initialisation, split, relabeling and diagnostics
    log_every_n_steps:     training losses are logged every this many updates
    val_every_n_steps:     held-out losses are computed every this many updates
    early_stop_patience:   stop once the held-out prediction loss (log loss of Q against the held-out
                           episodes' outcomes; IQLCritic.on_validation_epoch_end) has not improved by
                           early_stop_min_delta for this many validations in a row, and keep the
                           weights of the best validation; 0 = always run max_steps, keep the last
    early_stop_min_delta:  the least decrease of the held-out loss that counts as improving
    complement_outcomes:   True = complementary outcome goals (environment's declaration, stored with
                           the checkpoint) are answered consistently: P(A) = (q_A + 1 - q_notA) / 2
                           and P(not A) = 1 - P(A); False = each as its own Q head reads it
    diagnostic_goals_per_transition: relabeled goals sampled per held-out transition for the
                           reached-goal AUC and the reliability curve
    outcome_mc_weight:     weight of a Monte-Carlo term in the Q loss: on the sampled rows whose goal
                           is an outcome sentence, the squared error of Q against what happened by the
                           episode's end (for the scalar critic, every row against the success); 0 =
                           the TD loss alone, as IQL has it
    outcome_mc_goals:      "sampled" = that term asks each such row about its sampled outcome goal;
                           "every" = about every outcome goal (K answers per row, each against what
                           happened): a rare outcome then gets a label from every outcome row
    outcome_mc_loss:       how that term scores Q against the label: "squared" = (label - Q)^2;
                           "log" = the log loss -[label log Q + (1 - label) log(1 - Q)], whose pull on
                           Q's logit is label - Q and does not fade where Q is near 0 or 1 (a rare
                           outcome's positives are learnt as fast as the common outcomes')
    """

    hidden_sizes: tuple[int, ...]
    expectile: float
    discount: float
    target_update_rate: float
    learning_rate: float
    weight_decay: float
    batch_size: int
    max_steps: int
    goal_mixture: GoalMixture
    goal_match_threshold: float
    val_fraction: float
    goal_conditioned: bool
    standardize_inputs: bool
    train_episode_fraction: float
    shuffle_outcomes: bool
    precision: str
    accelerator: str
    seed: int
    log_every_n_steps: int
    val_every_n_steps: int
    early_stop_patience: int
    early_stop_min_delta: float
    complement_outcomes: bool
    diagnostic_goals_per_transition: int
    outcome_mc_weight: float = 0.0
    outcome_mc_goals: str = "sampled"
    outcome_mc_loss: str = "squared"

    def __post_init__(self) -> None:
        object.__setattr__(self, "hidden_sizes", tuple(self.hidden_sizes))
        if not self.hidden_sizes or any(not isinstance(h, int) or h <= 0 for h in self.hidden_sizes):
            raise ConfigError(f"hidden_sizes = {self.hidden_sizes!r}: need one or more positive ints")
        _check(0.0 < self.expectile < 1.0, "expectile", self.expectile, "in (0, 1)")
        _check(0.0 <= self.discount < 1.0, "discount", self.discount, "in [0, 1)")
        _check(0.0 < self.target_update_rate <= 1.0, "target_update_rate", self.target_update_rate, "in (0, 1]")
        _check(self.learning_rate > 0, "learning_rate", self.learning_rate, "> 0")
        _check(self.weight_decay >= 0, "weight_decay", self.weight_decay, ">= 0")
        for key in ("batch_size", "max_steps", "log_every_n_steps", "val_every_n_steps",
                    "diagnostic_goals_per_transition"):
            v = getattr(self, key)
            _check(isinstance(v, int) and not isinstance(v, bool) and v > 0, key, v, "a positive int")
        _check(isinstance(self.early_stop_patience, int) and not isinstance(self.early_stop_patience, bool)
               and self.early_stop_patience >= 0, "early_stop_patience", self.early_stop_patience, "an int >= 0")
        _check(isinstance(self.early_stop_min_delta, (int, float)) and not isinstance(self.early_stop_min_delta, bool)
               and math.isfinite(self.early_stop_min_delta) and self.early_stop_min_delta >= 0,
               "early_stop_min_delta", self.early_stop_min_delta, "a finite number >= 0")
        _check(isinstance(self.outcome_mc_weight, (int, float)) and not isinstance(self.outcome_mc_weight, bool)
               and math.isfinite(self.outcome_mc_weight) and self.outcome_mc_weight >= 0,
               "outcome_mc_weight", self.outcome_mc_weight, "a finite number >= 0")
        _check(self.outcome_mc_goals in OUTCOME_MC_GOALS, "outcome_mc_goals", self.outcome_mc_goals,
               " or ".join(OUTCOME_MC_GOALS))
        _check(self.outcome_mc_loss in OUTCOME_MC_LOSSES, "outcome_mc_loss", self.outcome_mc_loss,
               " or ".join(OUTCOME_MC_LOSSES))
        _check(isinstance(self.complement_outcomes, bool), "complement_outcomes", self.complement_outcomes,
               "true or false")
        if not isinstance(self.goal_mixture, GoalMixture):
            raise ConfigError(f"goal_mixture must be a GoalMixture, got {type(self.goal_mixture).__name__}")
        _check(-1.0 <= self.goal_match_threshold <= 1.0, "goal_match_threshold", self.goal_match_threshold, "in [-1, 1]")
        _check(0.0 < self.val_fraction < 1.0, "val_fraction", self.val_fraction, "in (0, 1)")
        _check(isinstance(self.goal_conditioned, bool), "goal_conditioned", self.goal_conditioned, "true or false")
        _check(isinstance(self.standardize_inputs, bool), "standardize_inputs", self.standardize_inputs,
               "true or false")
        _check(0.0 < self.train_episode_fraction <= 1.0, "train_episode_fraction", self.train_episode_fraction,
               "in (0, 1]")
        _check(isinstance(self.shuffle_outcomes, bool), "shuffle_outcomes", self.shuffle_outcomes, "true or false")
        _check(self.precision in PRECISIONS, "precision", self.precision, f"one of {PRECISIONS}")
        _check(self.accelerator in ACCELERATORS, "accelerator", self.accelerator, f"one of {ACCELERATORS}")
        _check(isinstance(self.seed, int) and not isinstance(self.seed, bool), "seed", self.seed, "an int")

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["hidden_sizes"] = list(self.hidden_sizes)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "TrainConfig":
        """Build from a plain mapping (params.yaml section); unknown or missing keys are errors."""
        names = [f.name for f in fields(cls)]
        unknown = sorted(set(data) - set(names))
        missing = [n for n in names if n not in data]
        if unknown or missing:
            raise ConfigError(
                f"train config: unknown keys {unknown}, missing keys {missing}; expected exactly {names}"
            )
        values = dict(data)
        gm = values["goal_mixture"]
        if isinstance(gm, Mapping):
            gm_names = [f.name for f in fields(GoalMixture)]
            if set(gm) != set(gm_names):
                raise ConfigError(f"goal_mixture: keys {sorted(gm)}; expected exactly {gm_names}")
            values["goal_mixture"] = GoalMixture(**{k: float(gm[k]) for k in gm_names})
        values["hidden_sizes"] = tuple(values["hidden_sizes"])
        return cls(**values)


def _check(ok: bool, key: str, value: Any, want: str) -> None:
    if not ok:
        raise ConfigError(f"train config key {key!r} = {value!r}: must be {want}")
