"""Content-addressed response cache (record / replay / off) that makes every LLM run replayable.

A response is stored under the sha256 of a canonical JSON of the backend, the model and the full
request (system, messages, temperature, max_tokens, stop, sample_index); the accounting `tag` is
not part of the key. Each entry is one JSON file `<cache_dir>/<k[:2]>/<k>.json` written to a
temporary file and renamed into place, so several processes (Snakemake jobs) can record into the
same directory at once: a reader sees a whole entry or none, and two writers of the same key leave
one entry. Nothing secret enters a key or an entry: requests and completions hold no credentials.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any, Iterator, Literal

from pnlc.llm.base import LLM, CacheMiss, Completion, LLMError, Request

log = logging.getLogger(__name__)

CACHE_FORMAT = 1
CacheMode = Literal["record", "replay", "off"]
CACHE_MODES: tuple[str, ...] = ("record", "replay", "off")


def canonical_request(backend: str, model: str, request: Request) -> dict[str, Any]:
    """The part of a call that determines its response, as plain JSON."""
    return {
        "format": CACHE_FORMAT,
        "backend": backend,
        "model": model,
        "system": request.system,
        "messages": [[m.role, m.content] for m in request.messages],
        "temperature": float(request.temperature),
        "max_tokens": int(request.max_tokens),
        "stop": list(request.stop),
        "sample_index": int(request.sample_index),
        **({"pattern": request.pattern} if request.pattern else {}),
    }


def request_key(backend: str, model: str, request: Request) -> str:
    """sha256 hex digest of the canonical request JSON."""
    blob = json.dumps(
        canonical_request(backend, model, request), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


class ResponseCache:
    """One JSON file per request key under `cache_dir`; safe for concurrent writers."""

    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.cache_dir = Path(cache_dir)

    def path_for(self, key: str) -> Path:
        return self.cache_dir / key[:2] / f"{key}.json"

    def get(self, key: str) -> Completion | None:
        """The stored completion for `key`, or None. A damaged entry is an error naming its file."""
        path = self.path_for(key)
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        try:
            entry = json.loads(raw)
            return Completion(**entry["completion"])
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise LLMError(
                f"{path}: damaged response-cache entry ({exc}); delete the file to record it again"
            ) from None

    def put(self, key: str, request: dict[str, Any], completion: Completion) -> Path:
        """Store an entry atomically (write a temp file in the same folder, then rename)."""
        path = self.path_for(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        entry = {"key": key, "request": request, "completion": asdict(completion)}
        data = json.dumps(entry, sort_keys=True, ensure_ascii=False, indent=1)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return path

    def keys(self) -> Iterator[str]:
        """Keys of all complete entries (temporary files are skipped)."""
        if not self.cache_dir.is_dir():
            return
        for path in sorted(self.cache_dir.glob("??/*.json")):
            yield path.stem

    def __len__(self) -> int:
        return sum(1 for _ in self.keys())


class CachedLLM:
    """Wrap an LLM with a `ResponseCache`.

    mode `record`: return the stored response when present (from_cache=True, cost 0), else call the
    backend and store its response. `replay`: never call the backend; a miss raises `CacheMiss`.
    `off`: pass every call through and store nothing.

    Thread-safe. In `record` mode identical requests made at once by concurrent episodes are sent
    once: the others wait for that answer and read it from the cache, so every episode sees the
    response the cache keeps (what a replay gives) and nothing is paid for twice.
    """

    def __init__(self, llm: LLM, cache: ResponseCache, mode: str) -> None:
        if mode not in CACHE_MODES:
            raise ValueError(f"cache mode {mode!r} is not one of {', '.join(CACHE_MODES)}")
        self.inner = llm
        self.cache = cache
        self.mode = mode
        self.backend = llm.backend
        self.model = llm.model
        self._lock = threading.Lock()
        self._sending: dict[str, tuple[threading.Lock, int]] = {}  # key -> (lock, waiting callers)
        self.hits = 0
        self.misses = 0

    def complete(self, request: Request) -> Completion:
        if self.mode == "off":
            return self.inner.complete(request)
        if request.pattern and not getattr(self.inner, "honours_pattern", False):
            request = replace(request, pattern="")  # ignored by the backend, so not part of what it answers
        key = request_key(self.backend, self.model, request)
        hit = self._hit(key)
        if hit is not None:
            return hit
        if self.mode == "replay":
            with self._lock:
                self.misses += 1
            raise CacheMiss(
                f"no recorded response in {self.cache.cache_dir} for a {self.backend}/{self.model} "
                f"request (key {key[:16]}, tag {request.tag or '-'}, sample_index {request.sample_index}); "
                "replay mode never calls the LLM: set llm.cache_mode to 'record' (needs the backend, "
                "e.g. ANTHROPIC_API_KEY) to fill the cache, or llm.cache_dir to a recorded cache"
            )
        with self._sending_lock(key):
            hit = self._hit(key)  # answered for another episode while this one waited
            if hit is not None:
                return hit
            with self._lock:
                self.misses += 1
            completion = self.inner.complete(request)
            self.cache.put(key, canonical_request(self.backend, self.model, request), completion)
            return completion

    def _hit(self, key: str) -> Completion | None:
        cached = self.cache.get(key)
        if cached is None:
            return None
        with self._lock:
            self.hits += 1
        return replace(cached, from_cache=True, cost_usd=0.0, latency_s=0.0, retries=0)

    @contextmanager
    def _sending_lock(self, key: str) -> Iterator[None]:
        """Held while `key` is being sent, so that one request is sent once at a time."""
        with self._lock:
            lock, users = self._sending.get(key, (threading.Lock(), 0))
            self._sending[key] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._lock:
                lock, users = self._sending[key]
                if users == 1:
                    del self._sending[key]
                else:
                    self._sending[key] = (lock, users - 1)
