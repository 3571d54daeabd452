"""AvalonEnv: the agent's seat, visibility, illegal actions, summaries, outcomes, determinism."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pnlc.agents.roles import DecisionContext
from pnlc.agents.sim.avalon import PARAMS_TYPE, make_sim_policy
from pnlc.config import build, load_params
from pnlc.data.jsonl import dumps
from pnlc.envs.avalon import OUTCOME_GOALS, AvalonConfig, AvalonEnv, make_env, parse_action
from pnlc.envs.avalon.bots import ServantBot
from pnlc.envs.avalon.game import Game
from pnlc.envs.avalon.rules import Setup
from pnlc.envs.base import Env, EnvError

REPO_PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
KNOBS = build(PARAMS_TYPE, load_params(REPO_PARAMS).raw["agents"]["sim"]["avalon"], "agents.sim.avalon")

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "avalon"


def config(**kw) -> AvalonConfig:
    base = dict(setup_file=None, agent_role="Merlin", agent_seat=None, n_train_tasks=50, n_test_tasks=10,
                discussion=True)
    base.update(kw)
    return AvalonConfig(**base)


def episode(env: AvalonEnv, kind: str, task: str, seed: int) -> dict:
    """Play one game with a simulated policy; return everything that was seen and done."""
    policy = make_sim_policy(env.cfg, kind, KNOBS)
    policy.begin_episode(task, seed)
    obs = env.reset(task, seed)
    steps = []
    history: tuple[tuple[str, str], ...] = ()
    while True:
        ctx = DecisionContext(env="avalon", observation=obs, summary=env.describe(), history=history)
        thought = policy.propose_thought(ctx)
        action = policy.act(ctx, thought)
        tr = env.step(action)
        steps.append({"obs": obs.text, "summary": ctx.summary, "thought": thought, "action": action,
                      "info": dict(tr.info), "reward": tr.reward})
        history += ((thought, action),)
        obs = tr.observation
        if tr.done:
            break
    return {"steps": steps, "final": obs.text, "summary": env.describe(), "outcome": dict(env.outcome()),
            "goals": dict(env.goal_outcomes()), "metric": env.metric()}


def test_protocol_and_tasks() -> None:
    env = make_env(config())
    assert isinstance(env, Env) and env.name == "avalon"
    train, test = env.tasks("train"), env.tasks("test")
    assert len(train) == 50 and len(test) == 10 and not set(train) & set(test)
    assert train[42] == "train-00042" and test[7] == "test-00007"
    with pytest.raises(EnvError, match="outside the test split"):
        env.reset("test-00010", 0)
    with pytest.raises(EnvError, match="unknown Avalon task id"):
        env.reset("dev-1", 0)
    with pytest.raises(EnvError, match="unknown split"):
        env.tasks("valid")
    with pytest.raises(EnvError, match="agent_role"):
        make_env(config(agent_role="Percival"))
    with pytest.raises(EnvError, match="agent_seat"):
        make_env(config(agent_seat=6))


def test_same_seed_same_bytes_and_seeds_matter() -> None:
    env = make_env(config())
    a = dumps(episode(env, "prior", "train-00003", 11))
    b = dumps(episode(make_env(config()), "prior", "train-00003", 11))
    c = dumps(episode(env, "prior", "train-00003", 12))
    d = dumps(episode(env, "prior", "test-00003", 11))
    assert a.encode() == b.encode()
    assert a != c and a != d


def test_merlin_sees_evil_and_the_action_grammar() -> None:
    env = make_env(config(agent_seat=2))
    obs = env.reset("train-00000", 5)
    g = env.game
    assert env.agent == 1 and g.roles[1] == "Merlin"
    evil = sorted(s + 1 for s in g.evil)
    assert obs.view["known_evil"] == evil and obs.view["role"] == "Merlin"
    assert f"You know that Players {evil[0]} and {evil[1]} are evil" in obs.text
    for form in ("say[", "propose[", "vote[approve]", "vote[reject]", "quest[success]", "assassinate["):
        assert form in obs.text
    assert obs.view["decision"] == "say" and "Reply with say[<your words>]" in obs.text


def test_servant_never_sees_an_evil_role() -> None:
    for seed in range(6):
        env = make_env(config(agent_role="Servant"))
        obs = env.reset(f"train-{seed:05d}", seed)
        evil = [s + 1 for s in env.game.evil]
        policy = make_sim_policy(env.cfg, "prior", KNOBS)
        policy.begin_episode("t", seed)
        while True:
            assert obs.view["known_evil"] == [] and "roles" not in obs.view
            assert "You know that" not in obs.text and "partner" not in obs.text
            assert "Roles:" not in obs.text
            for e in evil:
                assert not re.search(rf"Player {e} \((Minion|Assassin)\)", obs.text)
            summary = env.describe()
            assert "evil Player" not in summary
            ctx = DecisionContext("avalon", obs, summary)
            tr = env.step(policy.act(ctx, policy.propose_thought(ctx)))
            obs = tr.observation
            if tr.done:
                break
        assert "Roles:" in obs.text and obs.view["roles"] == list(env.game.roles)  # revealed at the end


def test_evil_agent_knows_partner_and_plays_quest_cards() -> None:
    env = make_env(config(agent_role="Minion"))
    obs = env.reset("train-00001", 1)
    partner = env.game.assassin
    assert f"Your evil partner is Player {partner + 1} (Assassin)" in obs.text
    seen_quest = False
    for seed in range(8):
        result = episode(env, "prior", f"train-{seed:05d}", seed)
        seen_quest |= any(s["info"]["decision"] == "quest" for s in result["steps"])
    assert seen_quest


def test_good_agent_is_never_asked_for_a_quest_card() -> None:
    env = make_env(config())
    for seed in range(5):
        result = episode(env, "prior", f"train-{seed:05d}", seed)
        assert all(s["info"]["decision"] in ("say", "propose", "vote") for s in result["steps"])


def drive_to(env: AvalonEnv, kind: str, seed: int) -> None:
    """Reset and play safe moves until the agent must make a `kind` decision."""
    obs = env.reset(f"train-{seed:05d}", seed)
    while obs.view["decision"] != kind:
        d = obs.view["decision"]
        action = {"say": "say[Hello.]", "vote": "vote[reject]"}.get(d)
        if action is None:
            size = obs.view["team_size"]
            action = "propose[" + ",".join(str(i) for i in range(1, size + 1)) + "]"
        tr = env.step(action)
        assert not tr.done
        obs = tr.observation


@pytest.mark.parametrize(
    "decision, bad, default",
    [
        ("say", "vote[approve]", "say[I have nothing to add.]"),
        ("say", "", "say[I have nothing to add.]"),
        ("vote", "vote[maybe]", "vote[approve]"),
        ("vote", "say[I approve]", "vote[approve]"),
        ("propose", "propose[1,2,3,4]", None),
        ("propose", "propose[9,1]", None),
        ("propose", "I pick players 1 and 2", None),
    ],
)
def test_illegal_action_applies_the_recorded_default(decision: str, bad: str, default: str | None) -> None:
    env = make_env(config(agent_seat=1))
    for seed in range(40):
        try:
            drive_to(env, decision, seed)
        except AssertionError:
            continue
        break
    twin = env.clone()
    tr = env.step(bad)
    assert tr.info["valid"] is False and tr.info["error"]
    assert tr.info["decision"] == decision
    if default is not None:
        assert tr.info["action"] == default
    ok = twin.step(tr.info["action"])
    assert ok.info["valid"] is True
    assert ok.observation.text == tr.observation.text  # the default is exactly a legal move
    assert env.invalid_actions == 1


def test_step_after_the_end_is_an_error() -> None:
    env = make_env(config())
    episode(env, "prior", "train-00000", 0)
    with pytest.raises(EnvError, match="game is over"):
        env.step("vote[approve]")
    with pytest.raises(EnvError, match="reset"):
        make_env(config()).step("say[hi]")


def test_outcomes_of_a_played_game_are_consistent() -> None:
    env = make_env(config())
    for seed in range(8):
        r = episode(env, "prior", f"train-{seed:05d}", seed)
        goals, out = r["goals"], r["outcome"]
        assert set(goals) == set(OUTCOME_GOALS)
        assert goals["Good wins the game."] == out["good_win"] != goals["Evil wins the game."]
        assert r["metric"] == (1.0 if out["agent_win"] else 0.0) == r["steps"][-1]["reward"]
        assert goals["Merlin is assassinated."] == (out["assassinated"] is True)
        assert goals["Merlin survives the assassination."] == (out["assassinated"] is False)
        for n in range(1, 6):
            played = n <= len(out["quests"])
            assert goals[f"Quest {n} succeeds."] == (played and out["quests"][n - 1] == "success")
            assert goals[f"Quest {n} fails."] == (played and out["quests"][n - 1] == "fail")
        assert goals["Three quests fail."] == (out["quests"].count("fail") == 3)
        assert all(s["reward"] == 0.0 for s in r["steps"][:-1])


def finished(env: AvalonEnv, fails: list[bool], target: int | None) -> AvalonEnv:
    """Put a scripted finished game (seats: Merlin 0, Servants 1-2, Minion 3, Assassin 4) into env."""
    env.reset("train-00000", 0)
    g = Game(Setup(("Merlin", "Servant", "Servant", "Minion", "Assassin"), 0), discussion=False)
    for failed in fails:
        g.propose(g.pending.seat, (0, 3) if g.team_size == 2 else (0, 1, 3))
        while g.pending.kind == "vote":
            g.vote(g.pending.seat, True)
        while g.pending is not None and g.pending.kind == "quest":
            g.play(g.pending.seat, not (failed and g.pending.seat == 3))
    if target is not None:
        g.assassinate(4, target)
    env.game, env.agent = g, 0
    return env


def test_win_conditions_in_outcomes_and_final_summary() -> None:
    env = finished(make_env(config()), [True, False, True, True], None)
    goals = env.goal_outcomes()
    assert goals["Three quests fail."] and goals["Evil wins the game."] and goals["Quest 2 succeeds."]
    assert not goals["Quest 5 fails."] and not goals["Quest 5 succeeds."]  # never played
    assert not goals["Merlin is assassinated."] and not goals["Merlin survives the assassination."]
    assert env.outcome()["assassinated"] is None and env.metric() == 0.0
    assert env.describe().startswith("Evil failed three quests: evil wins.")
    assert "Quest 1 failed with evil Player 4 on the team." in env.describe()

    env = finished(make_env(config()), [False, True, False, False], 0)
    assert env.goal_outcomes()["Merlin is assassinated."] and env.metric() == 0.0
    assert env.describe().startswith("Good won three quests; the Assassin named Player 1, who was Merlin: evil wins.")
    assert env.outcome()["quests"] == ["success", "fail", "success", "success"]

    env = finished(make_env(config()), [False, False, False], 2)
    goals = env.goal_outcomes()
    assert goals["Good wins the game."] and goals["Merlin survives the assassination."]
    assert goals["Three quests succeed."] and not goals["Quest 4 fails."] and not goals["Quest 4 succeeds."]
    assert env.metric() == 1.0 and env.outcome()["good_win"] is True
    assert env.describe().startswith("Good won three quests; the Assassin named Player 3, a Servant: good wins.")


def test_outcome_before_the_end_is_an_error() -> None:
    env = make_env(config())
    env.reset("train-00000", 0)
    for fn in (env.outcome, env.metric, env.goal_outcomes):
        with pytest.raises(EnvError, match="not finished"):
            fn()


def test_summary_reports_quests_and_the_agents_accusations() -> None:
    env = make_env(config(agent_seat=1))
    obs = env.reset("train-00002", 2)
    evil = min(env.game.evil)
    while obs.view["decision"] != "say":
        obs = env.step("vote[reject]").observation
    before = {b.seat: b.p_evil(env.game)[evil] for b in env.bots.values() if isinstance(b, ServantBot)}
    env.step(f"say[I'm convinced Player {evil + 1} is evil.]")
    assert f"You openly accused evil Player {evil + 1} once." in env.describe()
    after = {s: env.bots[s].p_evil(env.game)[evil] for s in before}
    assert before and all(after[s] > before[s] for s in before)  # the servants listened


def test_clone_is_independent() -> None:
    env = make_env(config())
    obs = env.reset("train-00004", 4)
    twin = env.clone()
    env.step("say[I trust Player 2.]")
    assert twin.observe(twin.agent).text == obs.text
    assert twin.step("say[I trust Player 2.]").observation.text == env.observe(env.agent).text
    # the history's records are immutable, so a clone shares them; the lists that hold them are its own
    again = env.clone()
    assert again.game.statements == env.game.statements and again.game.statements is not env.game.statements
    assert all(a is b for a, b in zip(again.game.statements, env.game.statements))
    before = (list(env.game.statements), list(env.game.proposals), dict(env.game._votes))
    again.game.statements.append(again.game.statements[0])
    again.game.proposals.append(None)
    again.game._votes[0] = True
    assert (env.game.statements, env.game.proposals, env.game._votes) == before


class Garbage:
    def act(self, observation) -> str:
        return "I refuse to play."


def test_external_seat_players_and_defaults() -> None:
    env = make_env(config(agent_seat=1), seat_players={2: Garbage()})
    r = episode(env, "prior", "train-00000", 0)
    assert r["outcome"]["winner"] in ("good", "evil")
    assert 'Player 2 said: "I have nothing to add."' in r["final"]


def test_parse_action() -> None:
    assert parse_action("Thought: x\nAction: vote[approve]").kind == "vote"
    a = parse_action("say[I think [really] so]")
    assert (a.kind, a.arg) == ("say", "I think [really] so")
    assert parse_action("vote approve") is None


@pytest.mark.realdata
@pytest.mark.parametrize(
    "name, role, seat, leader",
    [("dev_merlin", "Merlin", 1, 1), ("dev_servant", "Servant", 1, 1), ("dev_assassin", "Assassin", 1, 3),
     ("dev", "Merlin", 4, 1)],
)
def test_real_setup_files_drive_roles_and_leader(name: str, role: str, seat: int, leader: int) -> None:
    path = DATA / f"{name}.json"
    if not path.exists():
        pytest.skip(f"AvalonBench setups not staged at {DATA}")
    env = make_env(config(setup_file=str(path), agent_role=role))
    obs = env.reset("train-00000", 0)
    assert obs.view["player"] == seat and obs.view["role"] == role
    assert env.game.proposals[0].leader + 1 == leader if env.game.proposals else obs.view["leader"] == leader
    result = episode(env, "prior", "train-00001", 1)
    assert result["outcome"]["agent_role"] == role


@pytest.mark.realdata
def test_setup_file_seat_mismatch_is_a_clear_error() -> None:
    path = DATA / "dev_merlin.json"
    if not path.exists():
        pytest.skip(f"AvalonBench setups not staged at {DATA}")
    with pytest.raises(EnvError) as err:
        make_env(config(setup_file=str(path), agent_role="Merlin", agent_seat=2))
    assert str(path) in str(err.value) and "role_names" in str(err.value)


def test_without_discussion_the_agent_only_votes_and_proposes() -> None:
    env = make_env(config(discussion=False))
    for seed in range(4):
        r = episode(env, "prior", f"train-{seed:05d}", seed)
        assert {s["info"]["decision"] for s in r["steps"]} <= {"propose", "vote"}
        assert "said:" not in r["final"]


def test_external_player_cannot_take_the_agents_seat() -> None:
    env = make_env(config(agent_seat=3), seat_players={3: Garbage()})
    with pytest.raises(EnvError, match="seat_players"):
        env.reset("train-00000", 0)


def test_assassin_agent_names_merlin() -> None:
    env = make_env(config(agent_role="Assassin"))
    policy = make_sim_policy(env.cfg, "prior", KNOBS)
    for seed in range(40):
        policy.begin_episode("t", seed)
        obs = env.reset(f"train-{seed:05d}", seed)
        while not obs.view["done"] and obs.view["decision"] != "assassinate":
            ctx = DecisionContext("avalon", obs, env.describe())
            obs = env.step(policy.act(ctx, policy.propose_thought(ctx))).observation
        if obs.view["decision"] == "assassinate":
            break
    else:
        pytest.fail("no game reached the assassination")
    assert "assassinate[n]" in obs.text and "Good has won three quests; the Assassin must now name Merlin." in env.describe()
    twin = env.clone()
    partner = env.game.roles.index("Minion") + 1
    tr = env.step(f"assassinate[{partner}]")  # evil cannot be named: the default guess is recorded
    assert tr.done and tr.info["valid"] is False and tr.info["action"].startswith("assassinate[")
    merlin = twin.game.merlin + 1
    tr = twin.step(f"assassinate[{merlin}]")
    assert tr.done and tr.info["valid"] and twin.goal_outcomes()["Merlin is assassinated."]
    assert twin.metric() == 1.0  # the Assassin's side won


def test_declared_complements_hold_exactly_one_in_every_game() -> None:
    """COMPLEMENTARY_OUTCOMES is what the critic answers as P(A) + P(not A) = 1: a wrong pair
    would force a sum of one onto events that can fail together."""
    from pnlc.envs.avalon import COMPLEMENTARY_OUTCOMES

    env = make_env(config())
    seen = set()
    for seed in range(12):
        goals = episode(env, "prior", f"train-{seed:05d}", seed)["goals"]
        for a, b in COMPLEMENTARY_OUTCOMES:
            assert goals[a] != goals[b], (a, b, seed)
        seen.add((goals["Good wins the game."], goals["Three quests succeed."]))
    assert len(seen) >= 2  # the games end both ways
    declared = {g for pair in COMPLEMENTARY_OUTCOMES for g in pair}
    assert declared <= set(OUTCOME_GOALS)
    # never played, or no assassination when evil wins on failures: both sentences can be false
    for g in ("Quest 4 fails.", "Quest 4 succeeds.", "Quest 5 succeeds.", "Merlin is assassinated."):
        assert g not in declared
