"""Rule-based players for the seats the agent does not hold.

- `ServantBot` keeps a belief over which pair of the other four players is evil: pairs inconsistent
  with the quest results (a quest with k fail cards had at least k evil members) are excluded, and
  every pair is weighted by per-player suspicion that moves with what the bot hears (accusations,
  defences and team endorsements, weighted by how much it trusts the speaker) and with how players
  voted on failed quests. It proposes and approves the teams most likely to be all good.
- `EvilBot` (Minion or Assassin) knows its partner, gets evil players onto teams, fails quests when
  that is not too obvious, and talks to sow doubt about good players.
- `MerlinBot` knows the evil players and steers mostly by endorsing clean teams.

The Assassin's guess (`merlin_scores`) listens to the whole public record: each good player scores by
how much their words, proposals and votes revealed knowledge of the evil team that the public
evidence (failed quests) did not explain.
"""

from __future__ import annotations

import math
from itertools import combinations

import numpy as np

from pnlc.envs.avalon.game import Game, Proposal, QuestResult, Statement
from pnlc.envs.avalon.rules import MINION, N_PLAYERS
from pnlc.envs.avalon.speech import (
    ACCUSE,
    DEFEND,
    ENDORSE,
    MILD,
    REVEAL_MERLIN,
    STRONG,
    Claim,
    render_claim,
    render_neutral,
)

# Listening: how far one claim moves a listener's suspicion logit, times the listener's trust in the
# speaker (1 - P(speaker is evil)).
W_ACCUSE = 1.2
W_DEFEND = 0.7
W_ENDORSE = 0.35
W_ACCUSED_ME = 0.8  # a servant accused by someone knows that someone is wrong (or lying)
LOGIT_LIMIT = 4.0
# Quest evidence: P(no fail card | e >= 1 evil members) and P(>= 1 fail card | e >= 1).
P_HIDDEN_FAIL = 0.3
W_APPROVED_FAILED = 0.35  # suspicion for approving (or leading) a team that then failed
W_APPROVED_SUCCEEDED = 0.1

# The Assassin's reading of revealed knowledge.
KNOW_ACCUSE_EVIL = 1.0
KNOW_ACCUSE_GOOD = -0.15
KNOW_DEFEND_EVIL = -0.25
KNOW_DEFEND_GOOD = 0.15
KNOW_ENDORSE_CLEAN = 0.1
KNOW_ENDORSE_DIRTY = -0.15
KNOW_REVEAL = 3.0
KNOW_PROPOSE_CLEAN = 0.15
KNOW_PROPOSE_DIRTY = -0.15
KNOW_VOTE_REJECT_DIRTY = 0.1
KNOW_VOTE_APPROVE_DIRTY = -0.05
KNOW_VOTE_APPROVE_CLEAN = 0.03
KNOW_VOTE_REJECT_CLEAN = -0.05
EXPLAINED = 0.25  # factor on a hit that the public evidence already explained
ASSASSIN_TEMPERATURE = 0.3


def teams_with(seat: int, size: int) -> list[tuple[int, ...]]:
    others = [s for s in range(N_PLAYERS) if s != seat]
    return [tuple(sorted((seat, *c))) for c in combinations(others, size - 1)]


class Bot:
    """A seat played by rules. The env calls the hooks after every public event."""

    def __init__(self, seat: int, game: Game, rng: np.random.Generator) -> None:
        self.seat = seat
        self.role = game.roles[seat]
        self.rng = rng

    def hear(self, game: Game, st: Statement) -> None:
        pass

    def on_proposal(self, game: Game, p: Proposal) -> None:
        pass

    def on_quest(self, game: Game, r: QuestResult) -> None:
        pass

    def say(self, game: Game) -> tuple[str, tuple[Claim, ...]]:
        raise NotImplementedError

    def propose(self, game: Game) -> tuple[int, ...]:
        raise NotImplementedError

    def vote(self, game: Game) -> bool:
        raise NotImplementedError

    def play(self, game: Game) -> bool:
        return True

    def assassinate(self, game: Game) -> int:
        raise NotImplementedError

    def _speak(self, claim: Claim | None) -> tuple[str, tuple[Claim, ...]]:
        if claim is None:
            return render_neutral(self.rng), ()
        return render_claim(claim, self.rng), (claim,)


