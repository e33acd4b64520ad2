"""Bootstrap confidence intervals over documents.

Why documents: the test set is a sample of projects, and the labels of one project
are not independent of each other, so the unit we resample is the document (all its
labels together). Percentile intervals are used: simple, and good enough for the
sizes we have (a few hundred documents); they are not forced to contain the point.

Vectorised: every metric is a function of additive per-document statistics
(``metrics.doc_statistics``), so a block of resamples is a matrix of document counts
``W`` (resamples x docs) times the statistics matrix — no Python loop per resample.
"""

from __future__ import annotations

import numpy as np

from tagwise.evaluate.metrics import MULTILABEL_METRIC_NAMES, doc_statistics

# Upper bound on the entries of one block of the count matrix W, to keep memory
# bounded (~16 MB of float64) on large test sets.
_MAX_BLOCK_ENTRIES = 2_000_000


def _resample_counts(rng: np.random.Generator, n_boot: int, n_docs: int) -> np.ndarray:
    """How often each document is drawn in each of n_boot resamples of size n_docs."""
    idx = rng.integers(0, n_docs, size=(n_boot, n_docs))
    offsets = (np.arange(n_boot) * n_docs)[:, None]
    flat = np.bincount((idx + offsets).ravel(), minlength=n_boot * n_docs)
    return flat.reshape(n_boot, n_docs).astype(float)


def bootstrap_ci(
    Y_true: np.ndarray,
    Y_pred: np.ndarray,
    *,
    metric: str = "micro_f1",
    n_boot: int = 1000,
    seed: int = 42,
    alpha: float = 0.05,
    scores: np.ndarray | None = None,
) -> tuple[float, float, float]:
    """(point, low, high): the metric on all docs and its percentile (1 - alpha) interval.

    ``metric`` is any key of ``multilabel_metrics``; the ranking metrics (p_at_1,
    r_at_5, ndcg_at_5) need ``scores``. Deterministic for a given seed (numpy
    ``Generator(PCG64(seed))``).
    """
    if metric not in MULTILABEL_METRIC_NAMES:
        raise ValueError(f"unknown metric {metric!r}; valid: {list(MULTILABEL_METRIC_NAMES)}")
    if n_boot < 1:
        raise ValueError(f"n_boot must be >= 1, got {n_boot}")
    if not 0.0 < alpha < 1.0:
        raise ValueError(f"alpha must lie in (0, 1), got {alpha}")
    stats = doc_statistics(Y_true, Y_pred, scores, metrics=(metric,))[metric]
    n_docs = stats.values.shape[0]
    if n_docs == 0:
        raise ValueError("cannot bootstrap an empty set of documents")
    rng = np.random.default_rng(seed)
    block = max(1, _MAX_BLOCK_ENTRIES // n_docs)
    samples = np.empty(n_boot)
    for start in range(0, n_boot, block):
        stop = min(start + block, n_boot)
        weights = _resample_counts(rng, stop - start, n_docs)
        samples[start:stop] = stats.aggregate(weights @ stats.values)
    low, high = np.quantile(samples, [alpha / 2, 1 - alpha / 2])
    return stats.point(), float(low), float(high)
