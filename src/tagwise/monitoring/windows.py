"""From logged predictions and feedback to drift :class:`Window` objects (pure).

Linking: a feedback row answers the prediction whose id it sent back
(``prediction_id`` → ``predictions.feedback_id``); feedback from a client that did not
send one is matched by the text digest to the latest unanswered prediction made at or
before it. Windowing: fixed calendar windows (``1d``, ``7d``, ``2w``); weeks start on a
Monday 00:00 UTC so the labels read like calendar weeks.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from tagwise.errors import ConfigError
from tagwise.monitoring.drift import Window
from tagwise.monitoring.predictions import LoggedFeedback, LoggedPrediction
from tagwise.text import project_text

_SPEC = re.compile(r"^(\d+)([dw])$")
_MONDAY = datetime(2001, 1, 1, tzinfo=UTC)  # a Monday: origin of week-aligned windows


def parse_window(spec: str) -> timedelta:
    """``"7d"`` / ``"1w"`` / ``"1d"`` → a timedelta; anything else is a ConfigError."""
    m = _SPEC.match(spec.strip())
    if not m or int(m[1]) == 0:
        raise ConfigError(f"window {spec!r}: use a number of days or weeks, e.g. 1d, 7d, 2w")
    n = int(m[1]) * (7 if m[2] == "w" else 1)
    return timedelta(days=n)


def window_start(t: datetime, size: timedelta) -> datetime:
    """Start of the window holding ``t``; multiples of 7 days align to Mondays."""
    t = t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)
    origin = _MONDAY if size.days % 7 == 0 else datetime(2001, 1, 1, tzinfo=UTC)
    k = (t - origin) // size
    return origin + k * size


def window_label(start: datetime) -> str:
    """The label shown in reports (the start date)."""
    return f"{start:%Y-%m-%d}"


@dataclass(frozen=True)
class Observation:
    """One prediction with its feedback (if any), ready for windowing."""

    created: datetime
    text: str
    suggested: tuple[str, ...]
    top_score: float
    final: tuple[str, ...] | None
    model_version: str | None = None
    feedback_id: int | None = None


def link_feedback(
    predictions: Sequence[LoggedPrediction], feedback: Sequence[LoggedFeedback]
) -> dict[str, LoggedFeedback]:
    """Prediction id → the feedback that answers it (explicit link first, then digest)."""
    by_id = {f.id: f for f in feedback}
    linked: dict[str, LoggedFeedback] = {}
    used: set[int] = set()
    for p in predictions:
        if p.feedback_id is not None and p.feedback_id in by_id and p.feedback_id not in used:
            linked[p.id] = by_id[p.feedback_id]
            used.add(p.feedback_id)
    open_by_digest: dict[str, list[LoggedPrediction]] = {}
    for p in predictions:
        if p.id not in linked:
            open_by_digest.setdefault(p.digest, []).append(p)
    for f in feedback:
        if f.id in used:
            continue
        candidates = [p for p in open_by_digest.get(f.digest, []) if p.created <= f.created]
        if candidates:
            best = max(candidates, key=lambda p: p.created)
            linked[best.id] = f
            open_by_digest[f.digest].remove(best)
            used.add(f.id)
    return linked


def observations(
    predictions: Sequence[LoggedPrediction],
    feedback: Sequence[LoggedFeedback],
    final_tags: Callable[[LoggedFeedback], tuple[str, ...]] = lambda f: f.final,
) -> list[Observation]:
    """Join the log and the feedback; ``final_tags`` maps feedback to comparable labels.

    The monitor passes a function that applies P1 (closure, restricted to the model's
    label space) — the same labels its reference was built with. A feedback whose final
    tags are empty after that has no label in the metric set (P1 drops it), so it
    counts as unlabelled.
    """
    linked = link_feedback(predictions, feedback)
    out = []
    for p in predictions:
        fb = linked.get(p.id)
        final = final_tags(fb) if fb is not None else None
        out.append(
            Observation(
                created=p.created,
                text=project_text(p.title, p.description),
                suggested=tuple(t for t, _ in p.tags),
                top_score=p.top_score,
                final=final or None,
                model_version=p.model_version,
                feedback_id=fb.id if fb is not None else None,
            )
        )
    return out


def build_windows(
    obs: Sequence[Observation], size: timedelta, *, min_n: int = 1
) -> list[tuple[datetime, Window]]:
    """Group observations into calendar windows (time order); small windows are skipped."""
    groups: dict[datetime, list[Observation]] = {}
    for o in sorted(obs, key=lambda o: o.created):
        groups.setdefault(window_start(o.created, size), []).append(o)
    out = []
    for start, rows in sorted(groups.items()):
        if len(rows) < min_n:
            continue
        out.append((start, to_window(window_label(start), rows)))
    return out


def to_window(label: str, rows: Sequence[Observation]) -> Window:
    """One drift window from its observations."""
    finals = tuple(o.final for o in rows)
    return Window(
        label=label,
        texts=tuple(o.text for o in rows),
        suggested=tuple(o.suggested for o in rows),
        top_scores=tuple(o.top_score for o in rows),
        final=finals if any(f is not None for f in finals) else None,
    )
