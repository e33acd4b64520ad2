"""Importing and starting Ray: one place that turns "no Ray" into a clear error.

Why a helper: every Ray entry point needs the same two things — a helpful message when
the extra is missing (instead of a bare ``ModuleNotFoundError`` deep in a stack) and a
connection that is started only if nobody started one, and shut down only by whoever
started it (so a test session or a caller can share one Ray instance).
"""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import Iterator
from types import ModuleType

from tagwise.distributed import RAY_EXTRA
from tagwise.errors import NotSupportedError

LOCAL_HOST = "127.0.0.1"


def import_ray(feature: str, submodule: str | None = None) -> ModuleType:
    """``ray`` (or ``ray.<submodule>``), or :class:`NotSupportedError` naming the extra."""
    name = f"ray.{submodule}" if submodule else "ray"
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        raise NotSupportedError(
            f"{feature} needs Ray ({name} is not importable: {exc}); install it with {RAY_EXTRA}"
        ) from None


@contextlib.contextmanager
def ray_session(
    feature: str, *, address: str | None = None, num_cpus: int | None = None
) -> Iterator[ModuleType]:
    """Connect to ``address`` (``auto``, ``ray://...``) or start a local Ray; yields ``ray``.

    A local instance runs without the dashboard. Ray's own ports (GCS, raylet, workers)
    listen on every interface, guarded by Ray's token authentication; what tagwise itself
    serves (the Serve HTTP proxy) binds loopback unless configured otherwise.
    If Ray is already initialised in this process (a test session, a notebook), it is
    reused and left running.
    """
    ray = import_ray(feature)
    if ray.is_initialized():
        yield ray
        return
    kwargs: dict = {"include_dashboard": False, "log_to_driver": False, "configure_logging": False}
    if address:
        ray.init(address=address, **kwargs)
    else:
        ray.init(num_cpus=num_cpus, **kwargs)
    try:
        yield ray
    finally:
        ray.shutdown()
