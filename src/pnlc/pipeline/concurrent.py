"""Episodes of one job played concurrently (`llm.concurrency`), their records kept in order.

Every episode is played by its own environment, policy and agent, built afresh for it, so no
random stream, sample counter or usage total is shared between threads; the job's one LLM (with
its response cache, spend guard and request gate) and its critic are shared. Records come back in
the order of the plan whatever order the episodes finish in, so a shard or evaluation file is the
same bytes at any concurrency (for a deterministic backend), and a torn run leaves a prefix of
complete episodes that the next run resumes after.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Sequence, TypeVar

T = TypeVar("T")
R = TypeVar("R")

QUEUED_PER_THREAD = 4
"""Episodes started ahead of the oldest unfinished one, per thread: room for finished episodes to
wait for a slow predecessor without leaving threads idle."""


def in_order(items: Iterable[T], play: Callable[[T], R], concurrency: int) -> Iterator[R]:
    """`play(item)` for every item, up to `concurrency` at a time on threads, yielded in item order.

    concurrency 1 plays in the calling thread. When an episode fails, the episodes before it are
    still yielded, those not yet started are dropped, and its error is raised."""
    if concurrency < 1:
        raise ValueError(f"concurrency must be >= 1, got {concurrency}")
    if concurrency == 1:
        for item in items:
            yield play(item)
        return
    from concurrent.futures import Future, ThreadPoolExecutor

    todo = iter(items)
    window = QUEUED_PER_THREAD * concurrency
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="episode") as pool:
        pending: deque[Future[R]] = deque()
        try:
            for item in todo:
                pending.append(pool.submit(play, item))
                if len(pending) >= window:
                    break
            while pending:
                result = pending.popleft().result()
                for item in todo:
                    pending.append(pool.submit(play, item))
                    break
                yield result
        finally:
            for future in pending:
                future.cancel()


class CriticSeat:
    """One episode's hold on a critic shared by concurrent episodes: calls take turns on a lock
    (the critic keeps embedding state between calls), and `total_ms` counts this episode's calls
    only, as the decision traces read it."""

    def __init__(self, critic: Any, lock: threading.Lock) -> None:
        self._critic = critic
        self._lock = lock
        self.total_ms = 0.0

    def __getattr__(self, name: str) -> Any:
        return getattr(self._critic, name)

    def _timed(self, method: str, *args: Any) -> Any:
        with self._lock:
            before = self._critic.total_ms
            result = getattr(self._critic, method)(*args)
            self.total_ms += self._critic.total_ms - before
        return result

    def score(self, state_summary: str, thoughts: Sequence[str], goals: Sequence[str]) -> Any:
        return self._timed("score", state_summary, thoughts, goals)

    def score_scalar(self, state_summary: str, thoughts: Sequence[str]) -> Any:
        return self._timed("score_scalar", state_summary, thoughts)
