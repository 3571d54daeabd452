"""On-disk embedding cache (SQLite in WAL mode) and the deduplicating `CachedEmbedder`.

Rows are keyed by sha256(cache_id, text), so each distinct text is embedded once per encoder
across runs, and a different encoder never sees another's vectors. `cache_id` is the encoder's
`model_id` plus, where it has one, its runtime fingerprint (encoder code, torch version, CPU
kernels), so vectors cached before such a change are not served after it. Several processes may read and
write the same cache at once (WAL mode, busy timeout, INSERT OR IGNORE).
"""

from __future__ import annotations

import hashlib
import logging
import os
import sqlite3
import threading
import time
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from pnlc.embed.base import Embedder

log = logging.getLogger(__name__)

DB_NAME = "embeddings.sqlite"
_CHUNK = 500


def text_key(model_id: str, text: str) -> bytes:
    return hashlib.sha256(model_id.encode("utf-8") + b"\0" + text.encode("utf-8")).digest()


class EmbeddingCache:
    """SQLite store of float32 vectors under `<cache_dir>/embeddings.sqlite`."""

    def __init__(self, cache_dir: str | os.PathLike[str]) -> None:
        self.cache_dir = Path(cache_dir)
        self.path = self.cache_dir / DB_NAME
        self._conn: sqlite3.Connection | None = None
        self._pid = -1
        self._lock = threading.Lock()

    def _db(self) -> sqlite3.Connection:
        # a connection must not cross a fork: reopen in a child process
        if self._conn is None or self._pid != os.getpid():
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60.0, check_same_thread=False)
            deadline = time.monotonic() + 60.0
            while True:
                try:
                    # Switching a new file to WAL is not covered by the busy timeout: several
                    # processes opening a fresh cache at once can see "locked" and must wait.
                    conn.execute("PRAGMA journal_mode=WAL")
                    conn.execute("PRAGMA synchronous=NORMAL")
                    conn.execute(
                        "CREATE TABLE IF NOT EXISTS emb (key BLOB PRIMARY KEY, model_id TEXT NOT NULL, "
                        "dim INTEGER NOT NULL, vec BLOB NOT NULL)"
                    )
                    conn.commit()
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" in str(exc) and time.monotonic() < deadline:
                        time.sleep(0.05)
                        continue
                    conn.close()
                    raise RuntimeError(
                        f"{self.path}: not a usable embedding cache ({exc}); delete it to start a fresh cache"
                    ) from None
                except sqlite3.DatabaseError as exc:
                    conn.close()
                    raise RuntimeError(
                        f"{self.path}: not a usable embedding cache ({exc}); delete it to start a fresh cache"
                    ) from None
            self._conn, self._pid = conn, os.getpid()
        return self._conn

    def get_many(self, keys: Sequence[bytes], dim: int) -> dict[bytes, np.ndarray]:
        found: dict[bytes, np.ndarray] = {}
        with self._lock:
            db = self._db()
            for start in range(0, len(keys), _CHUNK):
                chunk = list(keys[start : start + _CHUNK])
                marks = ",".join("?" * len(chunk))
                for key, d, vec in db.execute(f"SELECT key, dim, vec FROM emb WHERE key IN ({marks})", chunk):
                    if d != dim:
                        raise RuntimeError(
                            f"{self.path}: cached vector has dim {d}, expected {dim}; delete the cache file"
                        )
                    found[bytes(key)] = np.frombuffer(vec, dtype=np.float32)
        return found

    def put_many(self, model_id: str, items: Iterable[tuple[bytes, np.ndarray]]) -> None:
        rows = [(k, model_id, int(v.shape[0]), np.ascontiguousarray(v, dtype=np.float32).tobytes()) for k, v in items]
        if not rows:
            return
        with self._lock:
            db = self._db()
            with db:
                db.executemany("INSERT OR IGNORE INTO emb (key, model_id, dim, vec) VALUES (?, ?, ?, ?)", rows)

    def count(self, model_id: str | None = None) -> int:
        with self._lock:
            db = self._db()
            if model_id is None:
                return int(db.execute("SELECT COUNT(*) FROM emb").fetchone()[0])
            return int(db.execute("SELECT COUNT(*) FROM emb WHERE model_id = ?", (model_id,)).fetchone()[0])

    def close(self) -> None:
        with self._lock:
            if self._conn is not None and self._pid == os.getpid():
                self._conn.close()
            self._conn = None


class CachedEmbedder:
    """Embed each distinct text once: deduplicate within a call and, with a cache_dir, across runs.

    `cache_dir=None` keeps only the in-call deduplication. Counters: `hits` (distinct texts found
    in the cache) and `misses` (distinct texts sent to the encoder).
    """

    def __init__(self, embedder: Embedder, cache_dir: str | os.PathLike[str] | None) -> None:
        self.inner = embedder
        self.model_id = embedder.model_id
        self.cache_id = getattr(embedder, "cache_id", embedder.model_id)
        self.dim = embedder.dim
        self.cache = EmbeddingCache(cache_dir) if cache_dir is not None else None
        self.hits = 0
        self.misses = 0

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        texts = list(texts)
        unique = list(dict.fromkeys(texts))
        keys = [text_key(self.cache_id, t) for t in unique]
        found = self.cache.get_many(keys, self.dim) if self.cache is not None else {}
        missing = [(k, t) for k, t in zip(keys, unique) if k not in found]
        if missing:
            vecs = np.asarray(self.inner.embed([t for _, t in missing]), dtype=np.float32)
            if vecs.shape != (len(missing), self.dim):
                raise RuntimeError(
                    f"encoder {self.model_id} returned shape {vecs.shape}, expected {(len(missing), self.dim)}"
                )
            new = {k: vecs[i] for i, (k, _) in enumerate(missing)}
            if self.cache is not None:
                self.cache.put_many(self.cache_id, new.items())
            found.update(new)
        self.hits += len(unique) - len(missing)
        self.misses += len(missing)
        row_of = {t: i for i, t in enumerate(unique)}
        table = np.stack([found[k] for k in keys]) if keys else np.zeros((0, self.dim), dtype=np.float32)
        return table[[row_of[t] for t in texts]] if texts else np.zeros((0, self.dim), dtype=np.float32)
