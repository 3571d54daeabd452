"""Environments: WebShop, Avalon, Persuasion. No dependency on agents, LLMs or torch."""

from pnlc.envs.base import Env, EnvError, Observation, Transition

__all__ = ["Env", "EnvError", "Observation", "Transition"]