class ServantBot(Bot):
    """A loyal servant that reasons over the evil pairs consistent with the evidence, and listens."""

    def __init__(self, seat: int, game: Game, rng: np.random.Generator) -> None:
        super().__init__(seat, game, rng)
        self.logit = [0.0] * N_PLAYERS
        self.others = [s for s in range(N_PLAYERS) if s != seat]
        self.pairs = list(combinations(self.others, 2))
        self._cache: tuple[int, list[float]] | None = None
        self._version = 0

    # ---- beliefs -------------------------------------------------------------------------
    def pair_weights(self, game: Game) -> list[float]:
        key = self._version * 8 + len(game.results)
        if self._cache is not None and self._cache[0] == key:
            return self._cache[1]
        weights = []
        for a, b in self.pairs:
            w = math.exp(self.logit[a] + self.logit[b])
            for r in game.results:
                e = (a in r.team) + (b in r.team)
                if r.fails > e:
                    w = 0.0
                    break
                if e:
                    w *= (1.0 - P_HIDDEN_FAIL) if r.fails else P_HIDDEN_FAIL
            weights.append(w)
        total = sum(weights)
        weights = [w / total for w in weights]
        self._cache = (key, weights)
        return weights

    def p_evil(self, game: Game) -> list[float]:
        p = [0.0] * N_PLAYERS
        for (a, b), w in zip(self.pairs, self.pair_weights(game)):
            p[a] += w
            p[b] += w
        return p

    def p_clean(self, game: Game, team) -> float:
        t = set(team)
        return sum(w for (a, b), w in zip(self.pairs, self.pair_weights(game)) if a not in t and b not in t)

    def _nudge(self, seat: int, delta: float) -> None:
        self.logit[seat] = max(-LOGIT_LIMIT, min(LOGIT_LIMIT, self.logit[seat] + delta))
        self._version += 1

    # ---- listening -----------------------------------------------------------------------
    def hear(self, game: Game, st: Statement) -> None:
        k = st.speaker
        if k == self.seat or not st.claims:
            return
        trust = 1.0 - self.p_evil(game)[k]
        for c in st.claims:
            if c.kind == ACCUSE:
                for j in c.targets:
                    if j == self.seat:
                        self._nudge(k, W_ACCUSED_ME * c.strength)
                    elif j != k:
                        self._nudge(j, W_ACCUSE * c.strength * trust)
            elif c.kind == DEFEND:
                for j in c.targets:
                    if j == self.seat:
                        self._nudge(k, -0.2 * c.strength)
                    elif j != k:
                        self._nudge(j, -W_DEFEND * c.strength * trust)
            elif c.kind == ENDORSE:
                team = set(c.targets)
                for j in self.others:
                    if j == k:
                        continue
                    self._nudge(j, -W_ENDORSE * trust if j in team else 0.7 * W_ENDORSE * trust)
            elif c.kind == REVEAL_MERLIN:
                self._nudge(k, -0.5)

    def on_quest(self, game: Game, r: QuestResult) -> None:
        approved = next(p for p in reversed(game.proposals) if p.approved and p.quest == r.quest)
        backers = {approved.leader}
        if approved.votes is not None:
            backers |= {s for s, v in enumerate(approved.votes) if v}
        for s in backers:
            if s == self.seat or s in r.team:
                continue
            self._nudge(s, W_APPROVED_FAILED if not r.succeeded else -W_APPROVED_SUCCEEDED)

    # ---- decisions -----------------------------------------------------------------------
    def best_team(self, game: Game, noise: float) -> tuple[int, ...]:
        teams = teams_with(self.seat, game.team_size)
        scores = [self.p_clean(game, t) + noise * float(self.rng.normal()) for t in teams]
        return teams[int(np.argmax(scores))]

    def say(self, game: Game) -> tuple[str, tuple[Claim, ...]]:
        p = self.p_evil(game)
        top = max(self.others, key=lambda s: p[s])
        low = min(self.others, key=lambda s: p[s])
        r = float(self.rng.random())
        if p[top] >= 0.72 and r < 0.8:
            return self._speak(Claim(ACCUSE, (top,), STRONG))
        if p[top] >= 0.58 and r < 0.7:
            return self._speak(Claim(ACCUSE, (top,), MILD))
        r = float(self.rng.random())
        if r < 0.45:
            return self._speak(Claim(ENDORSE, self.best_team(game, 0.02), MILD))
        if r < 0.6 and p[low] < 0.3:
            return self._speak(Claim(DEFEND, (low,), MILD))
        return self._speak(None)

    def propose(self, game: Game) -> tuple[int, ...]:
        return self.best_team(game, 0.03)

    def vote(self, game: Game) -> bool:
        if game.leader == self.seat:
            return True
        best = max(self.p_clean(game, t) for t in teams_with(self.seat, game.team_size))
        threshold = (0.6 if game.attempt < 4 else 0.3) * best
        approve = self.p_clean(game, game.team) >= threshold - 1e-9
        if self.rng.random() < 0.05:
            approve = not approve
        return approve


