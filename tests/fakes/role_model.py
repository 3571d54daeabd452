"""A scripted model for FakeMessagesServer: it reads which role of pnlc's LLM policy a request is
for from the format instruction of its prompt (the prompt files in src/pnlc/prompts/) and answers
in that format, continuing the prefilled start of the answer when the request ends with an
assistant turn.

    with FakeMessagesServer(responder=RoleModel(malformed_every=7), faults=role_faults) as server: ...

Answers are a function of the request body alone (a hash of it picks among variants), so a rerun
of the same requests gets the same answers and a workflow run against it repeats byte for byte.
A chosen share of first answers is deliberately malformed (the policy re-asks), and a share of the
re-asks too (the policy then uses its default); `role_faults` makes a few first attempts fail with
429 (retry-after), 529 or a dropped connection, which the backend retries.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

REASK = "Your answer did not follow the required format"

# The format line each prompt file asks for, in the order they are tried (refine's context holds
# earlier "Thought:" lines, the act prompt the thought; neither holds another role's marker).
ROLE_MARKERS: tuple[tuple[str, str], ...] = (
    ("summarize", "Summary: <description>"),
    ("reflect", "Reflection: <lesson>"),
    ("estimate_value", "Value: <probability"),
    ("estimate_goals", "1: <probability>"),
    ("propose_goals", "Positive:\n- <positive outcome>"),
    ("refine", "ACCEPT"),
    ("act", "Action: <your action>"),
    ("propose_thought", "Thought: <your thought>"),
    ("donor", "DONATION: $x.xx"),
)
MALFORMED = "\nI am not sure how to answer that."


def digest(body: Any) -> int:
    """A stable number for a request: the sha256 of its canonical JSON."""
    blob = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return int(hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12], 16)


def role_of(prompt: str) -> str:
    """The role a first user message asks for, or "unknown"."""
    for role, marker in ROLE_MARKERS:
        if marker in prompt:
            return role
    return "unknown"


def _observation(prompt: str) -> str:
    m = re.search(r"Current observation:\n(.*?)\n\nYour earlier turns:", prompt, re.DOTALL)
    return m.group(1) if m else prompt


def act_for(observation: str, h: int) -> str:
    """An action of the form the observation asks for (not always a good or valid one)."""
    if observation.startswith("WebShop"):
        if "[Search]" in observation:
            instruction = observation.split("Instruction:", 1)[-1].split("[Search]")[0]
            words = re.findall(r"[a-z]+", instruction.lower())
            return "search[" + " ".join(words[3:3 + 4 + h % 3]) + "]"
        buttons = re.findall(r"(?<!\[)\[([^\[\]]+)\](?!\])", observation)
        items = [b for b in buttons if re.fullmatch(r"[A-Z0-9]{10}", b)]
        if items:
            return f"click[{items[h % len(items)]}]"
        if "Buy Now" in buttons and h % 3:
            return "click[Buy Now]"
        return f"click[{buttons[h % len(buttons)]}]" if buttons else "search[anything]"
    decision = observation.rsplit("Your decision:", 1)[-1] if "Your decision:" in observation else ""
    if decision:
        if "say[" in decision:
            return f"say[I think we should pick a team we can trust, round {h % 5}.]"
        if "assassinate[" in decision:
            return f"assassinate[{1 + h % 5}]"
        forms = re.findall(r"\b[a-z]+\[[0-9a-z,]+\]", decision)
        if forms:
            return forms[h % len(forms)]
    lines = (
        "Hello! Could you spare part of your bonus for Save the Children?",
        "Even a small donation pays for school supplies for a child.",
        "I understand your doubts; the charity publishes audited reports every year.",
    )
    return lines[h % len(lines)]


def answer_for(role: str, prompt: str, h: int) -> str:
    """A well-formed whole answer for `role`."""
    if role == "propose_thought":
        return f"Thought: Take the next sensible step towards the goal (plan {h % 4})."
    if role == "act":
        return f"Action: {act_for(_observation(prompt), h)}"
    if role == "propose_goals":
        m = re.search(r"Write (\d+) positive outcomes .*? and (\d+) negative outcomes", prompt)
        n_pos, n_neg = (int(m.group(1)), int(m.group(2))) if m else (2, 2)
        pos = ["The task has been completed successfully.", "Clear progress towards the goal has been made."]
        neg = ["The task has ended in failure.", "The other side has become suspicious."]
        lines = ["Positive:"] + [f"- {pos[i % 2]}" for i in range(n_pos)] + ["Negative:"]
        return "\n".join(lines + [f"- {neg[i % 2]}" for i in range(n_neg)])
    if role == "refine":
        if "This is the final round" in prompt or h % 3:
            return "ACCEPT"
        return "Thought: Be more careful and address the most likely problem first."
    if role == "estimate_goals":
        goals = re.findall(r"^(\d+)\. ", prompt.split("if you follow this thought.")[-1], re.MULTILINE)
        return "\n".join(f"{g}: {0.2 + 0.15 * ((h + int(g)) % 5):.2f}" for g in goals)
    if role == "estimate_value":
        return f"Value: {0.3 + 0.1 * (h % 5):.1f}"
    if role == "reflect":
        return "Reflection: Check the details before committing to the final move."
    if role == "summarize":
        tail = " ".join(prompt.split("Write an outcome-style description")[0].split()[-12:])
        return f"Summary: The interaction has reached this point: {tail}"
    if role == "donor":
        return "I am not convinced yet.\nDONATION: $0.50" if h % 2 else "Why should I trust this charity?"
    return "I do not know what is being asked."


class RoleModel:
    """The responder: `payload` (the request body) -> the text of the answer.

    `malformed_every`: one first answer in this many is malformed (0: none); `reask_malformed_every`:
    one re-ask in this many is malformed as well (0: none), so the policy falls back on its default.
    Counts what it answered per role and how many answers it malformed on purpose.
    """

    def __init__(self, malformed_every: int = 7, reask_malformed_every: int = 4) -> None:
        self.malformed_every = malformed_every
        self.reask_malformed_every = reask_malformed_every
        self.roles: dict[str, int] = {}
        self.malformed = 0
        self.malformed_reasks = 0

    def __call__(self, payload: dict[str, Any]) -> str:
        messages = payload.get("messages", [])
        prompt = next((m["content"] for m in messages if m["role"] == "user"), "")
        role = role_of(str(prompt))
        h = digest(payload)
        prefill = messages[-1]["content"] if messages and messages[-1]["role"] == "assistant" else ""
        reask = any(m["role"] == "user" and str(m["content"]).startswith(REASK) for m in messages)
        every = self.reask_malformed_every if reask else self.malformed_every
        self.roles[role] = self.roles.get(role, 0) + 1
        if role != "donor" and every and h % every == 0:
            if reask:
                self.malformed_reasks += 1
            else:
                self.malformed += 1
            return MALFORMED
        whole = answer_for(role, str(prompt), h)
        if prefill and whole.startswith(prefill) and h % 5:
            return whole[len(prefill):]  # the continuation; now and then the whole answer again
        return whole


def role_faults(payload: dict[str, Any], seen: int, every: int = 11) -> str:
    """The fault a request meets on its first attempt (`seen` == 0): one request in `every` fails
    once with 429, 529 or a dropped connection (by its hash); retries are answered."""
    h = digest(payload) // 7
    if seen or h % every:
        return "ok"
    return ("429", "529", "drop")[(h // every) % 3]
