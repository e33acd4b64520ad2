"""How often authors keep what they were shown: head tags vs long-tail tags, by source.

Why a separate number from ``/v1/stats``: the feedback table only knows which tags were
suggested, not which of them were the low-confidence long tail. The prediction log
does, so joined with the feedback that answers each prediction it tells an operator
whether the long-tail similarity floors earn their place on screen: a zero-shot chip
kept a tenth as often as a head tag is noise to authors; kept half as often, it is
finding tags the head model cannot.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    tax = taxonomy if taxonomy is not None and taxonomy.entries else None
    linked = link_feedback(predictions, feedback)
    counts: dict[str, list[int]] = {}
    for p in predictions:
        fb = linked.get(p.id)
        if fb is None:
            continue
        final = tax.closure(fb.final) if tax else set(fb.final)
        shown = [(HEAD, t) for t, _ in p.tags] + [(src, t) for t, _, src in p.long_tail]
        if tax:
            shown = [(k, tax.canonical(t) or t) for k, t in shown]
        for kind in dict.fromkeys(k for k, _ in shown):
            tags = [t for k, t in shown if k == kind]
            c = counts.setdefault(kind, [0, 0, 0])
            c[0] += 1
            c[1] += len(tags)
            c[2] += sum(t in final for t in tags)
    order = [HEAD, *sorted(k for k in counts if k != HEAD)]
    return [Uptake(k, *counts[k]) for k in order if k in counts]
