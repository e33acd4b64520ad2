"""A short-lived cache for ``GET /v1/stats``, one per app (on ``app.state``).

Why: one stats request reads up to the newest 200,000 feedback records and aggregates
them, and the impact page asks again whenever its period changes. Within
``serving.stats_ttl_s`` the same ``(period, top)`` gets the numbers already computed.
Feedback posted through this app clears the cache, so a client that posts and then
reads sees its record. Feedback written elsewhere (another worker or replica, the CLI)
shows up within the TTL.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

T = TypeVar("T")


class StatsCache:
    """Values by key for ``ttl_s`` seconds; :meth:`invalidate` drops them all.

    Thread-safe: sync routes run in the threadpool. A value computed while an
    invalidation happened is returned but not kept, because it may predate the write.
    ``ttl_s = 0`` turns the cache off.
    """

    def __init__(self, ttl_s: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_s = ttl_s
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[Hashable, tuple[float, Any]] = {}
        self._generation = 0

    def get(self, key: Hashable, compute: Callable[[], T]) -> T:
        """The value kept for ``key`` if still fresh, else ``compute()`` (then kept)."""
        if self.ttl_s <= 0:
            return compute()
        now = self._clock()
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and now < hit[0]:
                return hit[1]
            generation = self._generation
        value = compute()
        with self._lock:
            if generation == self._generation:
                self._entries[key] = (now + self.ttl_s, value)
        return value

    def invalidate(self) -> None:
        """Forget every value (new feedback was written)."""
        with self._lock:
            self._generation += 1
            self._entries.clear()
