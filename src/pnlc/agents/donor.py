"""The LLM donor: a skeptical persona prompt (prompts/persuasion_donor.txt) played by any LLM.

Same turn protocol as the simulated donor. A decision is the reply's last line `DONATION: $x.xx`;
a malformed or out-of-range line, or a missing one when the donor must decide, gets one re-ask,
after which $0 is recorded as a parse failure. The persuasion environment receives it through
`llm_donors`, a builder of one donor per episode.
"""

from __future__ import annotations

import copy
import functools
import logging
from typing import Any

from pnlc.data.prompts import load_prompt
from pnlc.envs.persuasion.donor import DonorBuilder, DonorReply, read_reply
from pnlc.envs.persuasion.summary import strip_donation_line
from pnlc.llm.base import LLM, Message, Request, assistant, user

log = logging.getLogger(__name__)

PROMPT_NAME = "persuasion_donor"

REASK_FINAL = (
    "Your reply must end with one final line of exactly the form DONATION: $x.xx, with an amount "
    "between $0.00 and $2.00. State your decision now."
)
REASK_MIDWAY = (
    "Your DONATION line could not be read. If you have decided, end your reply with one line of exactly "
    "the form DONATION: $x.xx, with an amount between $0.00 and $2.00; if not, reply without a DONATION line."
)


class LLMDonor:
    """One LLM-played donor for one episode. `llm` is any object with `complete(Request) -> Completion`."""

    def __init__(self, llm: LLM, persona: str, temperature: float, max_tokens: int) -> None:
        self.llm = llm
        self.persona = persona
        self.temperature = temperature
        self.max_tokens = max_tokens
        self.template = load_prompt(PROMPT_NAME)
        self.prompt_hash = self.template.sha256
        self.lines: list[str] = []
        self.calls = 0
        self.input_tokens = 0
        self.output_tokens = 0
        self.cost_usd = 0.0

    def __deepcopy__(self, memo: dict[int, Any]) -> "LLMDonor":
        """An environment clone continues the same dialogue on the same backend."""
        twin = copy.copy(self)
        twin.lines = list(self.lines)
        return twin

    def _complete(self, messages: tuple[Message, ...]) -> str:
        request = Request(
            messages=messages,
            temperature=self.temperature,
            max_tokens=self.max_tokens,
            tag="persuasion_donor",
        )
        completion = self.llm.complete(request)
        self.calls += 1
        self.input_tokens += completion.input_tokens
        self.output_tokens += completion.output_tokens
        self.cost_usd += completion.cost_usd
        return completion.text

    def respond(self, text: str, turn: int, max_turns: int) -> DonorReply:
        self.lines.append(f"Persuader: {text}")
        final = turn >= max_turns
        if final:
            instruction = (
                "That was the persuader's last message. Reply, and decide now: end with the DONATION line."
            )
        else:
            left = max_turns - turn
            instruction = (
                f"The persuader can send {left} more message{'s' if left != 1 else ''}. "
                "Write your reply as the donor."
            )
        prompt = self.template.render(persona=self.persona, dialogue="\n".join(self.lines), instruction=instruction)
        raw = self._complete((user(prompt),))
        reply = read_reply(raw, must_decide=final)
        if reply is None:
            log.info("donor reply at turn %d has no valid DONATION line; asking once more", turn)
            raw2 = self._complete((user(prompt), assistant(raw), user(REASK_FINAL if final else REASK_MIDWAY)))
            second = read_reply(raw2, must_decide=final)
            body = strip_donation_line(raw) or strip_donation_line(raw2)
            if second is None:
                log.warning("donor reply at turn %d unreadable after a re-ask; recording $0 (parse failure)", turn)
                reply = DonorReply(body, True, 0.0, parse_failure=True, reasked=True)
            else:
                reply = DonorReply(body, second.decided, second.donation, reasked=True)
        self.lines.append(f"You: {reply.text}")
        return reply


def llm_donors(llm: LLM, temperature: float, max_tokens: int) -> DonorBuilder:
    """The persuasion environment's donor builder: one `LLMDonor` per episode, all on `llm`."""
    return functools.partial(LLMDonor, llm, temperature=temperature, max_tokens=max_tokens)
