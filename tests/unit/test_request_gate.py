"""The shared retry-after pause: one response's pause holds every thread's next request."""

import threading
import time

from pnlc.llm.limiter import RequestGate


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_a_pause_holds_the_next_request_until_it_ends_and_later_pauses_extend_it():
    clock = FakeClock()
    gate = RequestGate(clock=clock, sleep=clock.sleep)
    assert gate.wait() == 0.0 and clock.slept == []
    gate.pause(2.0)
    gate.pause(0.5)  # a shorter pause does not cut the longer one
    assert gate.wait() == 2.0 and clock.now == 102.0
    assert gate.wait() == 0.0 and (gate.pauses, gate.waits) == (2, 1)


def test_the_thread_that_slept_out_its_own_pause_does_not_wait_again():
    clock = FakeClock()
    gate = RequestGate(clock=clock, sleep=clock.sleep)
    until = gate.pause(1.0)
    assert gate.wait(slept_until=until) == 0.0  # its own backoff already covered the pause
    clock.now += 0.2
    gate.pause(3.0)  # another thread was told to wait longer meanwhile
    assert gate.wait(slept_until=until) == 3.0


def test_threads_blocked_by_a_pause_all_resume_after_it():
    gate = RequestGate()
    gate.pause(0.3)
    start = time.monotonic()
    resumed: list[float] = []

    def worker():
        gate.wait()
        resumed.append(time.monotonic() - start)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(resumed) == 4 and min(resumed) >= 0.29
