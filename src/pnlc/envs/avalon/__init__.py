"""AvalonBench's 5-player Avalon: rules engine, listening rule-based players, and the agent's env."""

from pnlc.envs.avalon.config import AvalonConfig
from pnlc.envs.avalon.env import (
    ACTION_GRAMMAR,
    AvalonEnv,
    CounterpartBuilder,
    ParsedAction,
    SeatPlayer,
    make_env,
    parse_action,
)
from pnlc.envs.avalon.rules import (
    COMPLEMENTARY_OUTCOMES,
    EVIL_WINS,
    GOOD_WINS,
    MERLIN_ASSASSINATED,
    MERLIN_SURVIVES,
    OUTCOME_GOALS,
    ROLES,
    TEAM_SIZES,
    THREE_FAIL,
    THREE_SUCCEED,
    Setup,
    load_setups,
    quest_fails,
    quest_succeeds,
)

__all__ = [
    "ACTION_GRAMMAR",
    "AvalonConfig",
    "AvalonEnv",
    "COMPLEMENTARY_OUTCOMES",
    "CounterpartBuilder",
    "EVIL_WINS",
    "GOOD_WINS",
    "MERLIN_ASSASSINATED",
    "MERLIN_SURVIVES",
    "OUTCOME_GOALS",
    "ParsedAction",
    "ROLES",
    "SeatPlayer",
    "Setup",
    "TEAM_SIZES",
    "THREE_FAIL",
    "THREE_SUCCEED",
    "load_setups",
    "make_env",
    "parse_action",
    "quest_fails",
    "quest_succeeds",
]