class EvilBot(Bot):
    """Minion or Assassin: knows its partner; puts evil on teams and fails quests."""

    def __init__(self, seat: int, game: Game, rng: np.random.Generator) -> None:
        super().__init__(seat, game, rng)
        self.evil = game.evil
        self.partner = next(s for s in game.evil if s != seat)
        self.goods = [s for s in range(N_PLAYERS) if s not in game.evil]

    def _threat(self, game: Game) -> int:
        """The good player who has accused evil players most (ties broken at random)."""
        score = {g: float(self.rng.random()) * 0.5 for g in self.goods}
        for st in game.statements:
            if st.speaker in score:
                for c in st.claims:
                    if c.kind == ACCUSE and any(t in self.evil for t in c.targets):
                        score[st.speaker] += c.strength
        return max(score, key=score.__getitem__)

    def _cover_team(self, game: Game) -> tuple[int, ...]:
        picks = self.rng.choice(len(self.goods), size=game.team_size - 1, replace=False)
        return tuple(sorted((self.seat, *(self.goods[int(i)] for i in picks))))

    def say(self, game: Game) -> tuple[str, tuple[Claim, ...]]:
        r = float(self.rng.random())
        if r < 0.35:
            strength = STRONG if self.rng.random() < 0.5 else MILD
            return self._speak(Claim(ACCUSE, (self._threat(game),), strength))
        if r < 0.5 and not game.failed_before(self.partner, game.quest):
            return self._speak(Claim(DEFEND, (self.partner,), MILD))
        if r < 0.8:
            return self._speak(Claim(ENDORSE, self._cover_team(game), MILD))
        return self._speak(None)

    def propose(self, game: Game) -> tuple[int, ...]:
        return self._cover_team(game)

    def vote(self, game: Game) -> bool:
        if game.leader == self.seat:
            return True
        if set(game.team) & self.evil:
            return bool(self.rng.random() < 0.92)
        return bool(self.rng.random() < 0.2)

    def play(self, game: Game) -> bool:
        if self.partner in game.team:
            return self.role == MINION  # only one fail card, so as not to give away both
        if game.failures == 2 or game.successes == 2:
            return False
        p_fail = 0.75 if game.quest == 1 else 0.9
        return bool(self.rng.random() >= p_fail)

    def assassinate(self, game: Game) -> int:
        scores = merlin_scores(game)
        goods = sorted(scores)
        x = np.array([scores[g] for g in goods]) / ASSASSIN_TEMPERATURE
        p = np.exp(x - x.max())
        p /= p.sum()
        return goods[int(self.rng.choice(len(goods), p=p))]


