"""Avalon rules engine: phase transitions, win conditions, listening bots, setup files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from pnlc.envs.avalon.bots import ServantBot, merlin_scores
from pnlc.envs.avalon.game import ASSASSINATE, DONE, PROPOSE, QUEST, SAY, VOTE, Game, IllegalMove
from pnlc.envs.avalon.rules import Setup, load_setups, validate_roles
from pnlc.envs.avalon.speech import ACCUSE, DEFEND, ENDORSE, MILD, NEUTRAL, STRONG, TEMPLATES, Claim, parse_claims
from pnlc.envs.base import EnvError

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "avalon"
ROLES = ("Merlin", "Servant", "Servant", "Minion", "Assassin")  # seats 0-4; evil = 3, 4


def new_game(discussion: bool = True, leader: int = 0) -> Game:
    return Game(Setup(ROLES, leader), discussion)


def talk(g: Game) -> list[int]:
    order = []
    while g.pending is not None and g.pending.kind == SAY:
        order.append(g.pending.seat)
        g.say(g.pending.seat, "I have no strong read yet.", ())
    return order


def vote(g: Game, approvers: set[int]) -> None:
    for _ in range(5):
        seat = g.pending.seat
        g.vote(seat, seat in approvers)


def play_quest(g: Game, failing: set[int] = frozenset()) -> None:
    while g.pending is not None and g.pending.kind == QUEST:
        seat = g.pending.seat
        g.play(seat, seat not in failing)


def run_round(g: Game, team, failing=frozenset()) -> None:
    """Discussion, proposal, unanimous approval, quest."""
    talk(g)
    g.propose(g.pending.seat, team)
    if g.pending.kind == VOTE:
        vote(g, set(range(5)))
    play_quest(g, failing)


def test_discussion_then_proposal_then_vote_then_quest() -> None:
    g = new_game(leader=2)
    assert talk(g) == [2, 3, 4, 0, 1]  # the leader speaks first, then each player once
    assert g.pending.kind == PROPOSE and g.pending.seat == 2
    g.propose(2, (0, 2))
    assert g.phase == VOTE and [g.pending.seat] == [0]
    vote(g, {0, 1, 2})  # strict majority: 3 of 5
    assert g.proposals[-1].approved and g.proposals[-1].votes == (True, True, True, False, False)
    assert g.phase == QUEST and g.pending.seat == 0
    play_quest(g)
    assert g.results[-1].succeeded and g.quest == 2 and g.attempt == 1
    assert g.leader == 3  # leadership passed after the proposal
    assert g.phase == SAY and g.pending.seat == 3
    assert g.team_size == 3


def test_rejection_rotates_leader_and_restarts_discussion() -> None:
    g = new_game()
    talk(g)
    g.propose(0, (0, 1))
    vote(g, {0, 1})  # 2 of 5 is not a majority
    assert not g.proposals[-1].approved
    assert g.attempt == 2 and g.leader == 1 and g.quest == 1
    assert g.phase == SAY and talk(g) == [1, 2, 3, 4, 0]


def test_no_discussion_goes_straight_to_proposal() -> None:
    g = new_game(discussion=False, leader=4)
    assert g.pending.kind == PROPOSE and g.pending.seat == 4


def test_fifth_proposal_is_approved_automatically() -> None:
    g = new_game()
    for _ in range(4):
        talk(g)
        g.propose(g.pending.seat, (0, 1))
        vote(g, set())
    assert g.attempt == 5
    talk(g)
    g.propose(g.pending.seat, (3, 4))
    last = g.proposals[-1]
    assert last.votes is None and last.approved and last.attempt == 5
    assert g.phase == QUEST and g.leader == 0  # five proposals: leadership went round once


def test_three_failed_quests_end_the_game_for_evil() -> None:
    g = new_game()
    for _ in range(3):
        team = (3, 4) if g.team_size == 2 else (0, 3, 4)
        run_round(g, team, failing={4})
    assert g.done and g.phase == DONE and g.winner == "evil"
    assert g.assassin_target is None and g.failures == 3 and len(g.results) == 3
    assert g.pending is None


def test_three_successes_then_correct_assassination_means_evil_wins() -> None:
    g = new_game()
    run_round(g, (0, 1))
    run_round(g, (0, 1, 3), failing={3})
    run_round(g, (1, 2))
    run_round(g, (0, 1, 2))
    assert g.phase == ASSASSINATE and g.pending.seat == 4  # the Assassin names Merlin
    with pytest.raises(IllegalMove):
        g.assassinate(4, 3)  # an evil player cannot be named
    g.assassinate(4, 0)
    assert g.done and g.winner == "evil" and g.assassin_target == 0


def test_three_successes_and_a_wrong_guess_means_good_wins() -> None:
    g = new_game()
    for team in ((0, 1), (0, 1, 2), (1, 2)):
        run_round(g, team)
    g.assassinate(4, 2)
    assert g.done and g.winner == "good" and g.successes == 3


def test_illegal_moves_leave_state_unchanged() -> None:
    g = new_game()
    with pytest.raises(IllegalMove):
        g.vote(0, True)  # voting when a statement is asked
    with pytest.raises(IllegalMove):
        g.say(3, "out of turn", ())
    talk(g)
    with pytest.raises(IllegalMove):
        g.propose(0, (0, 1, 2))  # wrong team size
    with pytest.raises(IllegalMove):
        g.propose(0, (0, 0))
    assert g.pending.kind == PROPOSE and g.team == ()
    g.propose(0, (0, 3))
    vote(g, set(range(5)))
    with pytest.raises(IllegalMove):
        g.play(0, False)  # good players always succeed
    assert g.pending.kind == QUEST and g.pending.seat == 0 and g.results == []


def test_servant_reasons_over_consistent_assignments() -> None:
    g = new_game()
    bot = ServantBot(1, g, np.random.default_rng(0))
    assert np.allclose([bot.p_evil(g)[s] for s in (0, 2, 3, 4)], 0.5)
    run_round(g, (1, 3), failing={3})  # one fail card: seat 3 must be evil
    p = bot.p_evil(g)
    assert p[3] == pytest.approx(1.0)
    assert bot.p_clean(g, (1, 3)) == pytest.approx(0.0)
    assert bot.best_team(g, 0.0) != (1, 3)


def test_accusation_by_trusted_player_raises_suspicion_more() -> None:
    g = new_game()
    st = g.say(0, "I'm convinced Player 4 is evil.", (Claim(ACCUSE, (3,), STRONG),))
    trusting = ServantBot(1, g, np.random.default_rng(0))
    trusting.logit[0] = -3.0  # seat 0 looks loyal to this listener
    doubting = ServantBot(1, g, np.random.default_rng(0))
    doubting.logit[0] = 3.0  # seat 0 looks evil to this listener
    before_t, before_d = trusting.p_evil(g)[3], doubting.p_evil(g)[3]
    trusting.hear(g, st)
    doubting.hear(g, st)
    rise_t = trusting.p_evil(g)[3] - before_t
    rise_d = doubting.p_evil(g)[3] - before_d
    assert rise_t > 0.1
    assert rise_t > rise_d + 0.05


def test_defence_and_accusation_of_the_listener() -> None:
    g = new_game()
    bot = ServantBot(1, g, np.random.default_rng(0))
    st = g.say(0, "I trust Player 4.", (Claim(DEFEND, (3,), MILD),))
    before = bot.p_evil(g)[3]
    bot.hear(g, st)
    assert bot.p_evil(g)[3] < before
    st = g.say(1, "x", ())  # the bot's own statement changes nothing
    bot.hear(g, st)
    st = g.say(2, "Player 2 is evil.", (Claim(ACCUSE, (1,), STRONG),))
    before = bot.p_evil(g)[2]
    bot.hear(g, st)
    assert bot.p_evil(g)[2] > before  # accusing me, who I know is loyal, is suspicious


def test_assassin_spots_an_open_accuser() -> None:
    g = new_game()
    g.say(0, "I'm convinced Player 4 is evil.", (Claim(ACCUSE, (3,), STRONG),))
    g.say(1, "I'd like a team of Players 2 and 4.", (Claim(ENDORSE, (1, 3), MILD),))
    scores = merlin_scores(g)
    assert set(scores) == {0, 1, 2}
    assert scores[0] > scores[1] and scores[0] > scores[2]


def test_speech_templates_parse_back_to_their_claims() -> None:
    for (kind, strength), templates in TEMPLATES.items():
        for t in templates:
            targets = (1, 3) if kind == ENDORSE else (2,)
            text = t.format(p="Player 3", team="Players 2 and 4")
            claims = parse_claims(text)
            assert claims == (Claim(kind, targets, strength),), text
    for t in NEUTRAL:
        assert parse_claims(t) == ()


def test_parse_free_text_claims() -> None:
    assert parse_claims("Players 2 and 5 are evil; but I trust Player 1.") == (
        Claim(ACCUSE, (1, 4), STRONG),
        Claim(DEFEND, (0,), MILD),
    )
    assert parse_claims("Player 3 is not evil.") == (Claim(DEFEND, (2,), MILD),)
    assert parse_claims("Let's keep Player 4 off the team.")[0].kind == ACCUSE
    assert parse_claims("I am Merlin.")[0].kind == "reveal_merlin"
    assert parse_claims("Nice weather in Camelot.") == ()


# ---- setup files ---------------------------------------------------------------------------
def write(tmp_path: Path, data) -> Path:
    p = tmp_path / "setups.json"
    p.write_text(json.dumps(data))
    return p


GOOD_ENTRY = {"num_players": 5, "quest_leader": 0, "role_names": list(ROLES)}


@pytest.mark.parametrize(
    "entry, field",
    [
        ({**GOOD_ENTRY, "num_players": 6}, "num_players"),
        ({**GOOD_ENTRY, "role_names": ["Merlin", "Servant", "Servant", "Minion"]}, "role_names"),
        ({**GOOD_ENTRY, "role_names": ["Merlin", "Percival", "Servant", "Minion", "Assassin"]}, "Percival"),
        ({**GOOD_ENTRY, "role_names": ["Merlin", "Merlin", "Servant", "Minion", "Assassin"]}, "Merlin"),
        ({**GOOD_ENTRY, "quest_leader": 7}, "quest_leader"),
        ({"num_players": 5, "role_names": list(ROLES)}, "quest_leader"),
    ],
)
def test_bad_setup_files_name_file_and_field(tmp_path: Path, entry, field) -> None:
    p = write(tmp_path, [GOOD_ENTRY, entry])
    with pytest.raises(EnvError) as err:
        load_setups(p)
    msg = str(err.value)
    assert str(p) in msg and "[1]" in msg and field in msg


def test_setup_file_not_json_or_missing(tmp_path: Path) -> None:
    p = tmp_path / "bad.json"
    p.write_text("[{")
    with pytest.raises(EnvError, match="not valid JSON"):
        load_setups(p)
    with pytest.raises(EnvError, match="not found"):
        load_setups(tmp_path / "missing.json")
    with pytest.raises(EnvError, match="unknown role 'Mordred'"):
        validate_roles(["Mordred"] * 5, "here")


@pytest.mark.realdata
def test_real_avalonbench_setup_files() -> None:
    if not DATA.is_dir():
        pytest.skip(f"AvalonBench setups not staged at {DATA}")
    counts = {p.stem: len(load_setups(p)) for p in sorted(DATA.glob("*.json"))}
    assert counts == {"dev": 1, "dev_assassin": 5, "dev_merlin": 5, "dev_servant": 4}
    merlin = load_setups(DATA / "dev_merlin.json")
    assert all(s.roles[0] == "Merlin" and s.leader == 0 for s in merlin)
    assert all(s.roles[0] == "Assassin" and s.leader == 2 for s in load_setups(DATA / "dev_assassin.json"))
