"""Online impact of the suggestions, computed from feedback records (pure).

What a product owner asks of the live system: do authors keep what the model
suggests (overall, per tag, over time)? Which tags do they add that the model missed?
Do projects end up with more tags than the model alone would give them?

A record's ``suggested`` are the tags shown, ``accepted`` the shown tags the author
kept, ``added`` the tags the author typed. A kept tag counts only if it was shown, so
a client that sends inconsistent lists cannot push the rate above 1; an accepted tag
that was not shown counts as the author's own choice (final, and missed by the model).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

Period = Literal["day", "week"]


@dataclass(frozen=True)
class PeriodStats:
    """Acceptance in one day or ISO week (``start`` is its first day, a Monday for weeks)."""

    start: date
    records: int
    suggested: int
    accepted: int

    @property
    def rate(self) -> float | None:
        """Kept / shown, None when nothing was shown."""
        return self.accepted / self.suggested if self.suggested else None


@dataclass(frozen=True)
class FeedbackStats:
    """The numbers behind ``GET /v1/stats``."""

    records: int
    suggested: int
    accepted: int
    period: Period
    over_time: tuple[PeriodStats, ...] = ()
    per_tag: tuple[tuple[str, int, int], ...] = ()
    """(tag, times suggested, times kept), most suggested first."""
    missed: tuple[tuple[str, int], ...] = ()
    """(tag, times the author chose it without it being shown), most frequent first."""
    avg_suggested: float | None = None
    avg_final: float | None = None

    @property
    def acceptance_rate(self) -> float | None:
        """Kept / shown over every record."""
        return self.accepted / self.suggested if self.suggested else None


def period_start(moment: datetime, period: Period) -> date:
    """The first day of the day or ISO week that ``moment`` falls in."""
    day = moment.date()
    return day - timedelta(days=day.weekday()) if period == "week" else day


def feedback_stats(
    records: Iterable[Mapping], *, period: Period = "day", top: int = 20
) -> FeedbackStats:
    """Aggregate records (dicts with ``created, suggested, accepted, added``).

    ``top`` bounds the per-tag and missed-tag lists (the busiest tags first).
    """
    n = shown_total = kept_total = final_total = 0
    shown_by_tag: Counter[str] = Counter()
    kept_by_tag: Counter[str] = Counter()
    missed: Counter[str] = Counter()
    buckets: dict[date, list[int]] = {}
    for r in records:
        shown = list(dict.fromkeys(r.get("suggested") or ()))
        shown_set = set(shown)
        accepted = list(dict.fromkeys(r.get("accepted") or ()))
        kept = [t for t in accepted if t in shown_set]
        # what the author chose that was not shown: typed in, or "accepted" by a client
        # that did not say what it showed
        chosen = list(dict.fromkeys([t for t in accepted if t not in shown_set]
                                    + list(r.get("added") or ())))  # fmt: skip
        n += 1
        shown_total += len(shown)
        kept_total += len(kept)
        final_total += len(set(kept) | set(chosen))
        shown_by_tag.update(shown)
        kept_by_tag.update(kept)
        missed.update(t for t in chosen if t not in shown_set)
        created = r["created"]
        if isinstance(created, str):
            created = datetime.fromisoformat(created)
        b = buckets.setdefault(period_start(created, period), [0, 0, 0])
        b[0] += 1
        b[1] += len(shown)
        b[2] += len(kept)
    per_tag = sorted(shown_by_tag.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return FeedbackStats(
        records=n,
        suggested=shown_total,
        accepted=kept_total,
        period=period,
        over_time=tuple(PeriodStats(d, *buckets[d]) for d in sorted(buckets)),
        per_tag=tuple((t, s, kept_by_tag[t]) for t, s in per_tag),
        missed=tuple(sorted(missed.items(), key=lambda kv: (-kv[1], kv[0]))[:top]),
        avg_suggested=shown_total / n if n else None,
        avg_final=final_total / n if n else None,
    )
