"""Usage accounting shared by every backend: a meter that sums completions, and a spend guard.

`UsageMeter` sums calls, tokens, cost and seconds over the completions it sees and hands out a
`pnlc.data.Usage`. `SpendGuard` holds a run's caps (USD and number of paid calls) and refuses a
call *before* it is made when the call would go past a cap. Cached responses cost nothing and never
reach a guard.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

from pnlc.data.records import Usage
from pnlc.llm.base import LLM, BudgetExceeded, Completion, Request

if TYPE_CHECKING:
    from pnlc.llm.ledger import SpendLedger

log = logging.getLogger(__name__)


def usage_of(completion: Completion) -> Usage:
    """The `Usage` of one completion (a cached completion counts as a call with zero cost)."""
    return Usage(
        calls=1,
        input_tokens=completion.input_tokens,
        output_tokens=completion.output_tokens,
        cached_tokens=completion.cached_tokens,
        cost_usd=completion.cost_usd,
        seconds=completion.latency_s,
    )


class UsageMeter:
    """Thread-safe running totals over completions; `usage` is a `pnlc.data.Usage` snapshot."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._usage = Usage()
        self._from_cache = 0
        self._retries = 0

    def add(self, completion: Completion) -> None:
        with self._lock:
            self._usage = self._usage + usage_of(completion)
            self._from_cache += int(completion.from_cache)
            self._retries += completion.retries

    @property
    def usage(self) -> Usage:
        with self._lock:
            return self._usage

    @property
    def from_cache(self) -> int:
        """How many of the counted completions came from the response cache."""
        with self._lock:
            return self._from_cache

    @property
    def retries(self) -> int:
        """Retried attempts summed over the counted completions."""
        with self._lock:
            return self._retries

    def reset(self) -> Usage:
        """Return the totals so far and start again from zero."""
        with self._lock:
            usage, self._usage = self._usage, Usage()
            self._from_cache = 0
            self._retries = 0
            return usage


