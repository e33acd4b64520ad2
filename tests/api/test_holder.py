"""ModelHolder: atomic swap, in-flight requests keep their model, failures keep serving."""

from __future__ import annotations

import asyncio

import pytest

from tagwise.serving.errors import ModelNotLoaded, ReloadFailed
from tagwise.serving.holder import ModelHolder

REF = "models:/tagwise@champion"


class FakeRegistry:
    """Stands in for MLflow: an alias target and a loader that builds a marker object."""

    def __init__(self) -> None:
        self.version = "1"
        self.loads = 0
        self.fail = False

    def load(self, ref, settings):
        self.loads += 1
        if self.fail:
            raise RuntimeError("registry unreachable")
        return object(), self.version


def make_holder(settings, registry: FakeRegistry, swaps: list) -> ModelHolder:
    holder = ModelHolder(settings, REF, loader=registry.load, on_swap=swaps.append)
    holder._probe = lambda: registry.version  # type: ignore[method-assign]
    return holder


def test_get_before_load_is_not_ready(settings):
    holder = ModelHolder(settings, REF, loader=FakeRegistry().load)
    with pytest.raises(ModelNotLoaded):
        holder.get()


def test_reload_swaps_only_when_the_alias_moves(settings):
    registry, swaps = FakeRegistry(), []
    holder = make_holder(settings, registry, swaps)

    async def scenario():
        first = await holder.reload()
        assert first.swapped and first.current == "1"
        in_flight = holder.get()  # a request grabbed its model here
        same = await holder.reload()
        assert not same.swapped and registry.loads == 1, "no reload without a move"
        registry.version = "2"
        moved = await holder.reload()
        assert moved.swapped and (moved.previous, moved.current) == ("1", "2")
        assert in_flight.version == "1", "the in-flight request keeps the old model"
        assert holder.get().version == "2"

    asyncio.run(scenario())
    assert [s.version for s in swaps] == ["1", "2"]


def test_a_failed_reload_keeps_serving_the_old_model(settings):
    registry, swaps = FakeRegistry(), []
    holder = make_holder(settings, registry, swaps)

    async def scenario():
        await holder.reload()
        registry.version, registry.fail = "2", True
        with pytest.raises(ReloadFailed, match="registry unreachable"):
            await holder.reload()
        assert holder.get().version == "1"
        assert holder.last_error and "unreachable" in holder.last_error

    asyncio.run(scenario())


def test_concurrent_reloads_load_once(settings):
    registry, swaps = FakeRegistry(), []
    holder = make_holder(settings, registry, swaps)

    async def scenario():
        await holder.reload()
        registry.version = "2"
        results = await asyncio.gather(*(holder.reload() for _ in range(5)))
        assert sum(r.swapped for r in results) == 1

    asyncio.run(scenario())
    assert registry.loads == 2


def test_watcher_follows_the_alias(settings):
    registry, swaps = FakeRegistry(), []
    holder = make_holder(settings, registry, swaps)

    async def scenario():
        await holder.reload()
        task = asyncio.create_task(holder.watch(0.01))
        registry.version = "7"
        for _ in range(200):
            if holder.get().version == "7":
                break
            await asyncio.sleep(0.01)
        task.cancel()
        assert holder.get().version == "7"

    asyncio.run(scenario())


def test_only_alias_refs_are_watchable(settings):
    assert ModelHolder(settings, REF).watchable
    assert not ModelHolder(settings, "models:/tagwise/3").watchable
    assert not ModelHolder(settings, "/some/dir").watchable
