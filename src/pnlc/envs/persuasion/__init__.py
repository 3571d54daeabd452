"""Persuasion: persuade a skeptical donor to give part of a $2 bonus to Save the Children.

Simulated donor (offline default) or an external one built by the caller (the LLM donor of
`pnlc.agents.donor`); PersuasionForGood's human dialogues as real
offline data (`load_p4g`).
"""

from pnlc.envs.persuasion.donation import DonationParse, format_donation, parse_donation
from pnlc.envs.persuasion.donor import Donor, DonorBuilder, DonorReply, read_reply
from pnlc.envs.persuasion.donor_sim import Persona, SimDonor, persona_text, sample_persona
from pnlc.envs.persuasion.config import PersuasionConfig
from pnlc.envs.persuasion.env import ENV_NAME, PersuasionEnv, make_env, observation_text, task_id
from pnlc.envs.persuasion.p4g import P4GState, load_p4g, p4g_goal_outcomes, p4g_states, split_by_dialogue
from pnlc.envs.persuasion.strategies import (
    CONCERNS,
    P4G_STRATEGIES,
    answers_concern,
    detect_attitude,
    detect_concern,
    detect_strategies,
)
from pnlc.envs.persuasion.summary import (
    AGREES,
    AT_LEAST_ONE,
    DISENGAGES,
    DOUBTS_ANSWERED,
    MAX_DONATION,
    NEGATIVE_GOALS,
    POSITIVE_GOALS,
    PRESSURED,
    REFUSES,
    STAYS_SKEPTICAL,
    WARMS_UP,
    Decision,
    DialogueTracker,
)

__all__ = [
    "AGREES",
    "AT_LEAST_ONE",
    "CONCERNS",
    "DISENGAGES",
    "DOUBTS_ANSWERED",
    "ENV_NAME",
    "MAX_DONATION",
    "NEGATIVE_GOALS",
    "P4G_STRATEGIES",
    "POSITIVE_GOALS",
    "PRESSURED",
    "REFUSES",
    "STAYS_SKEPTICAL",
    "WARMS_UP",
    "Decision",
    "DialogueTracker",
    "DonationParse",
    "Donor",
    "DonorBuilder",
    "DonorReply",
    "P4GState",
    "Persona",
    "PersuasionConfig",
    "PersuasionEnv",
    "SimDonor",
    "answers_concern",
    "detect_attitude",
    "detect_concern",
    "detect_strategies",
    "format_donation",
    "load_p4g",
    "make_env",
    "observation_text",
    "p4g_goal_outcomes",
    "p4g_states",
    "parse_donation",
    "persona_text",
    "read_reply",
    "sample_persona",
    "split_by_dialogue",
    "task_id",
]
