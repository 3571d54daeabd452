"""Training: one goal-conditioned IQL critic per (environment, variant, seed)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from pnlc.config import ConfigError, Params, build, with_overrides
from pnlc.pipeline.factory import check_env

log = logging.getLogger(__name__)

# where each environment declares its complementary outcome sentences (next to the sentences)
COMPLEMENT_DECLARATIONS = {
    "avalon": "pnlc.envs.avalon.rules",
    "persuasion": "pnlc.envs.persuasion.summary",
    "webshop": "pnlc.envs.webshop.env",
}


def complementary_outcomes(env_name: str) -> tuple[tuple[str, str], ...]:
    """The environment's pairs of outcome sentences of which exactly one holds at an episode's end."""
    import importlib

    check_env(env_name)
    return tuple(importlib.import_module(COMPLEMENT_DECLARATIONS[env_name]).COMPLEMENTARY_OUTCOMES)


def train_config(params: Params, variant: str, seed: int, overrides: Mapping[str, Any] | None = None,
                 where: str | None = None) -> Any:
    """The TrainConfig of a variant: `train.critic` with the variant's overrides, then `overrides`
    (keys of `train.critic`, named as `where` in errors), the size's step budget and the wildcard
    seed."""
    from pnlc.value.config import TrainConfig

    section = params.raw["train"]
    variants: Mapping[str, Mapping[str, Any]] = section["variants"]
    if variant not in variants:
        raise ConfigError(
            f"{params.source}: train.variants: no variant {variant!r} (have {', '.join(variants)})"
        )
    if overrides and not where:
        raise ValueError("train_config: overrides need `where`, the params.yaml key they come from")
    merged = with_overrides({**section["critic"], **variants[variant]}, overrides or {}, str(where), "train.critic",
                            params.source)
    merged["seed"] = seed
    merged["max_steps"] = params.run.critic_max_steps
    return build(TrainConfig, merged, where if overrides else f"train.variants.{variant}", params.source)


def reference_config(params: Params) -> Any:
    """The text references fitted next to every critic (`train.references`)."""
    from pnlc.value.references import ReferenceConfig

    return build(ReferenceConfig, params.raw["train"]["references"], "train.references", params.source)


def train(
    params: Params, env_name: str, variant: str, seed: int, annotations: Path, out_dir: Path, threads: int = 1,
    timing_out: Path | None = None,
) -> dict:
    import torch

    from pnlc.value.data import load_npz
    from pnlc.value.train import fit

    torch.set_num_threads(max(1, threads))
    check_env(env_name)
    cfg = train_config(params, variant, seed)
    data = load_npz(annotations)
    log.info(
        "training %s/%s seed %d on %d transitions of %d episodes",
        env_name, variant, seed, data.num_transitions, data.num_episodes,
    )
    metrics = fit(data, cfg, Path(out_dir), reference_config(params), complementary_outcomes(env_name),
                  resume_every=int(params.raw["train"]["resume_every_n_steps"]), timing_path=timing_out)
    return metrics
