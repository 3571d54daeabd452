"""Critic inference: load a trained value model with its encoder, score thoughts against goals, render."""

from pnlc.critic.critic import SCALAR_GOAL, Critic, CriticError, ValueModel, render_scalar
from pnlc.critic.render import NEGATIVE_HEADER, POSITIVE_HEADER, ValueLine, parse_value, render_value

__all__ = [
    "NEGATIVE_HEADER",
    "POSITIVE_HEADER",
    "SCALAR_GOAL",
    "Critic",
    "CriticError",
    "ValueLine",
    "ValueModel",
    "parse_value",
    "render_scalar",
    "render_value",
]
