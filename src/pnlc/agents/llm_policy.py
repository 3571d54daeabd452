"""The policy roles played by an LLM through the prompt files in `pnlc/prompts/`.

Every role renders a prompt file with named placeholders (a missing field is an error), sends it
under the system prompt `policy_system.txt` (with the environment's task description from
`policy_<env>_task.txt`), and parses the answer strictly in the ReAct format (`Thought: ...`, then
`Action: ...`). A malformed answer is re-asked once with `reask.txt`; a second malformed answer is
replaced by a safe default and counted as invalid (`invalid_count`, `invalid_by_role`). Token usage
is summed from the completions into `usage_total`; `prompt_hashes` holds the sha256 of every prompt
file the policy uses, for the episodes it plays.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence, TypeVar

from pnlc.agents.roles import DecisionContext, Draft, GoalSet
from pnlc.data.prompts import Prompt, PromptError, load_prompt
from pnlc.data.records import Usage
from pnlc.llm.base import LLM, Completion, Message, Request, assistant, user

log = logging.getLogger(__name__)

T = TypeVar("T")

ROLE_PROMPTS = (
    "summarize",
    "policy_system",
    "policy_context",
    "propose_thought",
    "act",
    "propose_goals",
    "refine",
    "estimate_goals",
    "estimate_value",
    "reflect",
    "reask",
)
SUMMARY_MAX_TOKENS = 200
"""Output limit of one annotator summary (one or two sentences)."""

DEFAULT_THOUGHT = "Continue with the task, one careful step at a time."
DEFAULT_POSITIVE = ("The task ends successfully.", "Clear progress towards the goal has been made.")
DEFAULT_NEGATIVE = ("The task ends in failure.", "No progress towards the goal has been made.")


class FormatError(ValueError):
    """An LLM answer does not follow the format its prompt asked for."""


def load_policy_prompts(env_name: str, directory: str | Path | None = None) -> dict[str, Prompt]:
    """The role prompts plus the environment's task description (`policy_<env>_task.txt`)."""
    prompts = {name: load_prompt(name, directory) for name in ROLE_PROMPTS}
    prompts["policy_task"] = load_prompt(f"policy_{env_name}_task", directory)
    return prompts


# --------------------------------------------------------------------------------------------- #
# Strict parsers: each returns the parsed value or raises FormatError saying what was expected.
# --------------------------------------------------------------------------------------------- #


def _tagged_line(text: str, tag: str) -> str:
    pattern = re.compile(rf"^\s*{tag}\s*:\s*(.*?)\s*$", re.IGNORECASE)
    for line in text.splitlines():
        m = pattern.match(line)
        if m:
            if not m.group(1):
                raise FormatError(f"the line starting with '{tag}:' is empty")
            return m.group(1)
    raise FormatError(f"no line starting with '{tag}:'")


def parse_thought(text: str) -> str:
    return _tagged_line(text, "Thought")


def parse_action(text: str) -> str:
    return _tagged_line(text, "Action")


def parse_refine(text: str, drafts: Sequence[str] = (), final: bool = False) -> str | None:
    """None for ACCEPT; an earlier draft's text for `DRAFT <k>` (1-based, as numbered in the prompt);
    else the new thought (not allowed on the final round)."""
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if lines and re.fullmatch(r"\**ACCEPT\**\.?", lines[0], re.IGNORECASE):
        return None
    m = re.fullmatch(r"\**DRAFT\s*(\d+)\**\.?", lines[0], re.IGNORECASE) if lines else None
    if m:
        k = int(m.group(1))
        if not 1 <= k <= len(drafts):
            raise FormatError(f"DRAFT {k} does not exist; earlier drafts are numbered 1 to {len(drafts)}")
        return drafts[k - 1]
    expected = "'ACCEPT'" + (" or 'DRAFT <number>'" if drafts else "")
    if final:
        raise FormatError(f"this is the final round: expected the line {expected}")
    try:
        return parse_thought(text)
    except FormatError:
        raise FormatError(f"expected the line {expected}, or a line starting with 'Thought:'") from None


