"""Hold a page's requests until the test lets them go: deterministic orderings for the
browser tests, however loaded the machine is."""

from __future__ import annotations

import contextlib

from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import Page


class HeldRequests:
    """Requests to ``pattern`` wait until :meth:`release`: an answer that must not land
    before the test's next step cannot, however the machine is loaded."""

    ALL = None  # limit: hold every request

    def __init__(self, page: Page, pattern: str, limit: int | None = ALL) -> None:
        """Hold requests to ``pattern``: all of them, or only the first ``limit``."""
        self.page, self.pattern, self.limit = page, pattern, limit
        self.holding, self.held, self.seen = True, [], 0
        page.route(pattern, self._on_route)

    def _on_route(self, route) -> None:
        # a route dispatched after release (queued during its last wait) goes through
        self.seen += 1
        if self.holding and (self.limit is None or self.seen <= self.limit):
            self.held.append(route)
        else:
            route.continue_()

    def release(self) -> None:
        self.holding = False
        while self.held:
            route = self.held.pop(0)
            with contextlib.suppress(PlaywrightError):  # the page aborted it meanwhile
                route.continue_()
        self.page.unroute(self.pattern)
