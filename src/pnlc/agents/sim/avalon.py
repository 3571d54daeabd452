"""Simulated Avalon players behind the `Policy` roles: a mediocre prior and a strong scripted Merlin.

Every decision starts with a thought from a repertoire of strategies written in words ("Openly accuse
Player 3 of being evil.", "Vote against this team quietly."). `act` reads the thought text back (it
may come from `refine`, not from `propose_thought`) and carries it out, so the thought causally
decides the move:

- open accusations help the good team pick clean teams but mark the speaker as Merlin for the
  Assassin (→ "Merlin is assassinated.");
- approving, including or befriending known evil players lets quests fail (→ "Quest N fails.");
- quiet steering (endorsing a clean team, informed votes) helps at little risk.

The prior (`kind="prior"`) picks among these with mediocre probabilities, so its trajectories hold
both good and bad thoughts for a critic to learn from. The strong Merlin (`kind="oracle"`, a
privileged upper reference) plays a hidden-information strategy. Both see only `DecisionContext`.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from pnlc.agents.roles import DecisionContext, Draft, GoalSet
from pnlc.critic.render import parse_value
from pnlc.envs.avalon import AvalonConfig
from pnlc.envs.avalon.rules import (
    EVIL_WINS,
    GOOD_WINS,
    MERLIN_ASSASSINATED,
    MERLIN_SURVIVES,
    N_PLAYERS,
    OUTCOME_GOALS,
    THREE_FAIL,
    THREE_SUCCEED,
    quest_fails,
    quest_succeeds,
)
from pnlc.envs.avalon.speech import (
    ACCUSE,
    DEFEND,
    ENDORSE,
    MILD,
    STRONG,
    Claim,
    parse_claims,
    render_claim,
    render_neutral,
)

# ---- the repertoire ---------------------------------------------------------------------------
# Strategy categories by decision; {e} is a player the thinker believes evil, {g} one it believes good.
THOUGHTS: dict[str, tuple[str, ...]] = {
    "accuse": (
        "Openly accuse Player {e} of being evil.",
        "Call out Player {e} as evil in front of everyone.",
        "Tell the table plainly that Player {e} is a traitor.",
    ),
    "hint": (
        "Hint that Player {e} seems suspicious, without claiming certainty.",
        "Voice a mild suspicion of Player {e}.",
    ),
    "steer": (
        "Steer the team away from Player {e} without naming anyone.",
        "Quietly push for a team of players I trust without naming anyone.",
        "Back a clean team in words and keep my reasons to myself.",
    ),
    "blend": (
        "Stay vague and agree with the others to stay hidden.",
        "Say something noncommittal to keep a low profile.",
    ),
    "misdirect": (
        "Cast mild doubt on Player {g} to look uninformed.",
        "Cast some doubt on Player {g} so I seem to be guessing.",
    ),
    "vouch": (
        "Vouch for Player {g}, who I know is loyal.",
        "Defend Player {g} in the discussion.",
    ),
    "befriend": (
        "Act friendly toward Player {e} to hide my knowledge.",
        "Side with Player {e} for now so I do not look informed.",
    ),
    "clean_team": (
        "Propose a team of players I trust.",
        "Put together a team with no evil players on it.",
    ),
    "include_evil": (
        "Include Player {e} to avoid looking too informed.",
        "Include Player {e} on my team as cover.",
    ),
    "public_team": (
        "Propose myself and whoever looks reliable from the quest results so far.",
        "Pick a team based only on the public record.",
    ),
    "approve": (
        "Support the proposal to look cooperative.",
        "Approve this team to avoid standing out.",
    ),
    "reject": (
        "Vote against this team quietly.",
        "Reject this team.",
    ),
    "informed": (
        "Approve only if the team has no evil players on it.",
        "Vote by what I know: back the team only if it is clean.",
    ),
    "fail": ("Fail the quest to push evil toward victory.",),
    "succeed": ("Play success to keep my cover.",),
    "guess": ("Name Player {g}, who seemed best informed about the evil team.",),
}
CATEGORIES_BY_DECISION: dict[str, tuple[str, ...]] = {
    "say": ("accuse", "hint", "steer", "blend", "misdirect", "vouch", "befriend"),
    "propose": ("clean_team", "include_evil", "public_team"),
    "vote": ("approve", "reject", "informed"),
    "quest": ("fail", "succeed"),
    "assassinate": ("guess",),
}
_NEEDS_EVIL = {"accuse", "hint", "befriend", "include_evil"}
FALLBACK = {"accuse": "blend", "hint": "blend", "befriend": "blend", "misdirect": "blend", "vouch": "blend",
            "steer": "blend", "include_evil": "public_team", "guess": "guess"}
REVEALING = frozenset({"accuse", "hint", "vouch", "steer"})
# Refinement: the alternative a thought is revised to when the critic flags a bad outcome.
AVOID_ASSASSINATION: dict[str, dict[str, str]] = {
    "say": {"accuse": "steer", "hint": "steer", "vouch": "blend", "steer": "blend"},
    "propose": {"clean_team": "public_team"},
}
AVOID_QUEST_FAILURE: dict[str, dict[str, str]] = {
    "say": {"befriend": "steer", "blend": "steer", "misdirect": "steer", "vouch": "steer", "": "steer"},
    "propose": {"include_evil": "clean_team", "public_team": "clean_team", "": "clean_team"},
    "vote": {"approve": "reject", "": "informed"},
}
IMPROVE: dict[str, tuple[str, ...]] = {
    "say": ("steer", "blend"),
    "propose": ("clean_team", "public_team"),
    "vote": ("informed", "reject"),
}

# Prior (mediocre) strategy weights for a player that knows the evil team (Merlin) ...
PRIOR_WEIGHTS: dict[str, dict[str, float]] = {
    "say": {"accuse": 0.4, "hint": 0.14, "steer": 0.1, "blend": 0.12, "misdirect": 0.06, "vouch": 0.12,
            "befriend": 0.06},
    "propose": {"clean_team": 0.4, "include_evil": 0.35, "public_team": 0.25},
    "vote": {"approve": 0.5, "reject": 0.2, "informed": 0.3},
    "quest": {"fail": 0.8, "succeed": 0.2},
    "assassinate": {"guess": 1.0},
}
# How lessons carried between trials shift the prior (mildly): lesson keyword -> category factors.
LESSON_ASSASSINATED = (
    "Lesson: my open accusations exposed me as Merlin and I was assassinated; steer quietly instead."
)
LESSON_QUESTS_FAILED = (
    "Lesson: quests failed because I let evil players onto teams; reject teams that include them."
)
LESSON_WON = "Lesson: keeping my knowledge quiet while steering teams worked; keep doing that."
LESSON_LOST = "Lesson: my team lost; pay closer attention to who was on the failed quests."
LESSON_SHIFTS: dict[str, dict[str, float]] = {
    "assassinated": {"accuse": 0.6, "hint": 0.8, "steer": 1.4, "blend": 1.2},
    "onto teams": {"approve": 0.7, "reject": 1.3, "informed": 1.3, "include_evil": 0.6, "befriend": 0.7,
                   "clean_team": 1.3},
    "steering teams worked": {"steer": 1.2},
}


@dataclass(frozen=True)
class AvalonSimParams:
    """Knobs of the simulated Avalon policy.

    refine_negative_threshold: refine when a negative outcome's probability is above this.
    refine_positive_floor: refine when the best positive outcome's probability is below this.
    self_estimate_optimism: added to positive goals (and taken from negative ones) in self-critique.
    self_estimate_noise: standard deviation of the noise on self-estimated probabilities.
    value_noise: standard deviation of the noise on `estimate_value`.
    """

    refine_negative_threshold: float
    refine_positive_floor: float
    self_estimate_optimism: float
    self_estimate_noise: float
    value_noise: float


PARAMS_TYPE = AvalonSimParams  # built from params.yaml agents.sim.avalon

DEFAULT_PARAMS = AvalonSimParams(
    refine_negative_threshold=0.5,
    refine_positive_floor=0.3,
    self_estimate_optimism=0.2,
    self_estimate_noise=0.12,
    value_noise=0.1,
)

# ---- reading thoughts -------------------------------------------------------------------------
_PLAYER = re.compile(r"\bplayer\s*#?\s*([1-5])\b", re.I)
_SAY_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("befriend", re.compile(r"\bfriendly\b|\bbefriend|\bside with\b|\bwarm up to\b", re.I)),
    ("misdirect", re.compile(r"\bcast\b.*\bdoubt\b|\buninformed\b|\bguessing\b|\bmisdirect", re.I)),
    ("vouch", re.compile(r"\bvouch|\bdefend\b|\bspeak up for\b", re.I)),
    ("steer", re.compile(r"\bsteer|\bwithout naming\b|\bquietly\b|\bclean team\b|\breasons to myself\b", re.I)),
    ("accuse", re.compile(r"\bopenly\b|\bcall out\b|\bplainly\b|\baccuse|\bexpose|\bsay who\b", re.I)),
    ("hint", re.compile(r"\bhint|\bsuspici|\bmild\b", re.I)),
    ("blend", re.compile(r"\bvague\b|\bnoncommittal\b|\blow profile\b|\bagree with\b|\bstay hidden\b", re.I)),
)
_PROPOSE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("include_evil", re.compile(r"\binclude\b|\bcover\b|\bput player\b", re.I)),
    ("public_team", re.compile(r"\bpublic\b|\breliable\b|\bresults\b|\brecord\b", re.I)),
    ("clean_team", re.compile(r"\btrust|\bclean\b|\bno evil\b|\bloyal\b|\bsteer\b|\baway from\b|\bwithout\b", re.I)),
)
_VOTE_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("informed", re.compile(r"\bonly if\b|\bwhat i know\b|\bif it is clean\b|\bno evil\b", re.I)),
    ("away", re.compile(r"\baway from\b|\bwithout\b|\bkeep .* off\b|\bexclude|\baccuse|\bevil\b", re.I)),
    ("reject", re.compile(r"\bagainst\b|\breject|\boppose\b|\bblock\b|\bvote no\b", re.I)),
    ("approve", re.compile(r"\bsupport|\bapprove|\bcooperative\b|\bback\b|\bfriendly\b|\binclude\b", re.I)),
)


def thought_category(decision: str, thought: str) -> str | None:
    """The repertoire category a thought expresses for a decision kind (None: not recognised)."""
    rules = {"say": _SAY_RULES, "propose": _PROPOSE_RULES, "vote": _VOTE_RULES}.get(decision)
    if rules is None:
        if decision == "quest":
            return "fail" if re.search(r"\bfail", thought, re.I) else "succeed"
        if decision == "assassinate":
            return "guess"
        return None
    for name, pattern in rules:
        if pattern.search(thought):
            return name
    return None


def thought_player(thought: str) -> int | None:
    """Seat (0-based) of the first 'Player N' in a thought."""
    m = _PLAYER.search(thought)
    return int(m.group(1)) - 1 if m else None


# ---- the policy -------------------------------------------------------------------------------
class AvalonSimPolicy:
    """Simulated Avalon player. `kind` is "prior" (mediocre base policy) or "oracle" (strong Merlin)."""

    def __init__(self, cfg: AvalonConfig, kind: str, params: AvalonSimParams) -> None:
        if kind not in ("prior", "oracle"):
            raise ValueError(f"make_sim_policy kind: unknown {kind!r}; use 'prior' or 'oracle'")
        self.cfg = cfg
        self.kind = kind
        self.params = params
        self.name = f"sim-avalon-{kind}"
        self.rng = np.random.default_rng(0)

    # ---- episode -------------------------------------------------------------------------
    def begin_episode(self, task_id: str, seed: int) -> None:
        self.rng = np.random.default_rng([int(seed), zlib.crc32(task_id.encode("utf-8")), 0x5EED])

    # ---- helpers over the view -----------------------------------------------------------
    @staticmethod
    def _view(ctx: DecisionContext) -> Mapping[str, Any]:
        return ctx.observation.view

    @staticmethod
    def _evil_side(view: Mapping[str, Any]) -> set[int]:
        """Evil seats an evil player knows (itself and its partner); empty for a good player."""
        return {s - 1 for s in view.get("known_evil", [])} if view.get("side") == "evil" else set()

    def _suspects(self, view: Mapping[str, Any]) -> list[int]:
        """Players to speak and act against: for good, the known evil players or, without that
        knowledge, the two most implicated by failed quests; for evil, the good players."""
        me = int(view["player"]) - 1
        if view.get("side") == "evil":
            evil = self._evil_side(view)
            return [s for s in range(N_PLAYERS) if s not in evil]
        known = [s - 1 for s in view.get("known_evil", []) if s - 1 != me]
        if known:
            return known
        blame = np.zeros(N_PLAYERS)
        for q in view.get("quests", []):
            if not q["succeeded"]:
                for s in q["team"]:
                    blame[s - 1] += 1.0 / len(q["team"])
        blame[me] = -1.0
        order = sorted(range(N_PLAYERS), key=lambda s: (-blame[s], s))
        return order[:2] if blame.max() > 0 else []

    def _goods(self, view: Mapping[str, Any]) -> list[int]:
        """Players to speak for: for good, those not suspected; for evil, its partner."""
        me = int(view["player"]) - 1
        if view.get("side") == "evil":
            return sorted(self._evil_side(view) - {me})
        bad = set(self._suspects(view))
        return [s for s in range(N_PLAYERS) if s != me and s not in bad]

    def _pick(self, seats: Sequence[int]) -> int | None:
        return None if not seats else int(seats[int(self.rng.integers(len(seats)))])

    def _weights(self, ctx: DecisionContext, decision: str) -> dict[str, float]:
        if self.kind == "oracle":
            return self._oracle_weights(ctx, decision)
        weights = dict(PRIOR_WEIGHTS.get(decision, {}))
        for note in ctx.notes:
            low = note.lower()
            for key, shifts in LESSON_SHIFTS.items():
                if key in low:
                    for cat, factor in shifts.items():
                        if cat in weights:
                            weights[cat] *= factor
        if not self._suspects(self._view(ctx)):  # nobody to act against yet
            for cat in _NEEDS_EVIL:
                weights.pop(cat, None)
        return weights

    def _oracle_weights(self, ctx: DecisionContext, decision: str) -> dict[str, float]:
        view = self._view(ctx)
        if decision == "say":
            if view["quest"] == 1 and view["failures"] == 0:
                return {"blend": 0.5, "steer": 0.2, "misdirect": 0.3}
            return {"steer": 0.6, "blend": 0.3, "misdirect": 0.1}
        if decision == "propose":
            return {"clean_team": 1.0}
        if decision == "vote":
            return {"informed": 1.0}
        if decision == "quest":
            return {"fail": 1.0}
        return {"guess": 1.0}

    # ---- roles ---------------------------------------------------------------------------
    def propose_thought(self, ctx: DecisionContext) -> str:
        view = self._view(ctx)
        decision = str(view.get("decision", "say"))
        weights = self._weights(ctx, decision)
        if not weights:
            return "Stay vague and agree with the others to stay hidden."
        cats = sorted(weights)
        p = np.array([weights[c] for c in cats], dtype=float)
        cat = cats[int(self.rng.choice(len(cats), p=p / p.sum()))]
        return self._thought_text(cat, view)

    def _thought_text(self, cat: str, view: Mapping[str, Any]) -> str:
        """A thought of category `cat`, phrased from the repertoire, naming suitable players."""
        targets = {"e": self._pick(self._suspects(view)), "g": self._pick(self._goods(view))}
        if cat == "guess":
            targets["g"] = self._guess_merlin(view)
        options = [t for t in THOUGHTS[cat] if all(targets[k] is not None for k in "eg" if "{" + k + "}" in t)]
        if not options:
            return self._thought_text(FALLBACK[cat], view)
        template = options[int(self.rng.integers(len(options)))]
        return template.format(**{k: "" if v is None else v + 1 for k, v in targets.items()})

    def act(self, ctx: DecisionContext, thought: str) -> str:
        view = self._view(ctx)
        decision = str(view.get("decision", "say"))
        cat = thought_category(decision, thought)
        target = thought_player(thought)
        if decision == "say":
            return self._say(view, cat, target)
        if decision == "propose":
            return self._propose(view, cat, target)
        if decision == "vote":
            return self._vote(view, cat, target)
        if decision == "quest":
            if view.get("side") != "evil":
                return "quest[success]"
            return "quest[fail]" if cat == "fail" else "quest[success]"
        if decision == "assassinate":
            seat = target if target is not None else self._guess_merlin(view)
            return f"assassinate[{seat + 1}]"
        return "say[I have nothing to add.]"

    def _say(self, view: Mapping[str, Any], cat: str | None, target: int | None) -> str:
        me = int(view["player"]) - 1
        suspects = self._suspects(view)
        claim: Claim | None = None
        evil_target = target if target is not None and target != me else self._pick(suspects)
        good_target = target if target is not None and target != me else self._pick(self._goods(view))
        if cat == "accuse" and evil_target is not None:
            claim = Claim(ACCUSE, (evil_target,), STRONG)
        elif cat == "hint" and evil_target is not None:
            claim = Claim(ACCUSE, (evil_target,), MILD)
        elif cat == "steer":
            avoid = {target} if target is not None else set(suspects)
            claim = Claim(ENDORSE, self._team(view, avoid=avoid | set(suspects)), MILD)
        elif cat == "misdirect" and good_target is not None:
            claim = Claim(ACCUSE, (good_target,), MILD)
        elif cat == "vouch" and good_target is not None:
            claim = Claim(DEFEND, (good_target,), MILD)
        elif cat == "befriend" and evil_target is not None:
            claim = Claim(DEFEND, (evil_target,), MILD)
        text = render_neutral(self.rng) if claim is None else render_claim(claim, self.rng)
        return f"say[{text}]"

    def _team(self, view: Mapping[str, Any], avoid: set[int], include: int | None = None) -> tuple[int, ...]:
        """Me, then `include`, then players not in `avoid` (random order), then the rest."""
        me = int(view["player"]) - 1
        size = int(view["team_size"])
        team = [me]
        if include is not None and include != me:
            team.append(include)
        rest = [s for s in range(N_PLAYERS) if s not in team]
        order = list(self.rng.permutation(len(rest)))
        ranked = sorted((rest[int(i)] for i in order), key=lambda s: s in avoid)
        team += ranked[: size - len(team)]
        return tuple(sorted(team[:size]))

    def _propose(self, view: Mapping[str, Any], cat: str | None, target: int | None) -> str:
        suspects = set(self._suspects(view))
        if view.get("side") == "evil":
            evil = self._evil_side(view)  # me plus good players: one fail card is enough
            team = self._team(view, avoid=evil - {int(view["player"]) - 1})
        elif cat == "include_evil":
            team = self._team(view, avoid=set(), include=target if target is not None else self._pick(sorted(suspects)))
        elif cat == "public_team":
            team = self._team(view, avoid=set(self._public_blame(view)))
        else:
            avoid = suspects | ({target} if target is not None else set())
            team = self._team(view, avoid=avoid)
        return "propose[" + ",".join(str(s + 1) for s in team) + "]"

    def _public_blame(self, view: Mapping[str, Any]) -> list[int]:
        blamed: list[int] = []
        for q in view.get("quests", []):
            if not q["succeeded"]:
                blamed += [s - 1 for s in q["team"] if s - 1 != int(view["player"]) - 1]
        return blamed

    def _vote(self, view: Mapping[str, Any], cat: str | None, target: int | None) -> str:
        team = {s - 1 for s in view.get("proposed_team", [])}
        suspects = set(self._suspects(view))
        if view.get("side") == "evil":
            evil = self._evil_side(view)
            approve = bool(team & evil) if cat in ("informed", "away", None) else cat != "reject"
        elif cat == "approve":
            approve = True
        elif cat == "reject":
            approve = False
        elif cat == "away":
            avoid = {target} if target is not None else suspects
            approve = not (team & avoid)
        else:  # informed, or an unrecognised thought: vote by what this seat believes
            approve = not (team & suspects)
        return "vote[approve]" if approve else "vote[reject]"

    def _guess_merlin(self, view: Mapping[str, Any]) -> int:
        """Evil's guess: the good player whose accusations hit the evil team most often."""
        bad = {s - 1 for s in view.get("known_evil", [])}
        goods = [s for s in range(N_PLAYERS) if s not in bad]
        score = {g: 0.0 for g in goods}
        for st in view.get("statements", []):
            speaker = int(st["speaker"]) - 1
            if speaker in score:
                for c in parse_claims(st["text"]):
                    if c.kind == ACCUSE and set(c.targets) & bad:
                        score[speaker] += c.strength
        return max(goods, key=lambda g: (score[g], -g))

    # ---- critic-facing roles -------------------------------------------------------------
    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        view = self._view(ctx)
        q = int(view.get("quest", 1))
        good = view.get("side", "good") == "good"
        decision = str(view.get("decision", "say"))
        cat = thought_category(decision, thought)
        revealing = cat in REVEALING
        win, lose = (GOOD_WINS, EVIL_WINS) if good else (EVIL_WINS, GOOD_WINS)
        q_good, q_bad = (quest_succeeds(q), quest_fails(q)) if good else (quest_fails(q), quest_succeeds(q))
        survive, die = (MERLIN_SURVIVES, MERLIN_ASSASSINATED) if good else (MERLIN_ASSASSINATED, MERLIN_SURVIVES)
        if revealing:
            pos = [win, survive, q_good, THREE_SUCCEED if good else THREE_FAIL]
            neg = [die, q_bad, lose, THREE_FAIL if good else THREE_SUCCEED]
        else:
            pos = [q_good, win, survive, THREE_SUCCEED if good else THREE_FAIL]
            neg = [q_bad, lose, die, THREE_FAIL if good else THREE_SUCCEED]
        later = [n for n in range(q + 1, 6)]
        pos += [quest_succeeds(n) if good else quest_fails(n) for n in later]
        neg += [quest_fails(n) if good else quest_succeeds(n) for n in later]
        return GoalSet(tuple(_take(pos, n_pos)), tuple(_take(neg, n_neg)))

    def refine(
        self, ctx: DecisionContext, thought: str, value_text: str, drafts: Sequence[Draft] = (), final: bool = False
    ) -> str | None:
        lines = parse_value(value_text)
        if not lines:
            return None
        view = self._view(ctx)
        decision = str(view.get("decision", "say"))
        cat = thought_category(decision, thought)
        negatives = [ln for ln in lines if not ln.positive]
        positives = [ln for ln in lines if ln.positive]
        worst = max(negatives, key=lambda ln: ln.probability, default=None)
        best = max(positives, key=lambda ln: ln.probability, default=None)
        p = self.params
        good = view.get("side", "good") == "good"
        if worst is not None and worst.probability > p.refine_negative_threshold:
            alt = self._avoid(decision, cat, worst.goal, good)
        elif best is not None and best.probability < p.refine_positive_floor:
            alt = self._improve(decision, cat) if good else None
        else:
            return None
        if alt is None or alt == cat:
            return None
        return self._thought_text(alt, view)

    def _avoid(self, decision: str, cat: str | None, goal: str, good: bool) -> str | None:
        """A repertoire alternative to `cat` that makes the bad outcome `goal` less likely."""
        g = goal.lower()
        if not good:
            return "fail" if decision == "quest" and cat == "succeed" else None
        revealing = cat in REVEALING
        if "assassinat" in g or (revealing and "evil wins" in g):
            return AVOID_ASSASSINATION.get(decision, {}).get(cat or "")
        if "fail" in g or "evil wins" in g:
            return AVOID_QUEST_FAILURE.get(decision, {}).get(cat or "")
        return None

    def _improve(self, decision: str, cat: str | None) -> str | None:
        """An alternative when even the best positive outcome looks unlikely."""
        for c in IMPROVE.get(decision, ()):
            if c != cat:
                return c
        return None

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals: Sequence[str]) -> list[float]:
        """Self-critique: over-optimistic (good outcomes high, bad ones low) and noisy."""
        view = self._view(ctx)
        good = view.get("side", "good") == "good"
        cat = thought_category(str(view.get("decision", "say")), thought)
        p = self.params
        out = []
        for goal in goals:
            sign = _goal_sign(goal, good)
            v = 0.5 + sign * (0.15 + p.self_estimate_optimism)
            if goal == MERLIN_ASSASSINATED and cat in REVEALING:
                v += 0.1  # the policy knows open talk is somewhat risky, but underrates it
            v += p.self_estimate_noise * float(self.rng.normal())
            out.append(float(np.clip(v, 0.02, 0.98)))
        return out

    def estimate_value(self, ctx: DecisionContext) -> float:
        view = self._view(ctx)
        lead = int(view.get("successes", 0)) - int(view.get("failures", 0))
        if view.get("side") == "evil":
            lead = -lead
        v = 0.5 + 0.15 * lead + self.params.value_noise * self.rng.normal()
        return float(np.clip(v, 0.0, 1.0))

    def reflect(self, final_summary: str, outcome_text: str) -> str:
        text = f"{final_summary} {outcome_text}".lower()
        if "who was merlin" in text or "assassinated=true" in text or '"assassinated": true' in text:
            return LESSON_ASSASSINATED
        if "evil failed three quests" in text:
            return LESSON_QUESTS_FAILED
        won = "agent_win=true" in text or ("agent_win=" not in text and "good wins" in text)
        return LESSON_WON if won else LESSON_LOST