def refine_texts(drafts: Sequence[Draft], final: bool) -> tuple[str, str]:
    """The earlier drafts with their values, and the answer instruction, as the refine prompt shows them."""
    shown = "".join(
        f"Draft {i}: {d.thought}\nThe critic's estimates for draft {i}:\n{d.value_text}\n\n" for i, d in enumerate(drafts, 1)
    )
    back = (
        "To go back to an earlier draft instead, answer with exactly one line:\nDRAFT <number>\n" if drafts else ""
    )
    if final:
        instruction = (
            "This is the final round. If you keep this thought, answer with exactly one line:\nACCEPT\n" + back
        ).rstrip("\n")
    else:
        instruction = (
            "If the thought is good as it is, answer with exactly one line:\nACCEPT\n"
            + back
            + "Otherwise write an improved thought that makes the positive outcomes more likely and the negative "
            "outcomes less likely, as exactly one line:\nThought: <improved thought>"
        )
    return (f"Earlier drafts for this decision:\n\n{shown}Current draft:\n" if drafts else ""), instruction


_BULLET = re.compile(r"^\s*(?:[-*•]|\d+[.)])\s+(.+?)\s*$")


def parse_goals(text: str, n_pos: int, n_neg: int) -> GoalSet:
    sections: dict[str, list[str]] = {"positive": [], "negative": []}
    current: str | None = None
    for line in text.splitlines():
        head = re.sub(r"[*_#:\s]+", " ", line).strip().lower()  # "**Positive:**" -> "positive"
        if head in ("positive", "positive outcomes"):
            current = "positive"
            continue
        if head in ("negative", "negative outcomes"):
            current = "negative"
            continue
        m = _BULLET.match(line)
        if m and current is not None:
            sections[current].append(m.group(1))
    pos, neg = sections["positive"], sections["negative"]
    if len(pos) < n_pos or len(neg) < n_neg:
        raise FormatError(
            f"expected {n_pos} lines starting with '- ' under 'Positive:' and {n_neg} under 'Negative:', "
            f"found {len(pos)} and {len(neg)}"
        )
    return GoalSet(tuple(pos[:n_pos]), tuple(neg[:n_neg]))


_PROB = r"(0(?:\.\d+)?|1(?:\.0+)?|\.\d+)"


def parse_probabilities(text: str, n: int) -> list[float]:
    found: dict[int, float] = {}
    pattern = re.compile(rf"^\s*(\d+)\s*[:.)]\s*{_PROB}\s*$")
    for line in text.splitlines():
        m = pattern.match(line)
        if m:
            found.setdefault(int(m.group(1)), float(m.group(2)))
    missing = [i for i in range(1, n + 1) if i not in found]
    if missing:
        raise FormatError(f"expected lines '<number>: <probability between 0 and 1>' for 1..{n}; missing {missing}")
    return [found[i] for i in range(1, n + 1)]


def parse_value(text: str) -> float:
    raw = _tagged_line(text, "Value")
    m = re.fullmatch(_PROB, raw)
    if not m:
        raise FormatError(f"'Value:' must be followed by a probability between 0 and 1, got {raw!r}")
    return float(raw)


def parse_reflection(text: str) -> str:
    return _tagged_line(text, "Reflection")


def parse_summary(text: str) -> str:
    return _tagged_line(text, "Summary")


# --------------------------------------------------------------------------------------------- #


@dataclass(frozen=True)
class LLMPolicyConfig:
    """How the policy's requests are made.

    temperature    sampling temperature of every role (> 0 lets best_of_n and lats draw distinct
                   thoughts; repeated identical requests get distinct `sample_index`es either way)
    max_tokens     output limit of one line of a role's answer (an answer of several lines, the
                   outcomes or their probabilities, may use this many tokens per line)
    history_turns  most recent (thought, action) turns of the agent shown in each prompt
    prefill        start the assistant turn with the start its format fixes ("Thought:", ...)
    """

    temperature: float
    max_tokens: int
    history_turns: int
    prefill: bool

    def __post_init__(self) -> None:
        if not 0.0 <= self.temperature <= 2.0:
            raise ValueError(f"llm policy: temperature must be in [0, 2], got {self.temperature!r}")
        if self.max_tokens < 1:
            raise ValueError(f"llm policy: max_tokens must be >= 1, got {self.max_tokens!r}")
        if self.history_turns < 0:
            raise ValueError(f"llm policy: history_turns must be >= 0, got {self.history_turns!r}")


_LINE = r"[^\s][^\n]*"  # the free text of a one-line answer (unbounded: a bounded repeat makes the
# constraint walk a large automaton at every token)
_PROBABILITY = r"(0(\.[0-9]{1,3})?|1(\.0{1,3})?|\.[0-9]{1,3})"

