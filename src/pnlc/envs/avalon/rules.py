"""AvalonBench's 5-player game: roles, quest sizes, setups, outcome goals, and setup-file loading.

Seats are numbered 0-4 inside the engine and shown as "Player 1" ... "Player 5" everywhere a player
(or an agent) reads or writes them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from pnlc.envs.base import EnvError

N_PLAYERS = 5
MERLIN, SERVANT, MINION, ASSASSIN = "Merlin", "Servant", "Minion", "Assassin"
ROLES = (MERLIN, SERVANT, MINION, ASSASSIN)
GOOD_ROLES = frozenset({MERLIN, SERVANT})
EVIL_ROLES = frozenset({MINION, ASSASSIN})
ROLE_COUNTS = {MERLIN: 1, SERVANT: 2, MINION: 1, ASSASSIN: 1}
TEAM_SIZES = (2, 3, 2, 3, 3)
MAX_PROPOSALS = 5  # the 5th proposal of a round is approved automatically
QUESTS_TO_WIN = 3

# Outcome goals of a finished game: public task knowledge (policies propose them as goals).
GOOD_WINS = "Good wins the game."
EVIL_WINS = "Evil wins the game."
MERLIN_ASSASSINATED = "Merlin is assassinated."
MERLIN_SURVIVES = "Merlin survives the assassination."
THREE_FAIL = "Three quests fail."
THREE_SUCCEED = "Three quests succeed."


def quest_succeeds(n: int) -> str:
    return f"Quest {n} succeeds."


def quest_fails(n: int) -> str:
    return f"Quest {n} fails."


OUTCOME_GOALS: tuple[str, ...] = (
    GOOD_WINS,
    EVIL_WINS,
    MERLIN_ASSASSINATED,
    MERLIN_SURVIVES,
    THREE_SUCCEED,
    THREE_FAIL,
    *(quest_succeeds(n) for n in range(1, 6)),
    *(quest_fails(n) for n in range(1, 6)),
)

# Pairs of outcome goals of which exactly one holds in every finished game (complements): the game
# always has a winner, ends with three successes or three failures, and plays quests 1-3; good wins
# only when the Assassin misses Merlin, so "Merlin survives ..." is "Good wins" and the complement of
# "Evil wins". Not pairs: quests 4 and 5 (unplayed when three quests decide first: both sentences
# false) and "Merlin is assassinated." (no assassination when evil wins on failures).
COMPLEMENTARY_OUTCOMES: tuple[tuple[str, str], ...] = (
    (GOOD_WINS, EVIL_WINS),
    (MERLIN_SURVIVES, EVIL_WINS),
    (THREE_SUCCEED, THREE_FAIL),
    *((quest_succeeds(n), quest_fails(n)) for n in range(1, QUESTS_TO_WIN + 1)),
)


def is_good(role: str) -> bool:
    return role in GOOD_ROLES


def player_name(seat: int) -> str:
    return f"Player {seat + 1}"


def players_text(seats) -> str:
    """'Player 2', 'Players 2 and 4', 'Players 1, 3 and 5'."""
    nums = [str(s + 1) for s in sorted(seats)]
    if not nums:
        return "nobody"
    if len(nums) == 1:
        return f"Player {nums[0]}"
    return f"Players {', '.join(nums[:-1])} and {nums[-1]}"


class Immutable:
    """A record whose fields are immutable all the way down: copying it, deeply or not, gives the record
    itself (a game's history is copied at every search node, so its records are shared, not rebuilt)."""

    __slots__ = ()

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self


@dataclass(frozen=True)
class Setup(Immutable):
    """One game set-up: the role of every seat and the first quest leader (seat index)."""

    roles: tuple[str, ...]
    leader: int

    def seat_of(self, role: str) -> int:
        return self.roles.index(role)


def validate_roles(roles, where: str) -> tuple[str, ...]:
    """Check a role list (5 players, 1 Merlin, 2 Servants, 1 Minion, 1 Assassin); `where` names it."""
    if not isinstance(roles, (list, tuple)):
        raise EnvError(f"{where}: role_names must be a list of {N_PLAYERS} role names")
    if len(roles) != N_PLAYERS:
        raise EnvError(f"{where}: role_names has {len(roles)} roles; a 5-player game needs {N_PLAYERS}")
    for r in roles:
        if r not in ROLES:
            raise EnvError(f"{where}: unknown role {r!r} in role_names; known roles are {', '.join(ROLES)}")
    for role, count in ROLE_COUNTS.items():
        have = sum(1 for r in roles if r == role)
        if have != count:
            raise EnvError(
                f"{where}: role_names has {have} {role}(s); the 5-player game has exactly {count} "
                f"(Merlin 1, Servant 2, Minion 1, Assassin 1)"
            )
    return tuple(roles)


def load_setups(path: str | Path) -> list[Setup]:
    """Read an AvalonBench setup file: a JSON list of {num_players, quest_leader, role_names}."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise EnvError(f"{p}: setup file not found; set setup_file to an AvalonBench setup JSON") from exc
    except json.JSONDecodeError as exc:
        raise EnvError(f"{p}: line {exc.lineno}: not valid JSON ({exc.msg})") from exc
    if not isinstance(data, list) or not data:
        raise EnvError(f"{p}: expected a non-empty JSON list of game set-ups")
    setups: list[Setup] = []
    for i, entry in enumerate(data):
        where = f"{p}: set-up [{i}]"
        if not isinstance(entry, dict):
            raise EnvError(f"{where}: expected an object with num_players, quest_leader, role_names")
        for key in ("num_players", "quest_leader", "role_names"):
            if key not in entry:
                raise EnvError(f"{where}: missing field {key}")
        if entry["num_players"] != N_PLAYERS:
            raise EnvError(
                f"{where}: field num_players is {entry['num_players']!r}; only the 5-player game is supported"
            )
        roles = validate_roles(entry["role_names"], where)
        leader = entry["quest_leader"]
        if not isinstance(leader, int) or isinstance(leader, bool) or not 0 <= leader < N_PLAYERS:
            raise EnvError(f"{where}: field quest_leader is {leader!r}; expected a seat index 0-4")
        setups.append(Setup(roles, leader))
    return setups


def random_setup(rng: np.random.Generator, agent_role: str, agent_seat: int | None) -> Setup:
    """A uniformly random role assignment with `agent_role` at `agent_seat` (random seat if None)."""
    roles = [MERLIN, SERVANT, SERVANT, MINION, ASSASSIN]
    seat = int(rng.integers(N_PLAYERS)) if agent_seat is None else agent_seat
    rest = list(roles)
    rest.remove(agent_role)
    order = rng.permutation(len(rest))
    others = [rest[int(k)] for k in order]
    out = others[:seat] + [agent_role] + others[seat:]
    return Setup(tuple(out), int(rng.integers(N_PLAYERS)))