def _failed_with(view: Mapping[str, Any], seat: int) -> bool:
    return any(not q["succeeded"] and seat + 1 in q["team"] for q in view.get("quests", []))


def _goal_sign(goal: str, good: bool) -> int:
    """+1 if the goal is good for the agent's side, -1 if bad, 0 if unknown."""
    g = goal.strip()
    good_side = {GOOD_WINS, MERLIN_SURVIVES, THREE_SUCCEED} | {quest_succeeds(n) for n in range(1, 6)}
    evil_side = {EVIL_WINS, MERLIN_ASSASSINATED, THREE_FAIL} | {quest_fails(n) for n in range(1, 6)}
    if g in good_side:
        return 1 if good else -1
    if g in evil_side:
        return -1 if good else 1
    return 0


def _take(items: Sequence[str], n: int) -> list[str]:
    out: list[str] = []
    for it in items:
        if len(out) >= n:
            break
        if it not in out and it in OUTCOME_GOALS:
            out.append(it)
    return out


def make_sim_policy(cfg: AvalonConfig, kind: str, params: AvalonSimParams | None = None) -> AvalonSimPolicy:
    """The simulated Avalon policy: kind "prior" (base policy) or "oracle" (strong Merlin, privileged).
    `params` defaults to `DEFAULT_PARAMS` (documented above)."""
    return AvalonSimPolicy(cfg, kind, DEFAULT_PARAMS if params is None else params)


__all__ = [
    "AvalonSimParams",
    "AvalonSimPolicy",
    "DEFAULT_PARAMS",
    "LESSON_ASSASSINATED",
    "LESSON_QUESTS_FAILED",
    "PRIOR_WEIGHTS",
    "THOUGHTS",
    "make_sim_policy",
    "thought_category",
]