ANSWER_FORMS: dict[str, tuple[str, tuple[str, ...]]] = {
    "propose_thought": ("Thought:", ("\n",)),
    "act": ("Action:", ("\n",)),
    "propose_goals": ("Positive:\n-", ()),
    "refine": ("", ()),
    "estimate_goals": ("1:", ()),
    "estimate_value": ("Value:", ("\n",)),
    "reflect": ("Reflection:", ("\n",)),
    "summarize": ("Summary:", ("\n",)),
}
"""Per role: the start of the answer its format fixes (written into the assistant turn when
`prefill` is on, so the model continues the format instead of choosing how to begin) and the stop
strings that end a one-line answer. The refine answer has three forms, so nothing is fixed."""


def answer_pattern(role: str, prefill: bool, n_pos: int = 0, n_neg: int = 0, n_goals: int = 0,
                   n_drafts: int = 0, final: bool = False) -> str:
    """The regular expression of a role's answer as the model writes it (after the prefilled start
    when `prefill` is on): what a backend that constrains decoding keeps the answer to. Every string
    it matches is one the role's parser accepts."""
    if role == "propose_goals":
        lines = ["Positive:"] + [f"- {_LINE}"] * n_pos + ["Negative:"] + [f"- {_LINE}"] * n_neg
        whole = "\n".join(lines)
    elif role == "estimate_goals":
        whole = "\n".join(f"{i}: {_PROBABILITY}" for i in range(1, n_goals + 1))
    elif role == "estimate_value":
        whole = f"Value: {_PROBABILITY}"
    elif role == "refine":
        choices = ["ACCEPT"] + ([f"DRAFT ({'|'.join(str(k) for k in range(1, n_drafts + 1))})"] if n_drafts else [])
        whole = "(" + "|".join(choices + ([] if final else [f"Thought: {_LINE}"])) + ")"
    else:
        tag = {"propose_thought": "Thought", "act": "Action", "reflect": "Reflection", "summarize": "Summary"}[role]
        whole = f"{tag}: {_LINE}"
    start = ANSWER_FORMS[role][0] if prefill else ""
    if not whole.startswith(start):
        raise ValueError(f"{role}: the answer pattern does not begin with the prefilled start {start!r}")
    return whole[len(start):]


@dataclass
class FormStats:
    """How one role's answers came back: asked, well formed at once, well formed when re-asked, and
    replaced by the default after two malformed answers."""

    asked: int = 0
    first_ok: int = 0
    reask_ok: int = 0
    defaulted: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"asked": self.asked, "first_ok": self.first_ok, "reask_ok": self.reask_ok, "defaulted": self.defaulted}


class _Asker:
    """One request → parse; a malformed answer is re-asked once (with the parse error), then replaced
    by a default. With `prefill`, the assistant turn starts with the role's fixed answer prefix."""

    def __init__(self, llm: LLM, reask: Prompt, prefill: bool = True) -> None:
        self.llm = llm
        self.reask = reask
        self.prefill = prefill
        self.usage_total = Usage()
        self.invalid_count = 0
        self.invalid_by_role: dict[str, int] = {}
        self.forms: dict[str, FormStats] = {}
        self._samples: dict[tuple[str, str, str], int] = {}

    def reset_samples(self) -> None:
        self._samples.clear()

    def _complete(self, request: Request) -> Completion:
        c = self.llm.complete(request)
        self.usage_total = self.usage_total + Usage(
            calls=1,
            input_tokens=c.input_tokens,
            output_tokens=c.output_tokens,
            cached_tokens=c.cached_tokens,
            cost_usd=c.cost_usd,
            seconds=c.latency_s,
        )
        return c

    def ask(
        self,
        role: str,
        system: str,
        prompt: str,
        parse: Callable[[str], T],
        default: Callable[[], T],
        temperature: float,
        max_tokens: int,
        shape: Mapping[str, Any] | None = None,
    ) -> T:
        """`shape`: what the role's answer pattern depends on (answer_pattern's keyword arguments)."""
        key = (role, system, prompt)
        index = self._samples.get(key, 0)
        self._samples[key] = index + 1
        start, stop = ANSWER_FORMS.get(role, ("", ()))
        if not self.prefill:
            start = ""
        shape = dict(shape or {})
        pattern = answer_pattern(role, self.prefill, **shape)
        lines = shape.get("n_pos", 0) + shape.get("n_neg", 0) + shape.get("n_goals", 0)
        max_tokens *= max(1, lines)
        stats = self.forms.setdefault(role, FormStats())
        stats.asked += 1
        messages: tuple[Message, ...] = (user(prompt),)
        for attempt in (0, 1):
            request = Request(
                messages=messages + ((assistant(start),) if start else ()),
                system=system,
                temperature=temperature,
                max_tokens=max_tokens,
                stop=stop,
                pattern=pattern,
                sample_index=index,
                tag=role,
            )
            text = _continued(start, self._complete(request).text)
            try:
                value = parse(text)
            except FormatError as err:
                if attempt == 0:
                    log.debug("%s: malformed answer (%s); asking again", role, err)
                    messages = messages + (assistant(text), user(self.reask.render(problem=str(err))))
                    continue
                log.warning("%s: malformed answer twice (%s); using the safe default", role, err)
            else:
                if attempt == 0:
                    stats.first_ok += 1
                else:
                    stats.reask_ok += 1
                return value
        stats.defaulted += 1
        self.invalid_count += 1
        self.invalid_by_role[role] = self.invalid_by_role.get(role, 0) + 1
        return default()


