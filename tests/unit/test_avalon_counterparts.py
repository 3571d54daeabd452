"""`env.avalon.counterparts: llm`: the job's LLM plays every seat but the agent's, each from its own
seat's view; `bots` (the default) leaves the game as it was; a simulated backend has no LLM to seat."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from pnlc.agents.runner import play_policy
from pnlc.agents.sim.avalon import PARAMS_TYPE, make_sim_policy
from pnlc.config import ConfigError, build, params_from_dict
from pnlc.envs.avalon import AvalonConfig
from pnlc.envs.avalon import make_env as make_avalon
from pnlc.envs.base import EnvError
from pnlc.llm.base import Completion, Request
from pnlc.pipeline.factory import make_env

REPO_PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
SAID = "Player {n} has listened carefully."
_PLAYER = re.compile(r"You are Player (\d)\.")
_DECISION = re.compile(r"Your decision: (speak|you lead|vote|you are on the team|good has won)")
_EXAMPLE = re.compile(r"e\.g\. (propose\[[\d,]+\])")


class ScriptedCounterpartLLM:
    """A fake chat model: a thought, then an action fitting the decision its seat is asked for.

    Every seat rejects every team and says a line naming itself, so the game shows whose moves these
    were. When the request ends in an assistant message (an answer prefill such as "Thought:"), the
    reply is the rest of that line, as a model continuing it would write.
    """

    backend = "scripted"
    model = "scripted-counterpart"

    def __init__(self) -> None:
        self.calls_by_player: dict[int, int] = {}
        self.observations: dict[int, list[str]] = {}

    def complete(self, request: Request) -> Completion:
        text = "\n".join(m.content for m in request.messages if m.role == "user")
        player = int(_PLAYER.findall(text)[-1])
        self.calls_by_player[player] = self.calls_by_player.get(player, 0) + 1
        self.observations.setdefault(player, []).append(text)
        if request.tag == "propose_thought":
            full = "Thought: Trust nobody until the quests show who is evil."
        else:
            full = f"Action: {self._action(text, player)}"
        last = request.messages[-1]
        if last.role == "assistant" and full.startswith(last.content.strip()):
            full = full[len(last.content.strip()):].split("\n", 1)[0]
        return Completion(text=full, input_tokens=len(text.split()), output_tokens=len(full.split()),
                          model=self.model)

    @staticmethod
    def _action(text: str, player: int) -> str:
        decision = _DECISION.findall(text)[-1]
        if decision == "speak":
            return f"say[{SAID.format(n=player)}]"
        if decision == "you lead":
            return _EXAMPLE.findall(text)[-1]
        if decision == "vote":
            return "vote[reject]"
        if decision == "you are on the team":
            return "quest[fail]"
        return "assassinate[1]"


def params(backend: str, counterparts: str, agent_seat: int | None = None) -> Any:
    raw = yaml.safe_load(REPO_PARAMS.read_text(encoding="utf-8"))
    raw["backend"] = backend
    raw["env"]["avalon"].update(counterparts=counterparts, agent_seat=agent_seat)
    return params_from_dict(raw, "test params")


def sim_agent(p: Any, cfg: AvalonConfig) -> Any:
    knobs = build(PARAMS_TYPE, p.raw["agents"]["sim"]["avalon"], "agents.sim.avalon")
    return make_sim_policy(cfg, "prior", knobs)


@pytest.mark.parametrize("task, seed", [("test-00001", 3), ("train-00007", 11)])
def test_the_llm_plays_every_seat_but_the_agents(task: str, seed: int) -> None:
    p = params("anthropic", "llm")
    llm = ScriptedCounterpartLLM()
    env = make_env(p, "avalon", llm)
    play_policy(env, sim_agent(p, env.cfg), task, seed)
    out = env.outcome()
    assert out["winner"] in ("good", "evil")
    agent = out["agent_player"]
    others = {n for n in range(1, 6) if n != agent}
    assert set(llm.calls_by_player) == others  # the agent's seat (simulated here) never asks the LLM
    assert out["counterpart_calls"] == sum(llm.calls_by_player.values())
    for n in others:  # each seat reads its own role, never another's hidden one
        role = out["roles"][n - 1]
        assert all(f"You are Player {n}. Your role: {role}" in o for o in llm.observations[n])
    g = env.game
    spoken = {st.speaker + 1: st.text for st in g.statements if st.speaker + 1 != agent}
    assert spoken and all(text == SAID.format(n=n) for n, text in spoken.items())
    voted = [pr.votes for pr in g.proposals if pr.votes is not None]
    assert voted and all(not v[n - 1] for v in voted for n in others)  # the LLM's vote[reject], every time
    with pytest.raises(EnvError, match="seat_players"):
        env.reseed(0)  # LATS cannot redraw an LLM's moves


def test_each_episode_gets_fresh_seats_with_their_own_history() -> None:
    p = params("anthropic", "llm", agent_seat=1)
    env = make_env(p, "avalon", ScriptedCounterpartLLM())
    agent = sim_agent(p, env.cfg)
    play_policy(env, agent, "test-00002", 5)
    first = dict(env.seat_players)
    assert sorted(first) == [1, 2, 3, 4] and all(len(s.history) >= 2 for s in first.values())
    env.reset("test-00003", 6)
    assert all(env.seat_players[k] is not first[k] for k in first)
    assert all(len(s.history) <= 1 for s in env.seat_players.values())
    twin = env.clone()
    assert all(twin.seat_players[k] is env.seat_players[k] for k in env.seat_players)


def test_bots_is_the_rule_based_game_unchanged() -> None:
    p = params("sim", "bots")
    env = make_env(p, "avalon")
    assert env.cfg.counterparts == "bots" and env.seat_players == {}
    direct = make_avalon(AvalonConfig(setup_file=None, agent_role="Merlin", agent_seat=None, n_train_tasks=600,
                                      n_test_tasks=200, discussion=True))
    played = [play_policy(e, sim_agent(p, e.cfg), "train-00004", 9).observe(e.agent).text for e in (env, direct)]
    assert played[0] == played[1]
    assert "counterpart_calls" not in env.outcome()


def test_llm_counterparts_with_the_sim_backend_are_refused_naming_the_key() -> None:
    with pytest.raises(ConfigError, match=r"env\.avalon\.counterparts"):
        make_env(params("sim", "llm"), "avalon")


def test_unknown_counterparts_and_a_missing_builder_are_clear_errors() -> None:
    with pytest.raises(ConfigError, match="counterparts"):
        params("sim", "humans")
    cfg = AvalonConfig(setup_file=None, agent_role="Merlin", agent_seat=None, n_train_tasks=5, n_test_tasks=5,
                       discussion=True, counterparts="llm")
    with pytest.raises(EnvError, match="counterpart builder"):
        make_avalon(cfg)
    with pytest.raises(EnvError, match="counterparts must be one of"):
        AvalonConfig(None, "Merlin", None, 5, 5, True, "humans")
