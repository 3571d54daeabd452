"""The persuasion environment: the agent persuades a skeptical donor to give part of a $2 bonus.

The agent is the persuader. Each step is one persuader message, answered by the donor; the episode
ends when the donor decides (agrees, refuses or leaves) or after `max_turns` persuader messages, when
the donor must decide. The donation is read from the donor's `DONATION: $x.xx` line, never from
free text. Reward: the donation on the final step, 0 before.
"""

from __future__ import annotations

import copy
import logging
from typing import Any, Mapping

import numpy as np

from pnlc.envs.base import EnvError, Observation, Transition
from pnlc.envs.persuasion.config import PersuasionConfig
from pnlc.envs.persuasion.donor import Donor, DonorBuilder, DonorReply, read_reply
from pnlc.envs.persuasion.donor_sim import SimDonor, persona_text, sample_persona
from pnlc.envs.persuasion.summary import (
    AGREES,
    AT_LEAST_ONE,
    DISENGAGES,
    DOUBTS_ANSWERED,
    MAX_DONATION,
    PRESSURED,
    REFUSES,
    STAYS_SKEPTICAL,
    WARMS_UP,
    Decision,
    DialogueTracker,
)

log = logging.getLogger(__name__)

ENV_NAME = "persuasion"
SPLITS = ("train", "test")

INTRO = (
    "You are the persuader in a chat study on a crowdsourcing platform. Your chat partner (the donor) has "
    "just earned a $2.00 task bonus. Persuade them to donate part of it to Save the Children, an "
    "international charity that helps children in developing countries with health care, education "
    "and safety. The donor decides how much to give (between $0.00 and $2.00) whenever they are ready, "
    "and must decide after your message number {max_turns}."
)


def make_env(cfg: PersuasionConfig, donor: DonorBuilder | None = None) -> "PersuasionEnv":
    """Build the environment; `donor` (builds each episode's donor from its persona text, e.g.
    `pnlc.agents.donor.llm_donors`) is required for donor='llm' and unused for donor='sim'."""
    return PersuasionEnv(cfg, donor)


def observation_text(
    dialogue: list[tuple[str, str]] | tuple[tuple[str, str], ...], turn: int, max_turns: int, closing: str | None
) -> str:
    """What an LLM persuader is shown: the task, the dialogue so far and the instruction for its turn.

    `dialogue` holds ("Persuader" | "Donor", text) pairs; `closing` is the decision sentence once the
    conversation is over, else None.
    """
    lines = [f"{'Persuader (you)' if who == 'Persuader' else 'Donor'}: {text}" for who, text in dialogue]
    body = "\n".join(lines) if lines else "(nothing yet; you speak first)"
    if closing is not None:
        tail = f"The conversation is over. {closing}"
    else:
        k = turn + 1
        tail = f"Your message {k} of {max_turns}. Write only what you say to the donor."
        if k == max_turns:
            tail += " This is your last message."
    return f"{INTRO.format(max_turns=max_turns)}\n\nDialogue so far:\n{body}\n\n{tail}"


def task_id(split: str, index: int) -> str:
    return f"donor-{split}-{index:04d}"


