"""The /v1/stats cache: values live for the TTL, an invalidation drops them (pure)."""

from __future__ import annotations

from tagwise.serving.stats_cache import StatsCache


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def counter():
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    return calls, compute


def test_a_value_is_reused_until_the_ttl_passes():
    clock = FakeClock()
    cache = StatsCache(5.0, clock=clock)
    calls, compute = counter()
    assert cache.get("day", compute) == 1
    clock.now += 4.9
    assert cache.get("day", compute) == 1
    clock.now += 0.2
    assert cache.get("day", compute) == 2
    assert len(calls) == 2


def test_keys_are_separate_and_invalidate_drops_all():
    cache = StatsCache(5.0, clock=FakeClock())
    calls, compute = counter()
    cache.get(("day", 20), compute)
    cache.get(("week", 20), compute)
    cache.get(("day", 20), compute)
    assert len(calls) == 2
    cache.invalidate()
    cache.get(("day", 20), compute)
    cache.get(("week", 20), compute)
    assert len(calls) == 4


def test_a_value_computed_across_an_invalidation_is_not_kept():
    cache = StatsCache(5.0, clock=FakeClock())

    def stale() -> str:
        cache.invalidate()  # feedback written while the old numbers were being read
        return "stale"

    assert cache.get("day", stale) == "stale"
    assert cache.get("day", lambda: "fresh") == "fresh"


def test_zero_ttl_never_keeps():
    cache = StatsCache(0.0, clock=FakeClock())
    calls, compute = counter()
    cache.get("day", compute)
    cache.get("day", compute)
    assert len(calls) == 2
