"""How often authors keep what they were shown: head tags vs long-tail tags, by source.

Why a separate number from ``/v1/stats``: the feedback table only knows which tags were
suggested, not which of them were the low-confidence long tail. The prediction log
does, so joined with the feedback that answers each prediction it tells an operator
whether the long-tail similarity floors earn their place on screen: a zero-shot chip
kept a tenth as often as a head tag is noise to authors; kept half as often, it is
finding tags the head model cannot.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from tagwise.monitoring.predictions import LoggedFeedback, LoggedPrediction
from tagwise.monitoring.windows import link_feedback
from tagwise.taxonomy import Taxonomy

HEAD = "head"


@dataclass(frozen=True)
class Uptake:
    """Tags of one kind shown on answered predictions, and how many the author kept."""

    kind: str  # "head", "zero-shot" or "few-shot"
    predictions: int  # answered predictions that showed at least one such tag
    shown: int
    kept: int

    @property
    def rate(self) -> float | None:
        """Share of shown tags in the author's final tags (None when none was shown)."""
        return self.kept / self.shown if self.shown else None

    def to_dict(self) -> dict[str, Any]:
        """JSON form for the monitoring state."""
        return {**asdict(self), "rate": self.rate}


def suggestion_uptake(
    predictions: Sequence[LoggedPrediction],
    feedback: Sequence[LoggedFeedback],
    taxonomy: Taxonomy | None = None,
) -> list[Uptake]:
    """Uptake of head tags, then of long-tail tags per source, over answered predictions.

    A tag counts as kept when it is among the author's final tags (accepted or added)
    or, given the ``taxonomy``, implied by them: a shown ``computer-vision`` is kept when
    the author chose ``object-detection``, as the monitor's F1 counts it (P1 closure);
    a shown tag the served vocabulary has since made an alias is compared by its
    canonical name. Predictions no feedback answers are left out, as are kinds never
    shown.
    """
    return uptake_by(predictions, feedback, taxonomy, key=lambda p: "").get("", [])


def uptake_by(
    predictions: Sequence[LoggedPrediction],
    feedback: Sequence[LoggedFeedback],
    taxonomy: Taxonomy | None,
    *,
    key: Callable[[LoggedPrediction], str],
) -> dict[str, list[Uptake]]:
    """:func:`suggestion_uptake` per group of predictions (e.g. per monitoring window).

    Feedback is linked to predictions once, over all of them, before grouping: a
    feedback row matched by text digest must answer the same prediction whichever
    window is looked at. Groups with no answered prediction are left out.
    """
    tax = taxonomy if taxonomy is not None and taxonomy.entries else None
    linked = link_feedback(predictions, feedback)
    counts: dict[str, dict[str, list[int]]] = {}
    for p in predictions:
        fb = linked.get(p.id)
        if fb is None:
            continue
        final = tax.closure(fb.final) if tax else set(fb.final)
        shown = [(HEAD, t) for t, _ in p.tags] + [(src, t) for t, _, src in p.long_tail]
        if tax:
            shown = [(k, tax.canonical(t) or t) for k, t in shown]
        group = counts.setdefault(key(p), {})
        for kind in dict.fromkeys(k for k, _ in shown):
            tags = [t for k, t in shown if k == kind]
            c = group.setdefault(kind, [0, 0, 0])
            c[0] += 1
            c[1] += len(tags)
            c[2] += sum(t in final for t in tags)
    return {name: _head_first(group) for name, group in counts.items() if group}


def _head_first(counts: dict[str, list[int]]) -> list[Uptake]:
    """One row per kind of tag from its (predictions, shown, kept), head first."""
    order = [HEAD, *sorted(k for k in counts if k != HEAD)]
    return [Uptake(k, *counts[k]) for k in order if k in counts]


def total_uptake(groups: Sequence[Sequence[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Sum per-window uptake rows (``Uptake.to_dict()``) into one row per kind, head first.

    For a replay that monitors each window with the version then serving: no single
    monitor pass sees every version's predictions, the windows together do.
    """
    sums: dict[str, list[int]] = {}
    for rows in groups:
        for u in rows:
            c = sums.setdefault(u["kind"], [0, 0, 0])
            c[0] += u["predictions"]
            c[1] += u["shown"]
            c[2] += u["kept"]
    return [u.to_dict() for u in _head_first(sums)]