class PersuasionEnv:
    name = ENV_NAME

    def __init__(self, cfg: PersuasionConfig, donor: DonorBuilder | None = None) -> None:
        if cfg.donor == "llm" and donor is None:
            raise EnvError("PersuasionConfig.donor is 'llm' but no donor builder was given; pass one (an LLM donor)")
        if cfg.donor == "sim" and donor is not None:
            log.info("persuasion donor is 'sim'; the given donor builder is not used (set donor: llm to use it)")
            donor = None
        self.cfg = cfg
        self._make_donor = donor
        self._started = False
        self._reset_state()

    def _reset_state(self) -> None:
        self.task = ""
        self.seed = 0
        self.tracker = DialogueTracker()
        self.dialogue: list[tuple[str, str]] = []
        self.turn = 0
        self.done = False
        self.decision: Decision | None = None
        self.parse_failures = 0
        self.invalid_actions = 0
        self._donor: SimDonor | Donor | None = None

    # -- tasks ---------------------------------------------------------------------------------------

    def tasks(self, split: str) -> list[str]:
        if split not in SPLITS:
            raise EnvError(f"unknown split {split!r}; use one of {SPLITS}")
        n = self.cfg.n_train_tasks if split == "train" else self.cfg.n_test_tasks
        return [task_id(split, i) for i in range(n)]

    def _task_key(self, tid: str) -> tuple[int, int]:
        parts = tid.split("-")
        if len(parts) != 3 or parts[0] != "donor" or parts[1] not in SPLITS or not parts[2].isdigit():
            raise EnvError(f"unknown persuasion task id {tid!r}; expected e.g. {task_id('train', 0)!r}")
        split, index = parts[1], int(parts[2])
        n = self.cfg.n_train_tasks if split == "train" else self.cfg.n_test_tasks
        if index >= n:
            raise EnvError(f"task {tid!r} is outside the {split} split (n_{split}_tasks = {n})")
        return SPLITS.index(split), index

    # -- protocol ------------------------------------------------------------------------------------

    def reset(self, task_id: str, seed: int) -> Observation:
        split_code, index = self._task_key(task_id)
        if seed < 0:
            raise EnvError(f"seed must be >= 0, got {seed}")
        self._reset_state()
        self.task, self.seed = task_id, seed
        persona_rng, donor_rng = (
            np.random.default_rng(s) for s in np.random.SeedSequence([split_code, index, seed]).spawn(2)
        )
        persona = sample_persona(persona_rng)
        if self._make_donor is None:
            self._donor = SimDonor(persona, donor_rng)
        else:
            self._donor = self._make_donor(persona_text(persona))
        self._started = True
        return self._observation()

    def step(self, action: str) -> Transition:
        if not self._started:
            raise EnvError("step() before reset(); call reset(task_id, seed) first")
        if self.done:
            raise EnvError(f"step() after the episode ended ({self.task}, seed {self.seed}); call reset()")
        text = " ".join(str(action).split())
        valid = bool(text)
        if not valid:
            self.invalid_actions += 1
            text = "..."
        self.turn += 1
        strategies = self.tracker.persuader(text)
        self.dialogue.append(("Persuader", text))
        reply = self._donor_reply(text)
        self.dialogue.append(("Donor", reply.text))
        self.tracker.donor(reply.text)
        if reply.parse_failure:
            self.parse_failures += 1
        reward = 0.0
        if reply.decided:
            self.done = True
            kind = "parse_failure" if reply.parse_failure else "agreed" if reply.donation > 0 else "refused"
            sim_left = isinstance(self._donor, SimDonor) and self._donor.disengaged
            if reply.donation == 0 and not reply.parse_failure and (sim_left or self.tracker.attitude == "annoyed"):
                kind = "disengaged"
            self.decision = Decision(min(MAX_DONATION, max(0.0, reply.donation)), kind)
            reward = self.decision.donation
        info = {
            "valid": valid,
            "strategies": list(strategies),
            "donor_decided": reply.decided,
            "parse_failure": reply.parse_failure,
            "reasked": reply.reasked,
        }
        return Transition(self._observation(), reward, self.done, info)

    def _donor_reply(self, text: str) -> DonorReply:
        donor = self._donor
        if isinstance(donor, SimDonor):
            raw = donor.respond(text, self.turn, self.cfg.max_turns)
            reply = read_reply(raw, must_decide=self.turn >= self.cfg.max_turns)
            if reply is None:  # the simulated donor always writes a valid line
                raise EnvError(f"simulated donor wrote an unreadable decision: {raw!r}")
            return reply
        assert donor is not None
        return donor.respond(text, self.turn, self.cfg.max_turns)

    def _observation(self) -> Observation:
        closing = self.decision.sentence() if self.done and self.decision is not None else None
        text = observation_text(self.dialogue, self.turn, self.cfg.max_turns, closing)
        view = {
            "turn": self.turn,
            "max_turns": self.cfg.max_turns,
            "turns_left": self.cfg.max_turns - self.turn,
            "dialogue": tuple(self.dialogue),
            "last_donor_reply": self.dialogue[-1][1] if self.dialogue else "",
            "open_concern": self.tracker.open_concern,
            "concerns_voiced": tuple(self.tracker.voiced),
            "donor_attitude": self.tracker.attitude,
            "strategies_used": dict(self.tracker.strategy_counts),
            "asks": self.tracker.asks,
            "done": self.done,
            "donation": self.decision.donation if self.decision is not None else None,
        }
        return Observation(text=text, view=view)

    def describe(self) -> str:
        return self.tracker.summary(self.decision)

    def _require_done(self) -> Decision:
        if not self.done or self.decision is None:
            raise EnvError(f"episode {self.task!r} seed {self.seed} is not finished; step until done")
        return self.decision

    def outcome(self) -> Mapping[str, Any]:
        d = self._require_done()
        out: dict[str, Any] = {
            "donation": d.donation,
            "donated": d.donation > 0,
            "turns": self.turn,
            "parse_failure": d.kind == "parse_failure",
            "decision": d.kind,
            "disengaged": d.kind == "disengaged",
            "asks": self.tracker.asks,
            "early_ask": self.tracker.early_ask,
            "invalid_actions": self.invalid_actions,
            "donor": self.cfg.donor,
        }
        if self._donor is not None and not isinstance(self._donor, SimDonor):
            out.update(
                donor_calls=self._donor.calls,
                donor_input_tokens=self._donor.input_tokens,
                donor_output_tokens=self._donor.output_tokens,
                donor_cost_usd=self._donor.cost_usd,
            )
        return out

    def metric(self) -> float:
        return self._require_done().donation

    def goal_outcomes(self) -> Mapping[str, bool]:
        d = self._require_done()
        t = self.tracker
        return {
            AGREES: d.donation > 0,
            AT_LEAST_ONE: d.donation >= 1.0,
            DOUBTS_ANSWERED: bool(t.voiced) and t.open_concern is None,
            WARMS_UP: d.donation > 0 or t.attitude == "warming",
            REFUSES: d.donation == 0,
            DISENGAGES: d.kind == "disengaged",
            PRESSURED: t.early_ask,
            STAYS_SKEPTICAL: t.open_concern is not None,
        }

    @property
    def prompt_hashes(self) -> Mapping[str, str]:
        """Hashes of the prompt files this episode used (the LLM donor's)."""
        if self._donor is not None and not isinstance(self._donor, SimDonor):
            return {"persuasion_donor": self._donor.prompt_hash}
        return {}

    def reseed(self, seed: int) -> None:
        """Fresh randomness for the simulated donor from here on (its persona stays)."""
        if self._donor is None:
            raise EnvError("call reset(task_id, seed) before using the environment")
        if not isinstance(self._donor, SimDonor):
            raise EnvError("reseed: an LLM donor cannot be re-randomised; use donor: sim for Monte-Carlo rollouts")
        self._donor.rng = np.random.default_rng([int(seed), 0xD0])

    def clone(self) -> "PersuasionEnv":
        memo: dict[int, Any] = {}
        if self._make_donor is not None:
            memo[id(self._make_donor)] = self._make_donor  # share the builder (and its backend)
        return copy.deepcopy(self, memo)
