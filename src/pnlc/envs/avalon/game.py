"""The game state machine: discussion → proposal → vote → quest → (assassination) → done.

`Game` knows nothing about who plays a seat; it says which seat must decide what (`pending`) and
applies legal moves. Votes and quest cards are collected seat by seat but revealed only when all are
in, so the order of collection never leaks information.
"""

from __future__ import annotations

from dataclasses import dataclass

from pnlc.envs.avalon.rules import (
    ASSASSIN,
    MAX_PROPOSALS,
    MERLIN,
    N_PLAYERS,
    QUESTS_TO_WIN,
    TEAM_SIZES,
    Immutable,
    Setup,
    is_good,
)
from pnlc.envs.avalon.speech import Claim

SAY, PROPOSE, VOTE, QUEST, ASSASSINATE, DONE = "say", "propose", "vote", "quest", "assassinate", "done"


@dataclass(frozen=True)
class Statement(Immutable):
    quest: int  # 1-based
    attempt: int  # 1-based proposal number within the quest
    speaker: int
    text: str
    claims: tuple[Claim, ...]


@dataclass(frozen=True)
class Proposal(Immutable):
    quest: int
    attempt: int
    leader: int
    team: tuple[int, ...]
    votes: tuple[bool, ...] | None  # per seat; None for the automatic 5th approval
    approved: bool


@dataclass(frozen=True)
class QuestResult(Immutable):
    quest: int
    team: tuple[int, ...]
    fails: int

    @property
    def succeeded(self) -> bool:
        return self.fails == 0


@dataclass(frozen=True)
class Decision:
    kind: str  # say | propose | vote | quest | assassinate
    seat: int


class IllegalMove(ValueError):
    """A move that the rules do not allow in the current state (the state is left unchanged)."""


class Game:
    def __init__(self, setup: Setup, discussion: bool) -> None:
        self.roles = setup.roles
        self.discussion = discussion
        self.evil = frozenset(s for s, r in enumerate(self.roles) if not is_good(r))
        self.merlin = self.roles.index(MERLIN)
        self.assassin = self.roles.index(ASSASSIN)
        self.leader = setup.leader
        self.quest = 1
        self.attempt = 1
        self.statements: list[Statement] = []
        self.proposals: list[Proposal] = []
        self.results: list[QuestResult] = []
        self.team: tuple[int, ...] = ()
        self.phase = SAY
        self.queue: list[int] = []
        self._votes: dict[int, bool] = {}
        self._cards: dict[int, bool] = {}
        self.assassin_target: int | None = None
        self.winner: str | None = None  # "good" | "evil"
        self._start_round()

    # ---- queries -------------------------------------------------------------------------
    @property
    def done(self) -> bool:
        return self.phase == DONE

    @property
    def team_size(self) -> int:
        return TEAM_SIZES[min(self.quest, len(TEAM_SIZES)) - 1]

    @property
    def successes(self) -> int:
        return sum(1 for r in self.results if r.succeeded)

    @property
    def failures(self) -> int:
        return sum(1 for r in self.results if not r.succeeded)

    @property
    def pending(self) -> Decision | None:
        if self.phase == DONE:
            return None
        return Decision(self.phase, self.queue[0])

    # ---- moves ---------------------------------------------------------------------------
    def _expect(self, kind: str, seat: int) -> None:
        d = self.pending
        if d is None or d.kind != kind or d.seat != seat:
            raise IllegalMove(f"{kind} by seat {seat} is not expected now (pending: {d})")

    def say(self, seat: int, text: str, claims: tuple[Claim, ...]) -> Statement:
        self._expect(SAY, seat)
        st = Statement(self.quest, self.attempt, seat, text, claims)
        self.statements.append(st)
        self.queue.pop(0)
        if not self.queue:
            self._start_proposal()
        return st

    def check_team(self, team) -> tuple[int, ...]:
        t = tuple(sorted(set(team)))
        if len(t) != len(tuple(team)):
            raise IllegalMove("a player is named twice in the team")
        if any(not 0 <= s < N_PLAYERS for s in t):
            raise IllegalMove("team names a player outside 1-5")
        if len(t) != self.team_size:
            raise IllegalMove(f"quest {self.quest} needs a team of {self.team_size}, got {len(t)}")
        return t

    def propose(self, seat: int, team) -> None:
        self._expect(PROPOSE, seat)
        self.team = self.check_team(team)
        if self.attempt >= MAX_PROPOSALS:
            self._record_proposal(None, True)
        else:
            self.phase = VOTE
            self.queue = list(range(N_PLAYERS))
            self._votes = {}

    def vote(self, seat: int, approve: bool) -> Proposal | None:
        self._expect(VOTE, seat)
        self._votes[seat] = bool(approve)
        self.queue.pop(0)
        if self.queue:
            return None
        votes = tuple(self._votes[s] for s in range(N_PLAYERS))
        return self._record_proposal(votes, sum(votes) * 2 > N_PLAYERS)

    def play(self, seat: int, success: bool) -> QuestResult | None:
        self._expect(QUEST, seat)
        if not success and is_good(self.roles[seat]):
            raise IllegalMove("good players always play success")
        self._cards[seat] = bool(success)
        self.queue.pop(0)
        if self.queue:
            return None
        result = QuestResult(self.quest, self.team, sum(1 for v in self._cards.values() if not v))
        self.results.append(result)
        self.team = ()
        if self.failures >= QUESTS_TO_WIN:
            self.winner = "evil"
            self.phase = DONE
            self.queue = []
        elif self.successes >= QUESTS_TO_WIN:
            self.phase = ASSASSINATE
            self.queue = [self.assassin]
        else:
            self.quest += 1
            self.attempt = 1
            self._start_round()
        return result

    def assassinate(self, seat: int, target: int) -> None:
        self._expect(ASSASSINATE, seat)
        if not 0 <= target < N_PLAYERS or target in self.evil:
            raise IllegalMove("the Assassin must name a good player")
        self.assassin_target = target
        self.winner = "evil" if target == self.merlin else "good"
        self.phase = DONE
        self.queue = []

    # ---- transitions ---------------------------------------------------------------------
    def _start_round(self) -> None:
        if self.discussion:
            self.phase = SAY
            self.queue = [(self.leader + k) % N_PLAYERS for k in range(N_PLAYERS)]
        else:
            self._start_proposal()

    def _start_proposal(self) -> None:
        self.phase = PROPOSE
        self.queue = [self.leader]

    def _record_proposal(self, votes: tuple[bool, ...] | None, approved: bool) -> Proposal:
        p = Proposal(self.quest, self.attempt, self.leader, self.team, votes, approved)
        self.proposals.append(p)
        self.leader = (self.leader + 1) % N_PLAYERS
        if approved:
            self.phase = QUEST
            self.queue = list(self.team)
            self._cards = {}
        else:
            self.team = ()
            self.attempt += 1
            self._start_round()
        return p

    def failed_before(self, seat: int, quest: int) -> bool:
        """Public evidence: `seat` was on a failed quest numbered below `quest`."""
        return any(not r.succeeded and seat in r.team for r in self.results if r.quest < quest)
