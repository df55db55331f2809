"""Wrong query codes are rate-limited per case number and per client address.

In memory, for one portal process: with several processes (or replicas) each keeps its own count, so the
effective limit is that many times higher; a shared store (the register) would be needed then.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limit:
    failures: int
    window_seconds: float


PER_CASE = Limit(failures=5, window_seconds=15 * 60)
PER_CLIENT = Limit(failures=20, window_seconds=15 * 60)


class FailureLimiter:
    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic, max_keys: int = 100_000) -> None:
        self._limit = limit
        self._clock = clock
        self._max_keys = max_keys
        self._failures: defaultdict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def blocked(self, key: str) -> bool:
        with self._lock:
            return len(self._recent(key)) >= self._limit.failures

    def fail(self, key: str) -> None:
        with self._lock:
            if len(self._failures) >= self._max_keys:
                # Bounded memory under a flood of made-up case numbers: drop the oldest keys' records.
                for stale in list(self._failures)[: self._max_keys // 10]:
                    del self._failures[stale]
            self._recent(key).append(self._clock())

    def _recent(self, key: str) -> deque[float]:
        times = self._failures[key]
        cutoff = self._clock() - self._limit.window_seconds
        while times and times[0] <= cutoff:
            times.popleft()
        return times
