"""The portal's limits: request quotas per client, and a growing wait after wrong query codes.

* ``WindowCounter``: at most ``count`` events per key in a sliding window (requests per client address per
  hour on /apply and /progress).
* ``Backoff``: after ``free`` wrong codes, each further attempt must wait twice as long as the one before
  (``base_seconds``, doubling, at most ``max_seconds``); failures are forgotten after ``forget_seconds``.
  A guesser is slowed to a handful of tries an hour; nobody is shut out for a fixed time by someone else's
  failures, because the keys are the guesser's own (the client address, or the signed-in person), and the
  per-case key only counts anonymous attempts (a signed-in family sees its cases without any code).

In memory, for one portal process: with several processes (or replicas) each keeps its own count, so the
effective limit is that many times higher; a shared store (the register) would be needed then.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    count: int
    window_seconds: float


@dataclass(frozen=True)
class BackoffRule:
    free: int
    base_seconds: float
    max_seconds: float
    forget_seconds: float


# Per client address: five wrong codes answered at once, then 30 s, 60 s, ... up to an hour between tries.
PER_CLIENT = BackoffRule(free=5, base_seconds=30, max_seconds=3600, forget_seconds=24 * 3600)
# Per case number, anonymous attempts from any address: ten, then 60 s doubling up to 15 minutes.
PER_CASE = BackoffRule(free=10, base_seconds=60, max_seconds=15 * 60, forget_seconds=24 * 3600)
# Per signed-in person following cases by number and code.
PER_PERSON = BackoffRule(free=5, base_seconds=30, max_seconds=3600, forget_seconds=24 * 3600)

_MAX_KEYS = 100_000


class _Bounded:
    """Per-key records with bounded memory under a flood of made-up keys: the oldest keys are dropped."""

    def __init__(self, clock: Callable[[], float], max_keys: int) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._records: OrderedDict[str, deque[float]] = OrderedDict()
        self._lock = threading.Lock()

    def _times(self, key: str) -> deque[float]:
        times = self._records.get(key)
        if times is None:
            if len(self._records) >= self._max_keys:
                for _ in range(max(1, self._max_keys // 10)):
                    self._records.popitem(last=False)
            times = self._records[key] = deque()
        return times


class WindowCounter(_Bounded):
    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic, max_keys: int = _MAX_KEYS) -> None:
        super().__init__(clock, max_keys)
        self._limit = limit

    def take(self, key: str) -> bool:
        """Count one event for ``key``; False (and nothing counted) when its quota is used up."""
        with self._lock:
            times = self._times(key)
            cutoff = self._clock() - self._limit.window_seconds
            while times and times[0] <= cutoff:
                times.popleft()
            if len(times) >= self._limit.count:
                return False
            times.append(self._clock())
            return True


class Backoff(_Bounded):
    def __init__(self, rule: BackoffRule, clock: Callable[[], float] = time.monotonic,
                 max_keys: int = _MAX_KEYS) -> None:
        super().__init__(clock, max_keys)
        self._rule = rule

    def wait_seconds(self, key: str) -> float:
        """How long ``key`` must wait before its next attempt is heard (0: now)."""
        with self._lock:
            times = self._recent(key)
            extra = len(times) - self._rule.free
            if extra < 0:
                return 0.0
            wait = min(self._rule.max_seconds, self._rule.base_seconds * 2.0 ** extra)
            return max(0.0, times[-1] + wait - self._clock())

    def fail(self, key: str) -> None:
        with self._lock:
            self._recent(key).append(self._clock())

    def _recent(self, key: str) -> deque[float]:
        times = self._times(key)
        cutoff = self._clock() - self._rule.forget_seconds
        while times and times[0] <= cutoff:
            times.popleft()
        return times