class MerlinBot(Bot):
    """Merlin played by rules: knows evil, endorses clean teams, hints only occasionally."""

    def __init__(self, seat: int, game: Game, rng: np.random.Generator) -> None:
        super().__init__(seat, game, rng)
        self.evil = game.evil
        self.goods = [s for s in range(N_PLAYERS) if s not in game.evil and s != seat]

    def _clean_team(self, game: Game) -> tuple[int, ...]:
        picks = self.rng.choice(len(self.goods), size=game.team_size - 1, replace=False)
        return tuple(sorted((self.seat, *(self.goods[int(i)] for i in picks))))

    def say(self, game: Game) -> tuple[str, tuple[Claim, ...]]:
        r = float(self.rng.random())
        if r < 0.45:
            return self._speak(Claim(ENDORSE, self._clean_team(game), MILD))
        if r < 0.6:
            evil = sorted(self.evil)
            return self._speak(Claim(ACCUSE, (evil[int(self.rng.integers(2))],), MILD))
        if r < 0.7:
            return self._speak(Claim(DEFEND, (self.goods[int(self.rng.integers(len(self.goods)))],), MILD))
        return self._speak(None)

    def propose(self, game: Game) -> tuple[int, ...]:
        return self._clean_team(game)

    def vote(self, game: Game) -> bool:
        clean = not (set(game.team) & self.evil)
        if not clean and game.quest == 1 and self.rng.random() < 0.3:
            return True
        return clean


def merlin_scores(game: Game) -> dict[int, float]:
    """How much each good player's public words and votes revealed knowledge of the evil team.

    A hit counts in full only when nothing public explains it: the target was never on a failed
    quest and nobody had accused them before (echoing an earlier accusation reveals little).
    """
    evil = game.evil
    score = {s: 0.0 for s in range(N_PLAYERS) if s not in evil}
    accused: set[int] = set()

    def factor(seats, quest: int) -> float:
        if all(game.failed_before(s, quest) or s in accused for s in seats):
            return EXPLAINED
        return 1.0

    for st in game.statements:
        if st.speaker in score:
            for c in st.claims:
                if c.kind == ACCUSE:
                    for j in c.targets:
                        if j in evil:
                            score[st.speaker] += KNOW_ACCUSE_EVIL * c.strength * factor((j,), st.quest)
                        else:
                            score[st.speaker] += KNOW_ACCUSE_GOOD * c.strength
                elif c.kind == DEFEND:
                    for j in c.targets:
                        score[st.speaker] += (KNOW_DEFEND_EVIL if j in evil else KNOW_DEFEND_GOOD) * c.strength
                elif c.kind == ENDORSE:
                    if set(c.targets) & evil:
                        score[st.speaker] += KNOW_ENDORSE_DIRTY
                    elif len(c.targets) >= 2:
                        score[st.speaker] += KNOW_ENDORSE_CLEAN * factor(evil, st.quest)
                elif c.kind == REVEAL_MERLIN:
                    score[st.speaker] += KNOW_REVEAL
        for c in st.claims:
            if c.kind == ACCUSE:
                accused.update(c.targets)
    for p in game.proposals:
        bad = set(p.team) & evil
        if p.leader in score:
            score[p.leader] += KNOW_PROPOSE_DIRTY if bad else KNOW_PROPOSE_CLEAN * factor(evil, p.quest)
        if p.votes is None:
            continue
        for s in score:
            if bad:
                score[s] += KNOW_VOTE_APPROVE_DIRTY if p.votes[s] else KNOW_VOTE_REJECT_DIRTY * factor(bad, p.quest)
            else:
                score[s] += KNOW_VOTE_APPROVE_CLEAN if p.votes[s] else KNOW_VOTE_REJECT_CLEAN
    return score


def make_bot(seat: int, game: Game, rng: np.random.Generator) -> Bot:
    if seat in game.evil:
        return EvilBot(seat, game, rng)
    if seat == game.merlin:
        return MerlinBot(seat, game, rng)
    return ServantBot(seat, game, rng)
