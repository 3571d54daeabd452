"""Builds environments, policies, critics and agents from the typed configuration."""

from __future__ import annotations

import hashlib
import importlib
import logging
from pathlib import Path
from typing import Any

from pnlc.config import ConfigError, Params, build

log = logging.getLogger(__name__)

ENVS = ("avalon", "webshop", "persuasion")
# Divides an episode's metric into [0, 1] for the scalar critic's success target.
METRIC_SCALE = {"avalon": 1.0, "webshop": 1.0, "persuasion": 2.0}


def check_env(name: str) -> None:
    if name not in ENVS:
        raise ConfigError(f"unknown environment {name!r}; choose one of {', '.join(ENVS)}")


def derive_seed(*parts: Any) -> int:
    """A 31-bit seed from named parts (stable across runs and machines)."""
    digest = hashlib.sha256("/".join(str(p) for p in parts).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def env_config(params: Params, name: str) -> Any:
    check_env(name)
    return params.section(name)


def make_env(params: Params, name: str, llm: Any = None) -> Any:
    """The environment; with `env.persuasion.donor: llm` the configured LLM plays the donor, and with
    `env.avalon.counterparts: llm` every Avalon seat but the agent's (`llm`, the job's shared LLM, or
    a new one)."""
    cfg = env_config(params, name)
    module = importlib.import_module(f"pnlc.envs.{name}")
    if name == "persuasion" and cfg.donor == "llm":
        from pnlc.agents.donor import llm_donors

        shared = llm if llm is not None else make_llm(params)
        return module.make_env(cfg, donor=llm_donors(shared, cfg.donor_temperature, cfg.donor_max_tokens))
    if name == "avalon" and cfg.counterparts == "llm":
        return module.make_env(cfg, counterpart=avalon_counterparts(params, llm))
    return module.make_env(cfg)


def avalon_counterparts(params: Params, llm: Any = None) -> Any:
    """Builds the LLM player of one Avalon seat per episode: the acting policy's LLM (`llm`, the job's
    shared LLM, or a new one) through the same prompts, seeing only that seat's view."""
    if params.backend == "sim":
        raise ConfigError(
            f"{params.source}: env.avalon.counterparts: llm needs an LLM backend, but backend is sim; "
            "set counterparts: bots (the simulated setting) or backend: anthropic or hf"
        )
    from pnlc.agents.seat import PolicySeat

    shared = llm if llm is not None else make_llm(params)

    def counterpart(player: int) -> Any:
        return PolicySeat(make_policy(params, "avalon", "prior", shared), "avalon")

    return counterpart


def llm_config(params: Params) -> Any:
    """The LLM backend's config; the backend itself is the top-level `backend` key."""
    from pnlc.config import build
    from pnlc.llm.config import AnthropicConfig, HFConfig, LLMConfig

    raw = params.raw["llm"]
    if params.backend == "sim":
        raise ConfigError(f"{params.source}: backend: sim plays no LLM; set backend: anthropic or hf")
    return LLMConfig(
        backend=params.backend,
        anthropic=build(AnthropicConfig, raw["anthropic"], "llm.anthropic", params.source),
        hf=build(HFConfig, raw["hf"], "llm.hf", params.source),
        cache_mode=raw["cache_mode"],
        cache_dir=raw["cache_dir"],
    )


def make_llm(params: Params) -> Any:
    from pnlc.llm import make_llm as _make_llm

    return _make_llm(llm_config(params))


def job_llm(params: Params) -> Any:
    """The one LLM of a job, shared by every episode's policy and LLM donor, and with it one response
    cache, one spend guard (the caps) and one request gate (retry-after pauses); None with backend sim."""
    return None if params.backend == "sim" else make_llm(params)


def episode_concurrency(params: Params) -> int:
    """Episodes a generation shard or evaluation job plays at once: `llm.concurrency` with the
    anthropic backend, whose episodes wait on the network; 1 with sim (CPU-bound in one process)
    and hf (one local model)."""
    wanted = int(params.raw["llm"]["concurrency"])
    if wanted < 1:
        raise ConfigError(f"{params.source}: llm.concurrency must be >= 1, got {wanted}")
    if params.backend != "anthropic":
        if wanted > 1:
            log.info("llm.concurrency %d applies to backend anthropic only; backend %s plays one episode at a time",
                     wanted, params.backend)
        return 1
    return wanted


def model_name(params: Params, kind: str = "prior") -> str:
    """The base model recorded with every episode."""
    if params.backend == "sim":
        return f"sim-{kind}"
    raw = params.raw["llm"]
    return raw["anthropic"]["model"] if params.backend == "anthropic" else raw["hf"]["model"]


def episode_meta(params: Params, kind: str = "prior") -> Any:
    from pnlc.agents.runner import EpisodeMeta

    return EpisodeMeta(
        backend=params.backend,
        model=model_name(params, kind),
        max_steps=params.raw["evaluate"]["max_steps"],
    )


def make_policy(params: Params, env_name: str, kind: str = "prior", llm: Any = None) -> Any:
    """The acting policy: simulated (`backend: sim`) or an LLM through the prompt files (`llm`, the
    job's shared LLM, or a new one)."""
    if params.backend == "sim":
        module = importlib.import_module(f"pnlc.agents.sim.{env_name}")
        knobs = build(module.PARAMS_TYPE, params.raw["agents"]["sim"][env_name], f"agents.sim.{env_name}", params.source)
        return module.make_sim_policy(env_config(params, env_name), kind, knobs)
    if kind == "oracle":
        raise ConfigError("backend: the oracle is a simulated, privileged player; it exists only with backend: sim")
    from pnlc.agents.llm_policy import LLMPolicy, LLMPolicyConfig

    cfg = build(LLMPolicyConfig, params.raw["llm"]["policy"], "llm.policy", params.source)
    return LLMPolicy(llm if llm is not None else make_llm(params), env_name, cfg)


def make_embedder(params: Params) -> Any:
    from pnlc.embed import make_embedder as _make_embedder

    return _make_embedder(params.section("embed"))


def agent_config(params: Params, env_name: str) -> Any:
    """The methods' knobs: AgentConfig's fields read from `evaluate`, and the environment's metric scale."""
    import dataclasses

    from pnlc.agents.methods import AgentConfig

    ev = params.raw["evaluate"]
    knobs = {f.name: ev[f.name] for f in dataclasses.fields(AgentConfig) if f.name != "metric_scale"}
    return build(AgentConfig, {**knobs, "metric_scale": METRIC_SCALE[env_name]}, "evaluate", params.source)


def critic_spec(params: Params, method: str) -> Any:
    """What a critic-reading method runs (evaluate.critics.<method>), or None for other methods."""
    from pnlc.config import CriticSpec

    spec = params.raw["evaluate"].get("critics", {}).get(method)  # a job is given only its own entry
    return None if spec is None else build(CriticSpec, spec, f"evaluate.critics.{method}", params.source)


def load_critic(path: Path | None, embedder: Any, transform: str, state_text: str | None = None) -> Any:
    """The critic checkpoint in `path` answered through `transform` (evaluate.critics: none,
    base_rate or inverted), or None without a path; one trained on state texts of another kind
    than `state_text` is refused."""
    if path is None:
        return None
    from pnlc.critic.controls import load_critic as _load

    return _load(path, embedder, transform, state_text)


def state_text_kind(params: Params) -> str:
    """What the critic reads as a state: `describe` (the environment's rule-based summary) or
    `llm:<backend>/<model>` (the LLM summarizer's, annotate.summarizer: llm). Stored with the
    annotations and the critic; an agent that reads the critic gives it the same kind of text."""
    mode = params.raw["annotate"]["summarizer"]
    if mode == "describe":
        return "describe"
    if mode != "llm":
        raise ConfigError(f"{params.source}: annotate.summarizer: {mode!r} is not 'describe' or 'llm'")
    if params.backend == "sim":
        raise ConfigError(
            f"{params.source}: annotate.summarizer: 'llm' needs backend anthropic or hf (backend is sim)"
        )
    return f"llm:{params.backend}/{model_name(params)}"
