"""A rows progress bar for long batch work (``tagwise predict``, local or on Ray).

On stderr, so a JSONL stream on stdout stays clean; nothing at all without a console
(library callers and tests), so the same code path runs either way.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass
class RowProgress:
    """Handle on one bar: advance by rows done, or reset total/completed (a resumed job)."""

    bar: Any = None
    task: Any = None

    def advance(self, rows: int) -> None:
        """``rows`` more are done."""
        if self.bar is not None:
            self.bar.advance(self.task, rows)

    def reset(self, total: int | None, completed: int = 0) -> None:
        """The job's size became known (or part of it was already done)."""
        if self.bar is not None:
            self.bar.update(self.task, total=total, completed=completed)


@contextlib.contextmanager
def row_progress(console: Any, description: str, total: int | None) -> Iterator[RowProgress]:
    """A bar "description ━━━ done/total, time left" on ``console``; a no-op without one."""
    if console is None:
        yield RowProgress()
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    with Progress(
        "{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console,
    ) as bar:
        yield RowProgress(bar, bar.add_task(description, total=total))
