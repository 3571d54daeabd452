"""An LLM-backed policy can take any non-agent Avalon seat and plays only from that seat's view."""

from pathlib import Path

from pnlc.agents.llm_policy import LLMPolicy, LLMPolicyConfig
from pnlc.agents.seat import PolicySeat
from pnlc.agents.sim.avalon import PARAMS_TYPE, make_sim_policy
from pnlc.agents.runner import play_policy
from pnlc.config import build, load_params
from pnlc.envs.avalon import make_env
from pnlc.envs.avalon.config import AvalonConfig
from pnlc.llm.base import Completion, Request

REPO_PARAMS = Path(__file__).resolve().parents[2] / "params.yaml"
KNOBS = build(PARAMS_TYPE, load_params(REPO_PARAMS).raw["agents"]["sim"]["avalon"], "agents.sim.avalon")


class RecordingLLM:
    """Answers every role with a fixed, well-formed reply and keeps the prompts it was shown."""

    backend = "scripted"
    model = "script-1"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def complete(self, request: Request) -> Completion:
        text = "\n".join(m.content for m in request.messages)
        self.prompts.append(request.system + "\n" + text)
        if request.tag == "propose_thought":
            reply = "Thought: Support the proposal to look cooperative."
        elif "vote[" in text and "Your decision: vote" in text:
            reply = "Action: vote[approve]"
        else:
            reply = "Action: say[I have no strong opinion yet.]"
        return Completion(text=reply, input_tokens=len(text.split()), output_tokens=len(reply.split()), model=self.model)


def test_llm_policy_plays_a_servant_seat_without_seeing_evil_roles():
    cfg = AvalonConfig(setup_file=None, agent_role="Merlin", agent_seat=1, n_train_tasks=5,
                       n_test_tasks=5, discussion=True)
    llm = RecordingLLM()
    seat = PolicySeat(LLMPolicy(llm, "avalon", LLMPolicyConfig(temperature=0.7, max_tokens=64, history_turns=4, prefill=False)), "avalon")
    env = make_env(cfg, seat_players={2: seat})
    play_policy(env, make_sim_policy(cfg, "prior", KNOBS), "test-00001", 3)
    assert env.outcome()["winner"] in ("good", "evil")
    assert llm.prompts, "the seat was never asked to act"
    roles = env.outcome()["roles"]
    assert roles[1] == "Servant"  # with this seed Player 2 is a Servant
    observations = [p.split("Current observation:", 1)[1] for p in llm.prompts]
    assert all("You are Player 2. Your role: Servant (good)." in o for o in observations)
    assert all("You do not know who is evil." in o for o in observations)
    for o in observations:  # public speech may accuse anyone; no line reveals a hidden role
        assert "Minion" not in o and "Assassin)" not in o and "evil partner" not in o
    # a new game starts the seat's own history afresh (it may already have spoken in the new game)
    played = len(seat.history)
    assert played >= 3
    env.reset("test-00002", 4)
    assert len(seat.history) <= 1 < played