def _continued(start: str, text: str) -> str:
    """The whole answer: the prefilled start and the model's continuation of it (a space between
    them when the continuation does not begin with whitespace and the start ends with ':' or '-').
    A continuation that writes the start again is the whole answer."""
    if not start or text.lstrip().startswith(start):
        return text
    if text and not text[0].isspace() and start[-1] in ":-":
        return f"{start} {text}"
    return start + text


def _bullets(items: Sequence[str], empty: str) -> str:
    return "\n".join(f"- {x}" for x in items) if items else empty


class LLMPolicy:
    """The acting LLM in the seat of the agent (implements `pnlc.agents.roles.Policy`)."""

    def __init__(
        self,
        llm: LLM,
        env_name: str,
        config: LLMPolicyConfig,
        prompts: Mapping[str, Prompt] | None = None,
    ) -> None:
        self.llm = llm
        self.env_name = env_name
        self.config = config
        self.prompts = dict(prompts) if prompts is not None else load_policy_prompts(env_name)
        missing = [n for n in (*ROLE_PROMPTS, "policy_task") if n not in self.prompts]
        if missing:
            raise PromptError(f"LLMPolicy for {env_name}: prompts missing: {', '.join(missing)}")
        self.name = f"llm-{getattr(llm, 'model', 'unknown')}"
        self.backend = str(getattr(llm, "backend", "llm"))
        self.model = str(getattr(llm, "model", ""))
        task = self.prompts["policy_task"].render()
        self._system = self.prompts["policy_system"].render(task_description=task.strip())
        self._asker = _Asker(llm, self.prompts["reask"], config.prefill)

    # -- accounting read by MeteredPolicy ---------------------------------------------------------
    @property
    def usage_total(self) -> Usage:
        return self._asker.usage_total

    @property
    def invalid_count(self) -> int:
        return self._asker.invalid_count

    @property
    def invalid_by_role(self) -> dict[str, int]:
        return dict(self._asker.invalid_by_role)

    @property
    def answer_forms(self) -> dict[str, FormStats]:
        return dict(self._asker.forms)

    @property
    def prompt_hashes(self) -> dict[str, str]:
        hashes = {name: p.sha256 for name, p in self.prompts.items() if name != "policy_task"}
        task = self.prompts["policy_task"]
        hashes[task.name] = task.sha256
        return hashes

    # -- helpers -----------------------------------------------------------------------------------
    def _context(self, ctx: DecisionContext) -> str:
        turns = ctx.history[-self.config.history_turns :] if self.config.history_turns else ()
        history = "\n".join(f"Thought: {t}\nAction: {a}" for t, a in turns) or "(none yet)"
        return self.prompts["policy_context"].render(
            summary=ctx.summary or "(nothing yet)",
            observation=ctx.observation.text,
            history=history,
            notes=_bullets(ctx.notes, "(none)"),
        )

    def _ask(
        self, role: str, parse: Callable[[str], T], default: Callable[[], T], shape: Mapping[str, Any] | None = None,
        **values: object,
    ) -> T:
        prompt = self.prompts[role].render(**values)
        return self._asker.ask(
            role, self._system, prompt, parse, default, self.config.temperature, self.config.max_tokens, shape
        )

    # -- the Policy protocol -------------------------------------------------------------------------
    def begin_episode(self, task_id: str, seed: int) -> None:
        """LLM sampling is not seeded here; repeated requests are told apart by their sample index."""
        self._asker.reset_samples()

    def propose_thought(self, ctx: DecisionContext) -> str:
        return self._ask("propose_thought", parse_thought, lambda: DEFAULT_THOUGHT, context=self._context(ctx))

    def act(self, ctx: DecisionContext, thought: str) -> str:
        # The default is the empty action: the environment answers it as invalid with its own safe move.
        return self._ask("act", parse_action, lambda: "", context=self._context(ctx), thought=thought)

    def propose_goals(self, ctx: DecisionContext, thought: str, n_pos: int, n_neg: int) -> GoalSet:
        def default() -> GoalSet:
            return GoalSet(
                tuple(DEFAULT_POSITIVE[i % len(DEFAULT_POSITIVE)] for i in range(n_pos)),
                tuple(DEFAULT_NEGATIVE[i % len(DEFAULT_NEGATIVE)] for i in range(n_neg)),
            )

        return self._ask(
            "propose_goals",
            lambda text: parse_goals(text, n_pos, n_neg),
            default,
            {"n_pos": n_pos, "n_neg": n_neg},
            context=self._context(ctx),
            thought=thought,
            n_pos=n_pos,
            n_neg=n_neg,
        )

    def refine(
        self, ctx: DecisionContext, thought: str, value_text: str, drafts: Sequence[Draft] = (), final: bool = False
    ) -> str | None:
        shown, instruction = refine_texts(drafts, final)
        earlier = [d.thought for d in drafts]
        return self._ask(
            "refine",
            lambda text: parse_refine(text, earlier, final),
            lambda: None,
            {"n_drafts": len(drafts), "final": final},
            context=self._context(ctx),
            thought=thought,
            value_text=value_text,
            drafts=shown,
            instruction=instruction,
        )

    def estimate_goals(self, ctx: DecisionContext, thought: str, goals: Sequence[str]) -> list[float]:
        numbered = "\n".join(f"{i}. {g}" for i, g in enumerate(goals, 1))
        return self._ask(
            "estimate_goals",
            lambda text: parse_probabilities(text, len(goals)),
            lambda: [0.5] * len(goals),
            {"n_goals": len(goals)},
            context=self._context(ctx),
            thought=thought,
            goals=numbered,
        )

    def estimate_value(self, ctx: DecisionContext) -> float:
        return self._ask("estimate_value", parse_value, lambda: 0.5, context=self._context(ctx))

    def reflect(self, conduct: str, result: str) -> str:
        return self._ask("reflect", parse_reflection, lambda: "", conduct=conduct, result=result)

    def summarize_state(self, observation_text: str) -> str:
        """The annotation phase's summary of an observation (the same request, so the same answer
        from the response cache): the state text of a critic trained on LLM summaries."""
        return self._asker.ask(
            "summarize", "", self.prompts["summarize"].render(observation=observation_text), parse_summary,
            lambda: _summary_default(observation_text), 0.0, self.config.max_tokens,
        )


