"""Evaluation slices: where does the model do worse than its headline number?

A slice is a boolean mask over the test documents. ``default_slices`` builds the ones
the report always shows; ``slice_table`` scores any dict of masks, keeping tiny slices
in the table (with ``None`` metrics) so that a missing row never hides a problem.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

import numpy as np

from tagwise.evaluate.bootstrap import bootstrap_ci
from tagwise.evaluate.metrics import doc_statistics

FEW_TAGS_MAX = 2


def _quarter(d: date) -> str:
    return f"{d.year}Q{(d.month - 1) // 3 + 1}"


def default_slices(
    texts: Sequence[str],
    dates: Sequence[date],
    n_author_tags: Sequence[int],
    *,
    short_quantile: float = 0.25,
    long_quantile: float = 0.75,
) -> dict[str, np.ndarray]:
    """The standard slices, in report order.

    * ``all`` — every document.
    * ``short text`` — word count (whitespace split) <= the 25th percentile of the
      word counts *of these texts*; ``long text`` — >= the 75th percentile. Relative
      quantiles rather than a fixed word count so both slices always hold about a
      quarter of the set whatever the data; inclusive so ties at the quantile are in.
    * ``few tags`` — the author gave <= 2 tags (raw, before the label protocol): thinly
      tagged projects are exactly the ones suggestions are meant to help.
    * one slice per calendar quarter of the creation date, ``"2020Q1"``..., sorted.
    """
    n = len(texts)
    if len(dates) != n or len(n_author_tags) != n:
        raise ValueError(
            f"texts ({n}), dates ({len(dates)}) and n_author_tags ({len(n_author_tags)}) "
            "must have the same length"
        )
    words = np.array([len(t.split()) for t in texts], dtype=float)
    slices: dict[str, np.ndarray] = {"all": np.ones(n, dtype=bool)}
    if n:
        short_cut, long_cut = np.quantile(words, [short_quantile, long_quantile])
        slices["short text"] = words <= short_cut
        slices["long text"] = words >= long_cut
    else:
        slices["short text"] = np.zeros(0, dtype=bool)
        slices["long text"] = np.zeros(0, dtype=bool)
    slices["few tags"] = np.asarray(n_author_tags, dtype=int).reshape(n) <= FEW_TAGS_MAX
    quarters = np.array([_quarter(d) for d in dates], dtype=object)
    for q in sorted(set(quarters.tolist())):
        slices[q] = quarters == q
    return slices


def slice_table(
    slices: Mapping[str, np.ndarray],
    Y_true: np.ndarray,
    Y_pred: np.ndarray,
    scores: np.ndarray | None = None,
    *,
    min_size: int = 10,
    n_boot: int = 1000,
    seed: int = 42,
) -> list[dict]:
    """One row per slice: {slice, n, micro_f1, micro_precision, micro_recall, ci_low, ci_high}.

    Slices with fewer than ``min_size`` documents keep their row with ``n`` and None
    metrics: a CI on five documents would be noise, but silently dropping the row would
    hide that the slice exists. ``scores`` is accepted for symmetry with the other
    evaluation functions; micro metrics do not need it.
    """
    yt = np.asarray(Y_true)
    yp = np.asarray(Y_pred)
    rows: list[dict] = []
    for name, mask in slices.items():
        m = np.asarray(mask, dtype=bool)
        if m.shape != (yt.shape[0],):
            raise ValueError(f"slice {name!r}: mask shape {m.shape} != ({yt.shape[0]},)")
        n = int(m.sum())
        row: dict = {"slice": name, "n": n}
        keys = ("micro_f1", "micro_precision", "micro_recall", "ci_low", "ci_high")
        if n < min_size:
            row.update(dict.fromkeys(keys))
            rows.append(row)
            continue
        sub_scores = None if scores is None else np.asarray(scores)[m]
        stats = doc_statistics(
            yt[m], yp[m], None, metrics=("micro_f1", "micro_precision", "micro_recall")
        )
        row.update({k: s.point() for k, s in stats.items()})
        _, row["ci_low"], row["ci_high"] = bootstrap_ci(
            yt[m], yp[m], metric="micro_f1", n_boot=n_boot, seed=seed, scores=sub_scores
        )
        rows.append(row)
    return rows
