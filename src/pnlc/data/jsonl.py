"""Atomic JSONL and NPZ IO with readers that name the file and line of a bad record."""

from __future__ import annotations

import json
import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TypeVar

from pnlc.data.records import RecordError, to_dict

T = TypeVar("T")


class CorruptRecordError(ValueError):
    """A JSONL line is not valid JSON or not a valid record; the message names file:line."""


@contextmanager
def atomic_path(path: str | os.PathLike[str], suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to `path`; rename it over `path` only if the block succeeds."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=f".tmp{suffix}", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        # mkstemp creates the file private (0600); give it the permissions a plain open() would.
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)
        os.replace(tmp_path, target)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def dumps(record: Any) -> str:
    """One JSONL line (no newline) for a record or a plain mapping; keys sorted for stable bytes."""
    data = record if isinstance(record, dict) else to_dict(record)
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def write_jsonl(path: str | os.PathLike[str], records: Iterable[Any]) -> int:
    """Write all records atomically; return how many were written."""
    n = 0
    with atomic_path(path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            for rec in records:
                fh.write(dumps(rec) + "\n")
                n += 1
    return n


def append_jsonl(path: str | os.PathLike[str], record: Any) -> None:
    """Append one complete line and flush it to disk.

    A crash can leave at most a truncated last line, which `count_complete` ignores and
    `truncate_incomplete` removes before resuming.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    line = (dumps(record) + "\n").encode("utf-8")
    try:
        with open(target, "ab") as fh:
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
    except OSError as exc:  # a full disk names no file by itself
        raise OSError(exc.errno, exc.strerror, str(target)) from None


def read_jsonl(path: str | os.PathLike[str], parse: Callable[[dict], T] | None = None) -> list[T]:
    """Read every record; a bad or truncated line raises CorruptRecordError naming file:line."""
    return list(iter_jsonl(path, parse))


def iter_jsonl(path: str | os.PathLike[str], parse: Callable[[dict], T] | None = None) -> Iterator[T]:
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"{p}: no such file; run the phase that produces it first")
    with open(p, "rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            if not raw.endswith(b"\n"):
                raise CorruptRecordError(
                    f"{p}:{lineno}: truncated record (no newline at end); delete the line or rerun "
                    "the phase to resume"
                )
            text = raw.decode("utf-8", errors="strict").strip()
            if not text:
                continue
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise CorruptRecordError(f"{p}:{lineno}: not valid JSON ({exc.msg}); delete the line or regenerate the file") from None
            if parse is None:
                yield data
                continue
            try:
                yield parse(data)
            except (RecordError, TypeError, ValueError) as exc:
                raise CorruptRecordError(f"{p}:{lineno}: {exc}") from None


def count_complete(path: str | os.PathLike[str]) -> int:
    """Number of complete, valid JSON lines at the start of a shard (0 if absent)."""
    p = Path(path)
    if not p.exists():
        return 0
    n = 0
    with open(p, "rb") as fh:
        for raw in fh:
            if not raw.endswith(b"\n"):
                break
            try:
                json.loads(raw)
            except json.JSONDecodeError:
                break
            n += 1
    return n


def truncate_incomplete(path: str | os.PathLike[str], limit: int | None = None) -> int:
    """Cut a shard back to its complete lines (after a crash), and to at most `limit` of them when
    given (a file written in step with another); return how many remain."""
    p = Path(path)
    if not p.exists():
        return 0
    keep = count_complete(p)
    if limit is not None:
        keep = min(keep, limit)
    with open(p, "rb") as fh:
        lines = fh.readlines()[:keep]
    data = b"".join(lines)
    if data != p.read_bytes():
        with atomic_path(p) as tmp:
            tmp.write_bytes(data)
    return keep


def save_npz(path: str | os.PathLike[str], **arrays: Any) -> None:
    """Write a compressed NPZ atomically."""
    import numpy as np

    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
