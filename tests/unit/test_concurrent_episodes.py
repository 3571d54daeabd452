"""Episodes played on threads come back in plan order; a failure keeps the finished prefix."""

import threading
import time

import pytest

from pnlc.pipeline.concurrent import CriticSeat, in_order


def test_results_come_in_item_order_whatever_order_they_finish_in():
    running = []
    most = [0]
    lock = threading.Lock()

    def play(i):
        with lock:
            running.append(i)
            most[0] = max(most[0], len(running))
        time.sleep(0.02 * ((7 * i) % 5))  # later items often finish first
        with lock:
            running.remove(i)
        return i * i

    assert list(in_order(range(30), play, 6)) == [i * i for i in range(30)]
    assert most[0] == 6  # six at a time, never more
    assert list(in_order(range(5), play, 1)) == [0, 1, 4, 9, 16]


def test_a_failed_item_raises_after_the_items_before_it():
    def play(i):
        if i == 4:
            time.sleep(0.05)
            raise RuntimeError("episode 4 failed")
        return i

    got = []
    with pytest.raises(RuntimeError, match="episode 4"):
        for r in in_order(range(50), play, 4):
            got.append(r)
    assert got == [0, 1, 2, 3]


def test_concurrency_below_one_is_refused():
    with pytest.raises(ValueError, match="concurrency must be >= 1"):
        list(in_order([1], lambda x: x, 0))


class TickingCritic:
    goal_conditioned = True
    embedder_id = "enc"

    def __init__(self):
        self.total_ms = 0.0
        self.busy = False

    def score(self, state, thoughts, goals):
        assert not self.busy, "two calls inside the critic at once"
        self.busy = True
        time.sleep(0.005)
        self.total_ms += 5.0
        self.busy = False
        return [[0.5] * len(goals)] * len(thoughts)


def test_critic_seats_take_turns_and_count_their_own_time():
    critic, lock = TickingCritic(), threading.Lock()
    seats = [CriticSeat(critic, lock) for _ in range(4)]

    def play(seat):
        for _ in range(3):
            seat.score("s", ["t"], ["g"])
        return seat.total_ms

    assert list(in_order(seats, play, 4)) == [15.0] * 4
    assert critic.total_ms == 60.0 and seats[0].embedder_id == "enc" and seats[0].goal_conditioned
