"""The app's catalogue index: opened at startup, built in the background when missing.

Building the bundled catalogue (suggestions for ~1,800 projects, FTS5 and postings)
takes seconds; startup must not wait for it — suggestions are served meanwhile. So
:class:`SearchState` opens (and, if the index is empty, builds) it on a worker thread
and the search routes answer 503 until it is ready. Lives on ``app.state.search``.
"""

from __future__ import annotations

import logging
import threading
import time

from tagwise.catalogue import build_catalogue, index_path, open_index
from tagwise.config import Settings
from tagwise.errors import NotTrainedError
from tagwise.search import CatalogueIndex

log = logging.getLogger(__name__)

CLOSE_WAIT_S = 30.0


class SearchNotReady(NotTrainedError):
    """The catalogue index is still being opened or built (503)."""


class SearchState:
    """Holds the index once it is usable; :meth:`get` raises 503 before that."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._index: CatalogueIndex | None = None
        self._thread: threading.Thread | None = None
        self.error: str | None = None
        self.build_seconds: float | None = None

    def start(self, bundle=None) -> None:
        """Open the index on a worker thread; build it from the catalogue if empty."""
        self._thread = threading.Thread(
            target=self._open, args=(bundle,), name="search-index", daemon=True
        )
        self._thread.start()

    def _open(self, bundle) -> None:
        try:
            index = open_index(self.settings, bundle)
            if index.count() == 0:
                t0 = time.perf_counter()
                n = build_catalogue(index, self.settings, bundle)
                self.build_seconds = time.perf_counter() - t0
                log.info(
                    "search index built: %d projects from %s in %.1f s%s",
                    n,
                    self.settings.search.catalogue,
                    self.build_seconds,
                    "" if bundle is not None else " (no model: without suggestions)",
                )
            index.warm()  # load the tag cache now, not on the first search
            self._index = index
        except Exception as exc:  # the app keeps serving suggestions; search says why
            self.error = f"{type(exc).__name__}: {exc}"
            log.error("search index at %s unavailable: %s", index_path(self.settings), self.error)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until opening finished (for tests and the CLI); True if ready."""
        if self._thread is not None:
            self._thread.join(timeout)
        return self._index is not None

    def get(self) -> CatalogueIndex:
        """The index, or :class:`SearchNotReady` (503) while it is opened or built."""
        index = self._index
        if index is None:
            why = f": {self.error}" if self.error else "; try again in a few seconds"
            raise SearchNotReady(f"the search index is not ready{why}")
        return index

    def close(self) -> None:
        """Wait (bounded) for a build in progress, then close the file."""
        if self._thread is not None:
            self._thread.join(CLOSE_WAIT_S)
        if self._index is not None:
            self._index.close()
            self._index = None
