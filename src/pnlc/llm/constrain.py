"""Constrained decoding for local models: each generated token must keep the answer a prefix of a
string that matches the request's regular expression (lm-format-enforcer's character-level regex
parser and token tree, through transformers' `prefix_allowed_tokens_fn` generation hook).

A 135M chat model rarely keeps to a multi-line answer format on its own; with the format as a
constraint it writes its own words into the format's slots. The token table is built once per
tokenizer (a few seconds for a 49k vocabulary)."""

from __future__ import annotations

from typing import Any, Callable


def token_table(tokenizer: Any) -> Any:
    """lm-format-enforcer's view of a transformers tokenizer: every regular token with its text as
    it reads after another token (so a word-start token keeps its leading space)."""
    from lmformatenforcer import TokenEnforcerTokenizerData

    zero = tokenizer.encode("0", add_special_tokens=False)[-1]
    special = set(tokenizer.all_special_ids)
    regular = []
    for index in range(len(tokenizer)):
        if index in special:
            continue
        after_zero = tokenizer.decode([zero, index])[1:]
        regular.append((index, after_zero, len(after_zero) > len(tokenizer.decode([index]))))

    def decode(ids: list[int]) -> str:
        return tokenizer.decode(ids).rstrip("\ufffd")  # an unfinished multi-byte character is not text yet

    return TokenEnforcerTokenizerData(regular, decode, tokenizer.eos_token_id, False, len(tokenizer))


def line_ending_tokens(table: Any) -> frozenset[int]:
    """The tokens whose text holds a line break."""
    return frozenset(index for index, text, _ in table.regular_tokens if "\n" in text)


def allowed_tokens(
    table: Any, pattern: str, tokenizer: Any = None, prompt_length: int = 0, max_line_chars: int = 0,
    line_ends: frozenset[int] = frozenset(),
) -> Callable[[int, Any], list[int]]:
    """The `prefix_allowed_tokens_fn` for one generation: after the prompt, only tokens that keep the
    generated text on a path to a full match of `pattern`, and the end token once it matches.

    With `max_line_chars`, a line of the answer that has grown that long may only be ended: of the
    allowed tokens, those that break the line (or the end token) where the pattern allows either.
    A small model otherwise runs one line on until the token limit cuts the rest of the format
    off; a bounded repeat in the pattern would do the same at several times the cost per token."""
    from lmformatenforcer import RegexParser, TokenEnforcer

    enforcer = TokenEnforcer(table, RegexParser(pattern))
    end = table.eos_token_id if isinstance(table.eos_token_id, int) else None

    def allowed(_batch: int, ids: Any) -> list[int]:
        sequence = ids.tolist()
        tokens = enforcer.get_allowed_tokens(sequence).allowed_tokens
        if max_line_chars and tokenizer is not None and len(sequence) > prompt_length:
            line = tokenizer.decode(sequence[prompt_length:]).rsplit("\n", 1)[-1]
            if len(line) >= max_line_chars:
                ending = [t for t in tokens if t in line_ends or t == end]
                if ending:
                    return ending
        return tokens

    return allowed
