"""One gate per backend and process that every request passes before it is sent.

When the API answers any request with `retry-after` (a 429 rate limit, a 529 overload), the
backend `pause`s the gate: every thread's next request to that backend then waits until the pause
is over, not only the request that was told to wait. A thread that already slept out the pause it
set itself passes without waiting again.
"""

from __future__ import annotations

import threading
import time
from typing import Callable


class RequestGate:
    """Thread-safe shared pause. `wait()` blocks until no pause is in force; `pause(s)` extends it."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._resume_at = float("-inf")
        self.pauses = 0  # how many responses asked for a pause
        self.waits = 0  # how many requests were held back by a pause

    @property
    def resume_at(self) -> float:
        with self._lock:
            return self._resume_at

    def pause(self, seconds: float) -> float:
        """Hold every next request for `seconds` from now (a later pause already set stays);
        returns the clock time at which this pause ends."""
        until = self._clock() + max(0.0, float(seconds))
        with self._lock:
            self.pauses += 1
            self._resume_at = max(self._resume_at, until)
        return until

    def wait(self, slept_until: float = float("-inf")) -> float:
        """Block until the pause in force has ended; seconds waited. `slept_until`: the end of a
        pause the caller has already slept out itself (it does not wait for that one again)."""
        waited = 0.0
        counted = False
        while True:
            with self._lock:
                resume_at = self._resume_at
                if resume_at <= slept_until:
                    return waited
                remaining = resume_at - self._clock()
                if remaining <= 0:
                    return waited
                if not counted:
                    self.waits += 1
                    counted = True
            self._sleep(remaining)
            waited += remaining
