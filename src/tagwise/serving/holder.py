"""The served model and its hot swap.

:class:`ModelHolder` keeps one reference to a frozen :class:`Served` (bundle +
version). A reload loads the new bundle *completely* (download, checksum, unpickle)
before replacing that single reference, so a request — which reads the reference once
— finishes on whichever model it started with, and no request ever sees a half-loaded
one. Loading runs in a worker thread; the event loop keeps answering meanwhile.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from tagwise.bundle import ModelBundle
from tagwise.config import Settings
from tagwise.errors import TagwiseError
from tagwise.loading import served_identity
from tagwise.serving.errors import ModelNotLoaded, ReloadFailed

log = logging.getLogger(__name__)

_ALIAS_REF = re.compile(r"^models:/(?P<name>[^/@]+)@(?P<alias>[\w-]+)$")

Loader = Callable[[str, Settings], tuple[ModelBundle, str]]


@dataclass(frozen=True)
class Served:
    """A loaded model as requests see it; never mutated after creation."""

    bundle: ModelBundle
    version: str
    name: str
    ref: str
    loaded_at: float = field(default_factory=time.time)


@dataclass(frozen=True)
class ReloadResult:
    """What a reload did: the version before, after, and whether it swapped."""

    previous: str | None
    current: str
    swapped: bool


def _default_loader(ref: str, settings: Settings) -> tuple[ModelBundle, str]:
    """Load through :func:`tagwise.loading.load_model` and run one suggestion.

    With ``serving.tags`` the model serves that (re-read) vocabulary, its new tags as
    zero-shot long-tail suggestions. The warm-up pays first-call costs (lazy imports,
    encoder loading, allocator growth) before the model is swapped in, so the first
    real request after a swap is as fast as the rest.
    """
    from tagwise.loading import load_model, with_vocabulary_file

    bundle, version = load_model(ref, settings)
    bundle = with_vocabulary_file(bundle, settings.serving.tags)
    bundle.suggest_all([("warm-up", "a first suggestion before serving")])
    return bundle, version


class ModelHolder:
    """Loads the model named by ``ref`` and swaps to a new version when asked.

    ``ref`` is a model directory or a registry reference. Only an alias reference
    (``models:/tagwise@champion``) can move, so only it is watched.
    """

    def __init__(
        self,
        settings: Settings,
        ref: str,
        *,
        loader: Loader = _default_loader,
        on_swap: Callable[[Served], None] | None = None,
    ) -> None:
        self.settings = settings
        self.ref = ref
        self._loader = loader
        self._on_swap = on_swap
        self._served: Served | None = None
        self._lock = asyncio.Lock()
        self._tracker = None
        self.last_error: str | None = None

    @property
    def watchable(self) -> bool:
        """Whether ``ref`` is an alias whose target can change."""
        return _ALIAS_REF.match(self.ref) is not None

    @property
    def served(self) -> Served | None:
        """The current model, or None before the first successful load."""
        return self._served

    def get(self) -> Served:
        """The current model (read once per request); 503 before the first load."""
        served = self._served
        if served is None:
            reason = f" ({self.last_error})" if self.last_error else ""
            raise ModelNotLoaded(f"no model loaded yet from {self.ref}{reason}")
        return served

    def _probe(self) -> str | None:
        """The version the alias points at now (cheap: no download), or None."""
        m = _ALIAS_REF.match(self.ref)
        if m is None:
            return None
        if self._tracker is None:
            from tagwise.tracking import Tracker

            self._tracker = Tracker.from_settings(self.settings)
        version = self._tracker.alias_version(m["alias"])
        return None if version is None else str(version)

    def _load(self) -> Served:
        bundle, version = self._loader(self.ref, self.settings)
        name, version = served_identity(self.ref, bundle, version, self.settings)
        return Served(bundle=bundle, version=version, name=name, ref=self.ref)

    def _swap(self, new: Served) -> None:
        self._served = new  # the one assignment requests can observe
        self.last_error = None
        if self._on_swap is not None:
            self._on_swap(new)

    async def reload(self, *, force: bool = False) -> ReloadResult:
        """Load ``ref`` again if its version moved (or ``force``); swap when loaded.

        Concurrent calls are serialised, so the watcher and an admin request never
        load the same version twice.
        """
        async with self._lock:
            previous = self._served.version if self._served else None
            if previous is not None and not force and self.watchable:
                target = await asyncio.to_thread(self._probe)
                if target is None or target == previous:
                    return ReloadResult(previous, previous, swapped=False)
            try:
                new = await asyncio.to_thread(self._load)
            except Exception as exc:
                self.last_error = exc.message if isinstance(exc, TagwiseError) else repr(exc)
                raise ReloadFailed(f"loading {self.ref} failed: {self.last_error}") from exc
            if previous is not None and new.version == previous and not force:
                return ReloadResult(previous, previous, swapped=False)
            self._swap(new)
            log.info("serving %s version %s (was %s)", new.name, new.version, previous)
            return ReloadResult(previous, new.version, swapped=True)

    async def watch(self, interval: float) -> None:
        """Poll the alias every ``interval`` seconds until cancelled; errors are logged."""
        while True:
            await asyncio.sleep(interval)
            try:
                await self.reload()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("model watch: %s", exc)
