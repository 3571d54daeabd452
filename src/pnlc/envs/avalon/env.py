"""`AvalonEnv`: the 5-player game seen from the agent's seat, behind the `Env` protocol.

The agent decides only at its own turns: a discussion statement (`say[...]`), a team when it leads
(`propose[...]`), a vote on every proposal that is put to a vote (`vote[...]`), a quest card only when
it plays evil (`quest[...]`), and the final guess when it is the Assassin (`assassinate[...]`). Every
other seat is a rule-based bot or an external `SeatPlayer` (e.g. an LLM): named seats through
`seat_players`, or, with `counterparts: llm`, every seat the agent does not hold, each played by the
caller's `counterpart` builder. The other seats are run until the agent must decide again.
"""

from __future__ import annotations

import copy
import logging
import re
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Protocol

import numpy as np

from pnlc.envs.avalon.bots import Bot, make_bot
from pnlc.envs.avalon.config import AvalonConfig
from pnlc.envs.avalon.game import (
    ASSASSINATE,
    PROPOSE,
    QUEST,
    SAY,
    VOTE,
    Decision,
    Game,
    IllegalMove,
    Proposal,
    QuestResult,
    Statement,
)
from pnlc.envs.avalon.rules import (
    ASSASSIN,
    EVIL_WINS,
    GOOD_WINS,
    MERLIN,
    MERLIN_ASSASSINATED,
    MERLIN_SURVIVES,
    N_PLAYERS,
    OUTCOME_GOALS,
    TEAM_SIZES,
    THREE_FAIL,
    THREE_SUCCEED,
    Setup,
    is_good,
    load_setups,
    player_name,
    players_text,
    quest_fails,
    quest_succeeds,
    random_setup,
)
from pnlc.envs.avalon.speech import ACCUSE, ENDORSE, STRONG, parse_claims
from pnlc.envs.base import EnvError, Observation, Transition

log = logging.getLogger(__name__)

SPLITS = {"train": 0, "test": 1}
_TASK = re.compile(r"^(train|test)-(\d+)$")
_ACTION = re.compile(r"\b(say|propose|vote|quest|assassinate)\s*\[", re.I)
MAX_SAY_CHARS = 600
DEFAULT_SAY = "I have nothing to add."

ACTION_GRAMMAR = (
    "Actions (players are numbered 1-5): say[<your words>] to speak in the discussion; "
    "propose[a,b] or propose[a,b,c] to propose a team when you lead; vote[approve] or vote[reject] "
    "on a proposed team; quest[success] or quest[fail] on a quest (only evil players may fail); "
    "assassinate[n] when you are the Assassin."
)
RULES_TEXT = (
    "Rules: quests need teams of 2, 3, 2, 3, 3 players. Before each proposal every player speaks "
    "once, the leader first. The leader proposes a team and everyone votes; 3 of 5 approvals pass it. "
    "Leadership passes to the next player after every proposal, and the 5th proposal of a quest is "
    "approved automatically. Team members secretly play success or fail; one fail card fails the "
    "quest. Evil wins when three quests fail. When three quests succeed, the Assassin names one good "
    "player: if that is Merlin, evil wins; otherwise good wins."
)


class SeatPlayer(Protocol):
    """An external player for a non-agent seat (e.g. an LLM): sees its seat's observation."""

    def act(self, observation: Observation) -> str: ...


CounterpartBuilder = Callable[[int], SeatPlayer]
"""Builds the external player of one seat (its player number 1-5) for one episode."""


@dataclass(frozen=True)
class ParsedAction:
    kind: str
    arg: str


def parse_action(text: str) -> ParsedAction | None:
    """Find `kind[arg]` in `text` (the first action keyword; the argument runs to the last `]`)."""
    m = _ACTION.search(text)
    if m is None:
        return None
    end = text.rfind("]")
    if end < m.end():
        return None
    return ParsedAction(m.group(1).lower(), text[m.end() : end].strip())


