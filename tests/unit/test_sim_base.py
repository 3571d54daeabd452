"""The draft-keeping rule every simulated policy shares."""

from __future__ import annotations

from pnlc.agents.roles import DecisionContext, Draft
from pnlc.agents.sim.base import RefineKnobs, SimPolicyBase, value_score, warning
from pnlc.critic.render import parse_value, render_value
from pnlc.envs.base import Observation

KNOBS = RefineKnobs(worry_negative=0.5, worry_positive=0.3, min_gain=0.0)
CTX = DecisionContext(env="toy", observation=Observation("o"), summary="s")


class Reviser(SimPolicyBase):
    def __init__(self) -> None:
        super().__init__(KNOBS)
        self.asked: list[str] = []

    def revise(self, ctx, thought, warned, avoid):
        self.asked.append(warned.goal)
        return f"Avoid: {warned.goal}"


def value(p_good: float, p_bad: float) -> str:
    return render_value(["Good happens."], ["Bad happens."], [p_good, p_bad])


def test_a_warning_asks_for_a_revision_aimed_at_the_warned_outcome() -> None:
    policy = Reviser()
    assert policy.refine(CTX, "Plan A.", value(0.6, 0.7)) == "Avoid: Bad happens."
    assert policy.refine(CTX, "Plan A.", value(0.6, 0.2)) is None  # nothing worrying: accept
    assert policy.refine(CTX, "Plan A.", value(0.1, 0.2)) == "Avoid: Good happens."
    assert policy.refine(CTX, "Plan A.", value(0.6, 0.7), final=True) is None  # no unscored draft


def test_a_revision_is_kept_only_when_it_reads_better() -> None:
    policy = Reviser()
    first = Draft("Plan A.", value(0.6, 0.7))
    assert policy.refine(CTX, "Plan B.", value(0.6, 0.7), (first,)) == "Plan A."  # same value: go back
    assert policy.refine(CTX, "Plan B.", value(0.5, 0.9), (first,)) == "Plan A."  # worse: go back
    assert policy.refine(CTX, "Plan B.", value(0.7, 0.2), (first,)) is None  # better and fine: keep
    # better but still worrying: try again, never repeating a draft
    assert policy.refine(CTX, "Plan B.", value(0.7, 0.6), (first,)) == "Avoid: Bad happens."


def test_an_uninformative_critic_never_changes_the_first_draft() -> None:
    policy = Reviser()
    same = value(0.4, 0.8)
    drafts: tuple[Draft, ...] = ()
    thought = "Plan A."
    for final in (False, False, True):
        answer = policy.refine(CTX, thought, same, drafts, final)
        if answer is None or answer in {d.thought for d in drafts}:
            thought = answer or thought
            break
        drafts += (Draft(thought, same),)
        thought = answer
    assert thought == "Plan A."


def test_score_and_warning_read_the_rendered_lines() -> None:
    lines = parse_value(value(0.8, 0.3))
    assert abs(value_score(lines) - 0.5) < 1e-9
    assert warning(lines, KNOBS) is None