class Summarizer:
    """The LLM annotator: an outcome-style description of an interaction so far (`summarize.txt`)."""

    def __init__(
        self, llm: LLM, prompt: Prompt | None = None, max_tokens: int = SUMMARY_MAX_TOKENS, prefill: bool = True
    ) -> None:
        self.prompt = prompt if prompt is not None else load_prompt("summarize")
        self.max_tokens = max_tokens
        self._asker = _Asker(llm, load_prompt("reask"), prefill)

    @property
    def prompt_hash(self) -> str:
        return self.prompt.sha256

    @property
    def usage_total(self) -> Usage:
        return self._asker.usage_total

    @property
    def invalid_count(self) -> int:
        return self._asker.invalid_count

    @property
    def answer_forms(self) -> dict[str, FormStats]:
        return dict(self._asker.forms)

    def __call__(self, observation_text: str) -> str:
        return self._asker.ask(
            "summarize",
            "",
            self.prompt.render(observation=observation_text),
            parse_summary,
            lambda: _summary_default(observation_text),
            0.0,
            self.max_tokens,
        )


def _summary_default(observation_text: str) -> str:
    """The raw record, shortened: the truthful fallback when no summary could be read."""
    return " ".join(observation_text.split())[-300:]


def summarize(llm: LLM, observation_text: str) -> str:
    """One outcome-style summary of `observation_text` (deterministic request: temperature 0)."""
    return Summarizer(llm)(observation_text)