class AvalonEnv:
    name = "avalon"

    def __init__(
        self,
        cfg: AvalonConfig,
        seat_players: Mapping[int, SeatPlayer] | None = None,
        counterpart: CounterpartBuilder | None = None,
    ) -> None:
        if cfg.counterparts == "llm" and counterpart is None:
            raise EnvError(
                "AvalonConfig.counterparts is 'llm' but no counterpart builder was given; pass one that "
                "builds an LLM-played seat, or set counterparts: bots"
            )
        if cfg.counterparts == "bots" and counterpart is not None:
            log.info("avalon counterparts are 'bots'; the given counterpart builder is not used (set counterparts: llm)")
            counterpart = None
        self.cfg = cfg
        self.setups: list[Setup] | None = None
        self._setup_seats: list[int] = []
        if cfg.setup_file is not None:
            self.setups = load_setups(cfg.setup_file)
            for i, s in enumerate(self.setups):
                self._setup_seats.append(self._seat_in_setup(s, i))
        self._given_players = {int(k) - 1: v for k, v in (seat_players or {}).items()}
        self._counterpart = counterpart
        # the external players of the current episode, by seat index
        self.seat_players: dict[int, SeatPlayer] = dict(self._given_players)
        self.game: Game | None = None
        self.agent = 0
        self.bots: dict[int, Bot] = {}
        self.rng: np.random.Generator | None = None
        self.task_id = ""
        self.invalid_actions = 0
        self.agent_votes: list[tuple[Proposal, bool]] = []
        self._settled: set[str] = set()

    def _seat_in_setup(self, s: Setup, i: int) -> int:
        where = f"{self.cfg.setup_file}: set-up [{i}] field role_names"
        if self.cfg.agent_seat is not None:
            seat = self.cfg.agent_seat - 1
            if s.roles[seat] != self.cfg.agent_role:
                raise EnvError(
                    f"{where} gives Player {seat + 1} the role {s.roles[seat]}, but config agent_role is "
                    f"{self.cfg.agent_role}; set agent_seat to null or pick a matching setup file"
                )
            return seat
        return s.roles.index(self.cfg.agent_role)

    # ---- tasks ---------------------------------------------------------------------------
    def tasks(self, split: str) -> list[str]:
        if split not in SPLITS:
            raise EnvError(f"unknown split {split!r}; use 'train' or 'test'")
        n = self.cfg.n_train_tasks if split == "train" else self.cfg.n_test_tasks
        return [f"{split}-{i:05d}" for i in range(n)]

    def _parse_task(self, task_id: str) -> tuple[str, int]:
        m = _TASK.match(task_id)
        if m is None:
            raise EnvError(f"unknown Avalon task id {task_id!r}; expected e.g. 'train-00042' or 'test-00007'")
        split, index = m.group(1), int(m.group(2))
        n = self.cfg.n_train_tasks if split == "train" else self.cfg.n_test_tasks
        if index >= n:
            raise EnvError(f"task {task_id!r} is outside the {split} split (n_{split}_tasks = {n})")
        return split, index

    # ---- episode -------------------------------------------------------------------------
    def reset(self, task_id: str, seed: int) -> Observation:
        split, index = self._parse_task(task_id)
        if seed < 0:
            raise EnvError(f"seed must be >= 0, got {seed}")
        self.rng = np.random.default_rng([int(seed), SPLITS[split], index])
        if self.setups is not None:
            k = (index + (self.cfg.n_train_tasks if split == "test" else 0)) % len(self.setups)
            setup, self.agent = self.setups[k], self._setup_seats[k]
        else:
            seat = None if self.cfg.agent_seat is None else self.cfg.agent_seat - 1
            setup = random_setup(self.rng, self.cfg.agent_role, seat)
            self.agent = setup.roles.index(self.cfg.agent_role) if seat is None else seat
        if self.agent in self._given_players:
            raise EnvError(
                f"task {task_id!r}: the agent sits at Player {self.agent + 1}, which seat_players also names; "
                "give external players only seats the agent does not hold (set agent_seat)"
            )
        self.seat_players = dict(self._given_players)
        if self._counterpart is not None:
            for s in range(N_PLAYERS):
                if s != self.agent and s not in self.seat_players:
                    self.seat_players[s] = self._counterpart(s + 1)
        self.task_id = task_id
        self.game = Game(setup, self.cfg.discussion)
        self.bots = {
            s: make_bot(s, self.game, self.rng)
            for s in range(N_PLAYERS)
            if s != self.agent and s not in self.seat_players
        }
        self.invalid_actions = 0
        self.agent_votes = []
        self._settled: set[str] = set()
        for s, player in self.seat_players.items():
            begin = getattr(player, "begin_episode", None)
            if begin is not None:
                begin(task_id, int(seed) * 10 + s)
        self._advance()
        return self.observe(self.agent)

    def _require_game(self) -> Game:
        if self.game is None:
            raise EnvError("call reset(task_id, seed) before using the Avalon environment")
        return self.game

    def step(self, action: str) -> Transition:
        g = self._require_game()
        d = g.pending
        if d is None:
            raise EnvError("the game is over; call reset(task_id, seed) to start another")
        applied, error = self._apply_text(d, action)
        valid = error is None
        if not valid:
            self.invalid_actions += 1
            log.debug("invalid action %r for %s: %s; applied %s", action, d.kind, error, applied)
        self._advance()
        info: dict[str, Any] = {"valid": valid, "decision": d.kind, "action": applied}
        if error is not None:
            info["error"] = error
        settled = set(self.decided_outcomes())
        info["decided"] = sorted(settled - self._settled)  # outcome goals settled by this step
        self._settled = settled
        done = g.done
        return Transition(self.observe(self.agent), self.metric() if done else 0.0, done, info)

    def _advance(self) -> None:
        g = self._require_game()
        while True:
            d = g.pending
            if d is None or (d.seat == self.agent and self._agent_decides(d)):
                return
            if d.seat == self.agent:  # a quest card the agent does not choose: good always succeeds
                self._apply(d, True)
            elif d.seat in self.seat_players:
                self._apply_text(d, self.seat_players[d.seat].act(self.observe(d.seat)))
            else:
                bot = self.bots[d.seat]
                if d.kind == SAY:
                    self._apply(d, bot.say(g))
                elif d.kind == PROPOSE:
                    self._apply(d, bot.propose(g))
                elif d.kind == VOTE:
                    self._apply(d, bot.vote(g))
                elif d.kind == QUEST:
                    self._apply(d, bot.play(g))
                else:
                    self._apply(d, bot.assassinate(g))

    def _agent_decides(self, d: Decision) -> bool:
        return d.kind != QUEST or not is_good(self._require_game().roles[self.agent])

    def _apply(self, d: Decision, value: Any) -> None:
        """Apply a legal move and let every bot observe what became public."""
        g = self._require_game()
        if d.kind == SAY:
            text, claims = value
            st = g.say(d.seat, text, claims)
            for b in self.bots.values():
                b.hear(g, st)
        elif d.kind == PROPOSE:
            n_before = len(g.proposals)
            g.propose(d.seat, value)
            self._after_proposal(n_before)
        elif d.kind == VOTE:
            n_before = len(g.proposals)
            g.vote(d.seat, value)
            self._after_proposal(n_before)
        elif d.kind == QUEST:
            n_before = len(g.results)
            g.play(d.seat, value)
            if len(g.results) > n_before:
                for b in self.bots.values():
                    b.on_quest(g, g.results[-1])
        else:
            g.assassinate(d.seat, value)

    def _after_proposal(self, n_before: int) -> None:
        g = self._require_game()
        if len(g.proposals) > n_before:
            p = g.proposals[-1]
            if p.votes is not None:
                self.agent_votes.append((p, p.votes[self.agent]))
            for b in self.bots.values():
                b.on_proposal(g, p)

    def _apply_text(self, d: Decision, text: str) -> tuple[str, str | None]:
        """Apply a seat's action text; an illegal one becomes the safe default. Returns (applied, error)."""
        parsed = parse_action(text if isinstance(text, str) else "")
        error: str | None = None
        value: Any = None
        if parsed is None:
            error = f"no action found; expected {d.kind}[...]"
        elif parsed.kind != d.kind:
            error = f"{parsed.kind}[...] is not asked now; the decision is {d.kind}[...]"
        else:
            try:
                value = self._value(d, parsed.arg)
            except IllegalMove as exc:
                error = str(exc)
        if error is not None:
            value = self._default(d)
        self._apply(d, value)
        return self._canonical(d, value), error

    def _value(self, d: Decision, arg: str) -> Any:
        g = self._require_game()
        if d.kind == SAY:
            text = " ".join(arg.split())[:MAX_SAY_CHARS]
            if not text:
                raise IllegalMove("say[...] needs some words")
            return text, parse_claims(text)
        if d.kind == PROPOSE:
            nums = [int(x) for x in re.findall(r"\d+", arg)]
            return g.check_team([n - 1 for n in nums])
        if d.kind == VOTE:
            word = arg.strip().lower()
            if word not in ("approve", "reject"):
                raise IllegalMove(f"vote[{arg}] must be vote[approve] or vote[reject]")
            return word == "approve"
        if d.kind == QUEST:
            word = arg.strip().lower()
            if word not in ("success", "fail"):
                raise IllegalMove(f"quest[{arg}] must be quest[success] or quest[fail]")
            if word == "fail" and is_good(g.roles[d.seat]):
                raise IllegalMove("good players always play quest[success]")
            return word == "success"
        nums = re.findall(r"\d+", arg)
        if len(nums) != 1:
            raise IllegalMove(f"assassinate[{arg}] must name exactly one player number")
        target = int(nums[0]) - 1
        if not 0 <= target < N_PLAYERS or target in g.evil:
            raise IllegalMove(f"assassinate[{arg}]: name a good player (1-5, not evil)")
        return target

    def _default(self, d: Decision) -> Any:
        g = self._require_game()
        if d.kind == SAY:
            return DEFAULT_SAY, ()
        if d.kind == PROPOSE:
            return tuple(sorted((d.seat + k) % N_PLAYERS for k in range(g.team_size)))
        if d.kind == VOTE:
            return True
        if d.kind == QUEST:
            return True
        return min(s for s in range(N_PLAYERS) if s not in g.evil)

    @staticmethod
    def _canonical(d: Decision, value: Any) -> str:
        if d.kind == SAY:
            return f"say[{value[0]}]"
        if d.kind == PROPOSE:
            return "propose[" + ",".join(str(s + 1) for s in value) + "]"
        if d.kind == VOTE:
            return "vote[approve]" if value else "vote[reject]"
        if d.kind == QUEST:
            return "quest[success]" if value else "quest[fail]"
        return f"assassinate[{value + 1}]"

    # ---- what a seat sees ----------------------------------------------------------------
    def known_evil(self, seat: int) -> frozenset[int]:
        """Evil seats that `seat` knows (Merlin and the evil players know them; Servants do not)."""
        g = self._require_game()
        role = g.roles[seat]
        return g.evil if role == MERLIN or not is_good(role) else frozenset()

    def _knowledge_text(self, seat: int) -> str:
        g = self._require_game()
        role = g.roles[seat]
        if role == MERLIN:
            return (
                f"You know that {players_text(g.evil)} are evil. The evil players do not know who you are. "
                "If good wins three quests, the Assassin names one player, and if that is you, evil wins: "
                "keep your knowledge hidden."
            )
        if role == "Servant":
            return "You do not know who is evil. Merlin, somewhere among the others, does."
        partner = next(s for s in g.evil if s != seat)
        text = f"Your evil partner is {player_name(partner)} ({g.roles[partner]}). Merlin knows who you are."
        if role == ASSASSIN:
            text += " If good wins three quests, you name the player you think is Merlin; if right, evil wins."
        return text

    def observe(self, seat: int) -> Observation:
        """What a human in `seat` would see (the agent's observation is `observe(agent seat)`)."""
        return Observation(self._text(seat), self._view(seat))

    def _text(self, seat: int) -> str:
        g = self._require_game()
        role = g.roles[seat]
        side = "good" if is_good(role) else "evil"
        lines = [
            f"Avalon, 5 players (Player 1 to Player 5). You are {player_name(seat)}. "
            f"Your role: {role} ({side}).",
            self._knowledge_text(seat),
            RULES_TEXT,
            ACTION_GRAMMAR,
            "",
            "History:" if g.proposals or g.statements else "History: the game has just begun.",
        ]
        results = {r.quest: r for r in g.results}
        props = {(p.quest, p.attempt): p for p in g.proposals}
        said: dict[tuple[int, int], list[Statement]] = {}
        for st in g.statements:
            said.setdefault((st.quest, st.attempt), []).append(st)
        current = 0
        for q, a in sorted(set(props) | set(said)):
            if q != current:
                lines.append(f"Quest {q} (team of {TEAM_SIZES[q - 1]}):")
                current = q
            lines.append(f"  Proposal {a}:")
            for st in said.get((q, a), ()):
                lines.append(f'    {player_name(st.speaker)} said: "{st.text}"')
            p = props.get((q, a))
            if p is not None:
                lines.append("    " + _proposal_line(p))
                if p.approved and q in results:
                    r = results[q]
                    verdict = "succeeded" if r.succeeded else "failed"
                    cards = f"{r.fails} fail card{'s' if r.fails != 1 else ''}"
                    lines.append(f"  Quest {q} {verdict} ({cards}).")
        lines.append(f"Score: good {g.successes} successful quest(s), evil {g.failures} failed quest(s).")
        lines.append(self._ask_text(seat))
        return "\n".join(lines)

    def _ask_text(self, seat: int) -> str:
        g = self._require_game()
        if g.done:
            roles = ", ".join(f"{player_name(s)} {r}" for s, r in enumerate(g.roles))
            return f"The game is over. {self._result_text()} Roles: {roles}."
        d = g.pending
        where = f"quest {g.quest}, proposal {g.attempt} (leader {player_name(g.leader)}"
        if d is None or d.seat != seat:
            return f"Now: {where}); waiting for other players."
        if d.kind == SAY:
            return f"Your decision: speak in the discussion for {where}). Reply with say[<your words>]."
        if d.kind == PROPOSE:
            n = g.team_size
            example = ",".join(str((seat + k) % N_PLAYERS + 1) for k in range(n))
            return (
                f"Your decision: you lead {where[:where.index(' (')]}; propose a team of exactly {n} players, "
                f"e.g. propose[{example}]."
            )
        if d.kind == VOTE:
            return (
                f"Your decision: vote on {player_name(g.leader)}'s team {players_text(g.team)} for {where}). "
                "Reply with vote[approve] or vote[reject]."
            )
        if d.kind == QUEST:
            return f"Your decision: you are on the team for quest {g.quest}. Reply with quest[success] or quest[fail]."
        return (
            "Your decision: good has won three quests. Name the player you believe is Merlin with assassinate[n]."
        )

    def _view(self, seat: int) -> dict[str, Any]:
        g = self._require_game()
        d = g.pending
        view: dict[str, Any] = {
            "player": seat + 1,
            "role": g.roles[seat],
            "side": "good" if is_good(g.roles[seat]) else "evil",
            "known_evil": sorted(s + 1 for s in self.known_evil(seat)),
            "team_sizes": list(TEAM_SIZES),
            "quest": g.quest,
            "attempt": g.attempt,
            "leader": g.leader + 1,
            "decision": d.kind if d is not None and d.seat == seat else ("done" if g.done else "wait"),
            "team_size": g.team_size,
            "proposed_team": [s + 1 for s in g.team] if d is not None and d.kind in (VOTE, QUEST) else [],
            "successes": g.successes,
            "failures": g.failures,
            "quests": [
                {"quest": r.quest, "team": [s + 1 for s in r.team], "fails": r.fails, "succeeded": r.succeeded}
                for r in g.results
            ],
            "proposals": [_proposal_view(p) for p in g.proposals],
            "statements": [
                {"quest": st.quest, "attempt": st.attempt, "speaker": st.speaker + 1, "text": st.text}
                for st in g.statements
            ],
            "done": g.done,
        }
        if g.done:
            view["winner"] = g.winner
            view["roles"] = list(g.roles)
            view["assassin_target"] = None if g.assassin_target is None else g.assassin_target + 1
        return view

    # ---- summaries and outcomes ----------------------------------------------------------
    def describe(self) -> str:
        """Outcome-style summary, most decision-relevant first (score, situation, the agent's own
        conduct), so that the part an encoder reads within its token limit carries the state."""
        g = self._require_game()
        known = self.known_evil(self.agent)
        parts: list[str] = []
        if g.done:
            parts.append(self._result_text())
        parts.append(f"Good has {_count(g.successes, 'success', 'successes')}, evil {g.failures}.")
        if not g.done:
            if g.phase == ASSASSINATE:
                parts.append("Good has won three quests; the Assassin must now name Merlin.")
            else:
                parts.append(f"Now quest {g.quest}, proposal {g.attempt}; {player_name(g.leader)} leads.")
                if g.team and g.phase in (VOTE, QUEST):
                    bad = sorted(set(g.team) & known)
                    extra = f", including evil {players_text(bad)}" if bad else ""
                    parts.append(f"The proposed team is {players_text(g.team)}{extra}.")
        parts += self._agent_conduct(known)
        for r in g.results:
            if r.succeeded:
                parts.append(f"Quest {r.quest} succeeded with {players_text(r.team)}.")
            else:
                bad = sorted(set(r.team) & known)
                who = f"evil {players_text(bad)}" if bad else players_text(r.team)
                parts.append(f"Quest {r.quest} failed with {who} on the team.")
        parts += self._others_accusations(limit=3)
        return " ".join(parts)

    def _agent_conduct(self, known: frozenset[int]) -> list[str]:
        g = self._require_game()
        me = self.agent
        strong: dict[int, int] = {}
        mild: dict[int, int] = {}
        endorsed_clean = 0
        for st in g.statements:
            if st.speaker != me:
                continue
            for c in st.claims:
                if c.kind == ACCUSE:
                    for t in c.targets:
                        bucket = strong if c.strength >= STRONG else mild
                        bucket[t] = bucket.get(t, 0) + 1
                elif c.kind == ENDORSE and known and not set(c.targets) & known:
                    endorsed_clean += 1
                elif c.kind == "reveal_merlin":
                    strong.setdefault(-1, 0)
        out: list[str] = []
        if -1 in strong:
            strong.pop(-1)
            out.append("You said you are Merlin.")
        if strong:
            out.append(f"You openly accused {_accused_text(strong, known)}.")
        if mild:
            out.append(f"You hinted against {_accused_text(mild, known)}.")
        if endorsed_clean:
            out.append(f"You backed teams without evil players {_times(endorsed_clean)}.")
        if known:
            dirty_ok = sum(1 for p, v in self.agent_votes if v and set(p.team) & known)
            if dirty_ok:
                out.append(f"You approved {_count(dirty_ok, 'team', 'teams')} with evil players.")
        return out

    def _others_accusations(self, limit: int) -> list[str]:
        g = self._require_game()
        seen: list[tuple[int, int]] = []
        for st in reversed(g.statements):
            if st.speaker == self.agent:
                continue
            for c in st.claims:
                if c.kind == ACCUSE and c.strength >= STRONG:
                    for t in c.targets:
                        if (st.speaker, t) not in seen:
                            seen.append((st.speaker, t))
            if len(seen) >= limit:
                break
        return [f"{player_name(s)} accused {player_name(t)}." for s, t in reversed(seen[:limit])]

    def _result_text(self) -> str:
        g = self._require_game()
        if g.assassin_target is None:
            return "Evil failed three quests: evil wins."
        t = g.assassin_target
        if t == g.merlin:
            return f"Good won three quests; the Assassin named {player_name(t)}, who was Merlin: evil wins."
        return f"Good won three quests; the Assassin named {player_name(t)}, a {g.roles[t]}: good wins."

    def _require_done(self) -> Game:
        g = self._require_game()
        if not g.done:
            raise EnvError("the game is not finished yet; outcomes exist only for a finished episode")
        return g

    def outcome(self) -> Mapping[str, Any]:
        g = self._require_done()
        good_win = g.winner == "good"
        agent_good = is_good(g.roles[self.agent])
        return {
            "good_win": good_win,
            "winner": g.winner,
            "assassinated": None if g.assassin_target is None else g.assassin_target == g.merlin,
            "assassin_target": None if g.assassin_target is None else g.assassin_target + 1,
            "quests": ["success" if r.succeeded else "fail" for r in g.results],
            "agent_role": g.roles[self.agent],
            "agent_player": self.agent + 1,
            "agent_win": good_win == agent_good,
            "roles": list(g.roles),
            "proposals": len(g.proposals),
            "invalid_actions": self.invalid_actions,
        } | self._counterpart_usage()

    def _counterpart_usage(self) -> dict[str, Any]:
        """What the LLM-played counterparts spent in this episode (nothing with bots)."""
        if self._counterpart is None:
            return {}
        usages = [u for u in (getattr(p, "usage_total", None) for p in self.seat_players.values()) if u is not None]
        return {
            "counterpart_calls": sum(u.calls for u in usages),
            "counterpart_input_tokens": sum(u.input_tokens for u in usages),
            "counterpart_output_tokens": sum(u.output_tokens for u in usages),
            "counterpart_cost_usd": sum(u.cost_usd for u in usages),
        }

    def metric(self) -> float:
        g = self._require_done()
        return 1.0 if (g.winner == "good") == is_good(g.roles[self.agent]) else 0.0

    def goal_outcomes(self) -> Mapping[str, bool]:
        g = self._require_done()
        out = {goal: False for goal in OUTCOME_GOALS}
        out[GOOD_WINS] = g.winner == "good"
        out[EVIL_WINS] = g.winner == "evil"
        if g.assassin_target is not None:
            out[MERLIN_ASSASSINATED] = g.assassin_target == g.merlin
            out[MERLIN_SURVIVES] = g.assassin_target != g.merlin
        out[THREE_SUCCEED] = g.successes >= 3
        out[THREE_FAIL] = g.failures >= 3
        out.update(_quest_outcomes(g))
        return out

    def decided_outcomes(self) -> Mapping[str, bool]:
        """The outcome goals already settled, with their values (a settled outcome never changes):
        the results of the quests played so far, whether three quests fail or succeed once either
        count reaches three, and every outcome once the game is over."""
        g = self._require_game()
        if g.done:
            return self.goal_outcomes()
        out = _quest_outcomes(g)
        if g.successes >= 3 or g.failures >= 3:
            out[THREE_SUCCEED] = g.successes >= 3
            out[THREE_FAIL] = g.failures >= 3
        return out

    def reseed(self, seed: int) -> None:
        """Fresh randomness for the bots from here on (they share the environment's generator)."""
        self._require_game()
        if self.seat_players:
            raise EnvError(
                "reseed: seats played by external players (seat_players, or counterparts: llm) cannot be "
                "re-randomised; use counterparts: bots"
            )
        self.rng = np.random.default_rng([int(seed), 0xA7A1])
        for bot in self.bots.values():
            bot.rng = self.rng

    def clone(self) -> "AvalonEnv":
        """A copy of the game; external players and the counterpart builder are shared, not copied."""
        shared: list[Any] = [*self.seat_players.values(), *self._given_players.values(), self._counterpart]
        memo: dict[int, Any] = {id(x): x for x in shared if x is not None}
        return copy.deepcopy(self, memo)


