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


def allowed_tokens(table: Any, pattern: str) -> Callable[[int, Any], list[int]]:
    """The `prefix_allowed_tokens_fn` for one generation: after the prompt, only tokens that keep the
    generated text on a path to a full match of `pattern`, and the end token once it matches."""
    from lmformatenforcer import RegexParser, TokenEnforcer

    enforcer = TokenEnforcer(table, RegexParser(pattern))
    return lambda _batch, ids: enforcer.get_allowed_tokens(ids.tolist()).allowed_tokens
