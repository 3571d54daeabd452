"""A spend ledger shared by processes: the calls and USD of every job that books on one file.

`llm.anthropic.spend_ledger` names a JSON file `{"calls": n, "spent_usd": x}`. Every job (every
process, on every node that sees the file) books each call on it under an exclusive lock on the
file `<ledger>.lock` (POSIX `flock`): the call's estimate when it is reserved, the difference to
the real cost when it is answered, the estimate back when it failed. The caps are then checked
against these totals, so they hold for all jobs together. The file is rewritten atomically; a job
killed during a call leaves its estimate booked (the totals err towards caution). Delete the file
to count from zero again.
"""

from __future__ import annotations

import json
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from pnlc.llm.base import LLMError


class SpendLedger:
    """Totals under `path`, read and written only inside `booking()` (threads and processes alike)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.lock_path = self.path.with_name(self.path.name + ".lock")
        self._thread_lock = threading.Lock()

    def _read(self) -> dict[str, float]:
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return {"calls": 0, "spent_usd": 0.0}
        try:
            data = json.loads(raw)
            return {"calls": int(data["calls"]), "spent_usd": float(data["spent_usd"])}
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise LLMError(
                f"{self.path}: damaged spend ledger ({exc}); it should hold {{\"calls\": n, \"spent_usd\": x}}. "
                "Fix or delete it (deleting counts the caps from zero again), or set "
                "llm.anthropic.spend_ledger: null for caps per job"
            ) from None

    @contextmanager
    def booking(self) -> Iterator[dict[str, float]]:
        """The current totals, locked against every other booking; changes made to the mapping in
        the block are written back when the block ends without an error."""
        import fcntl

        from pnlc.data import atomic_write_text

        with self._thread_lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.lock_path, "a", encoding="utf-8") as lock:
                fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
                try:
                    totals = self._read()
                    yield totals
                    atomic_write_text(self.path, json.dumps(totals, sort_keys=True) + "\n")
                finally:
                    fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def totals(self) -> tuple[int, float]:
        """(calls made or in flight, USD spent or held) as booked now."""
        with self.booking() as totals:
            return int(totals["calls"]), float(totals["spent_usd"])