def _quest_outcomes(g: Game) -> dict[str, bool]:
    """The outcome goals of the quests played so far, each settled by its result."""
    out: dict[str, bool] = {}
    for r in g.results:
        out[quest_succeeds(r.quest)] = r.succeeded
        out[quest_fails(r.quest)] = not r.succeeded
    return out


def _proposal_line(p: Proposal) -> str:
    head = f"{player_name(p.leader)} proposed {players_text(p.team)}."
    if p.votes is None:
        return head + " Fifth proposal: approved automatically."
    yes = [str(s + 1) for s, v in enumerate(p.votes) if v]
    no = [str(s + 1) for s, v in enumerate(p.votes) if not v]
    verdict = "Approved." if p.approved else "Rejected."
    return f"{head} Approve: {', '.join(yes) or 'none'}. Reject: {', '.join(no) or 'none'}. {verdict}"


def _proposal_view(p: Proposal) -> dict[str, Any]:
    return {
        "quest": p.quest,
        "attempt": p.attempt,
        "leader": p.leader + 1,
        "team": [s + 1 for s in p.team],
        "approve": None if p.votes is None else [s + 1 for s, v in enumerate(p.votes) if v],
        "reject": None if p.votes is None else [s + 1 for s, v in enumerate(p.votes) if not v],
        "auto": p.votes is None,
        "approved": p.approved,
    }


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _times(n: int) -> str:
    return "once" if n == 1 else "twice" if n == 2 else f"{n} times"


def _accused_text(counts: dict[int, int], known: frozenset[int]) -> str:
    items = []
    for s in sorted(counts):
        tag = "evil " if s in known else ""
        items.append(f"{tag}{player_name(s)} {_times(counts[s])}")
    return " and ".join(items)


def make_env(
    cfg: AvalonConfig,
    seat_players: Mapping[int, SeatPlayer] | None = None,
    counterpart: CounterpartBuilder | None = None,
) -> AvalonEnv:
    """Build the Avalon environment. `seat_players`: optional external players by player number;
    `counterpart`: required with `counterparts: llm` (called at every reset for each seat that
    neither the agent nor `seat_players` holds), unused with bots."""
    return AvalonEnv(cfg, seat_players, counterpart)


__all__ = [
    "AvalonConfig",
    "AvalonEnv",
    "CounterpartBuilder",
    "ParsedAction",
    "SeatPlayer",
    "make_env",
    "parse_action",
    "Statement",
    "QuestResult",
]