class SpendGuard:
    """Caps for one run: `spend_cap_usd` (None = no cap) and `call_cap` (paid calls; None = no cap).

    Thread-safe. A call first `reserve`s its upper-end cost estimate: the reservation is refused
    with `BudgetExceeded` when the calls made plus those in flight, or the USD spent plus every
    in-flight estimate plus this one, would pass a cap; so concurrent calls never overshoot a cap
    by more than the in-flight estimates fall short of the real costs. The reservation is then
    settled with the real cost (`Reservation.charge`) or released when the call failed.
    `check(estimate)` asks the same question without reserving; `charge(cost)` books a call that
    was never reserved. The message always states calls made and USD spent.

    With a `ledger` (`pnlc.llm.ledger.SpendLedger`) every booking also goes to that file, and the
    caps are checked against its totals: the calls and USD of all processes booking on it.
    """

    def __init__(self, spend_cap_usd: float | None, call_cap: int | None, ledger: "SpendLedger | None" = None) -> None:
        if spend_cap_usd is not None and spend_cap_usd < 0:
            raise ValueError(f"spend_cap_usd must be >= 0 or None, got {spend_cap_usd}")
        if call_cap is not None and call_cap < 0:
            raise ValueError(f"call_cap must be >= 0 or None, got {call_cap}")
        self.spend_cap_usd = spend_cap_usd
        self.call_cap = call_cap
        self.ledger = ledger
        self._lock = threading.Lock()
        self._calls = 0
        self._spent = 0.0
        self._in_flight = 0
        self._reserved = 0.0

    @property
    def calls(self) -> int:
        with self._lock:
            return self._calls

    @property
    def spent_usd(self) -> float:
        with self._lock:
            return self._spent

    @property
    def in_flight(self) -> int:
        """Calls reserved and not yet settled or released."""
        with self._lock:
            return self._in_flight

    def summary(self) -> str:
        with self._lock:
            return f"{self._calls} paid call(s) made, ${self._spent:.4f} spent"

    def _refusal(self, estimate_usd: float) -> BudgetExceeded | None:
        """Why one more call of about `estimate_usd` may not start (caller holds the lock), or None."""
        return self._refusal_at(estimate_usd, self._calls, self._spent, self._in_flight, self._reserved, "")

    def _refusal_at(
        self, estimate_usd: float, calls: int, spent: float, flying: int, reserved: float, where: str
    ) -> BudgetExceeded | None:
        pending = f" ({flying} more in flight)" if flying else ""
        if self.call_cap is not None and calls + flying + 1 > self.call_cap:
            return BudgetExceeded(
                f"call cap reached: {calls} paid call(s) made{pending}{where} of call_cap={self.call_cap}, "
                f"${spent:.4f} spent; raise llm.anthropic.call_cap in params.yaml and rerun: "
                "calls already answered are replayed from the response cache (llm.cache_mode: record)"
            )
        if self.spend_cap_usd is not None and spent + reserved + estimate_usd > self.spend_cap_usd:
            held = f" and ${reserved:.4f} held for calls in flight" if flying else ""
            return BudgetExceeded(
                f"spend cap reached: ${spent:.4f} spent over {calls} paid call(s){held}{where}; the next call "
                f"(about ${estimate_usd:.4f}) would pass spend_cap_usd=${self.spend_cap_usd:.4f}; "
                "raise llm.anthropic.spend_cap_usd in params.yaml and rerun: calls already answered are "
                "replayed from the response cache (llm.cache_mode: record)"
            )
        return None

    def _shared_refusal(self, estimate_usd: float, totals: dict[str, float]) -> BudgetExceeded | None:
        """The refusal by the ledger's totals (calls made or in flight, USD spent or held, by every job)."""
        where = f" or in flight by the jobs booking on {self.ledger.path}" if self.ledger is not None else ""
        return self._refusal_at(estimate_usd, int(totals["calls"]), float(totals["spent_usd"]), 0, 0.0, where)

    def check(self, estimate_usd: float = 0.0) -> None:
        """Raise BudgetExceeded if one more call costing about `estimate_usd` would pass a cap."""
        with self._lock:
            refusal = self._refusal(estimate_usd)
            if refusal is None and self.ledger is not None:
                with self.ledger.booking() as totals:
                    refusal = self._shared_refusal(estimate_usd, totals)
        if refusal is not None:
            raise refusal

    def reserve(self, estimate_usd: float) -> "Reservation":
        """Hold `estimate_usd` and one call for a call about to be sent, or raise BudgetExceeded."""
        with self._lock:
            refusal = self._refusal(estimate_usd)
            if refusal is None and self.ledger is not None:
                with self.ledger.booking() as totals:
                    refusal = self._shared_refusal(estimate_usd, totals)
                    if refusal is None:
                        totals["calls"] += 1
                        totals["spent_usd"] += estimate_usd
            if refusal is None:
                self._in_flight += 1
                self._reserved += estimate_usd
        if refusal is not None:
            raise refusal
        return Reservation(self, estimate_usd)

    def _settle(self, estimate_usd: float, cost_usd: float | None) -> None:
        with self._lock:
            self._in_flight -= 1
            self._reserved = max(0.0, self._reserved - estimate_usd)
            if cost_usd is not None:
                self._calls += 1
                self._spent += cost_usd
            if self.ledger is not None:
                with self.ledger.booking() as totals:
                    if cost_usd is None:  # the call failed: take back the call and its estimate
                        totals["calls"] -= 1
                        totals["spent_usd"] -= estimate_usd
                    else:
                        totals["spent_usd"] += cost_usd - estimate_usd

    def charge(self, cost_usd: float) -> None:
        with self._lock:
            self._calls += 1
            self._spent += cost_usd
            if self.ledger is not None:
                with self.ledger.booking() as totals:
                    totals["calls"] += 1
                    totals["spent_usd"] += cost_usd


class Reservation:
    """One call's hold on a `SpendGuard`: `charge(cost)` once it was answered, else `release()`.

    As a context manager it releases the hold when the block ends without a charge."""

    def __init__(self, guard: SpendGuard, estimate_usd: float) -> None:
        self.guard = guard
        self.estimate_usd = estimate_usd
        self._open = True

    def charge(self, cost_usd: float) -> None:
        if self._open:
            self._open = False
            self.guard._settle(self.estimate_usd, cost_usd)

    def release(self) -> None:
        if self._open:
            self._open = False
            self.guard._settle(self.estimate_usd, None)

    def __enter__(self) -> "Reservation":
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class MeteredLLM:
    """Pass-through LLM that adds every completion to a `UsageMeter` (e.g. one per episode)."""

    def __init__(self, llm: LLM, meter: UsageMeter) -> None:
        self.inner = llm
        self.meter = meter
        self.backend = llm.backend
        self.model = llm.model

    def complete(self, request: Request) -> Completion:
        completion = self.inner.complete(request)
        self.meter.add(completion)
        return completion

