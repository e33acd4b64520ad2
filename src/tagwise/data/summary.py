"""A compact description of one load: what was accepted, what was rejected and why.

Used by ``tagwise data validate`` and stored beside training runs, so the numbers a
person reads and the numbers a run records are computed by one function.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tagwise.data.schema import LabelMode, LoadResult
from tagwise.data.validate import reason_categories


@dataclass(frozen=True)
class DatasetSummary:
    """Counts and ranges of one loaded file.

    ``quarantined_by_reason`` counts rows per field-level problem (``"title: must not be
    empty"``, ``"id: duplicate"``); a row with two problems counts under both, so the
    values may add up to more than the number of quarantined rows. ``tag_counts`` are
    the raw author tags of accepted projects, most common first.
    """

    source: str
    digest: str
    mode: LabelMode
    n_rows: int
    n_accepted: int
    n_quarantined: int
    quarantined_by_reason: dict[str, int]
    tag_counts: dict[str, int]
    date_min: datetime | None
    date_max: datetime | None


def _most_common_first(counter: Counter[str]) -> dict[str, int]:
    """Descending count, ties by name, so the order is the same on every run."""
    return dict(sorted(counter.items(), key=lambda item: (-item[1], item[0])))


def summarize(result: LoadResult) -> DatasetSummary:
    """Summarise a ``LoadResult``; pure, no I/O."""
    dataset = result.dataset
    reasons = Counter(
        category
        for row in result.quarantined
        for category in dict.fromkeys(reason_categories(row.reason))
    )
    tags = Counter(tag for project in dataset.projects for tag in project.tags)
    dates = dataset.dates
    return DatasetSummary(
        source=dataset.source,
        digest=dataset.digest,
        mode=dataset.mode,
        n_rows=result.n_rows,
        n_accepted=len(dataset.projects),
        n_quarantined=len(result.quarantined),
        quarantined_by_reason=_most_common_first(reasons),
        tag_counts=_most_common_first(tags),
        date_min=min(dates, default=None),
        date_max=max(dates, default=None),
    )


def summary_to_dict(summary: DatasetSummary) -> dict[str, Any]:
    """A JSON-able dict (dates as ISO strings) for reports, run metadata and the CLI."""
    return {
        "source": summary.source,
        "digest": summary.digest,
        "mode": summary.mode,
        "n_rows": summary.n_rows,
        "n_accepted": summary.n_accepted,
        "n_quarantined": summary.n_quarantined,
        "quarantined_by_reason": dict(summary.quarantined_by_reason),
        "tag_counts": dict(summary.tag_counts),
        "date_min": summary.date_min.isoformat(sep=" ") if summary.date_min else None,
        "date_max": summary.date_max.isoformat(sep=" ") if summary.date_max else None,
    }
