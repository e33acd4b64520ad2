"""Multi-label and single-label quality metrics, written with numpy.

Why numpy and not scikit-learn: the same numbers are recomputed for every bootstrap
resample and every slice, so they must be cheap and vectorised. Every metric is
expressed as *additive per-document statistics* plus an aggregation of their sums
(``DocStatistics``); a resample is then just a weighted sum of the rows, which is what
``bootstrap.bootstrap_ci`` exploits. The results equal scikit-learn's ``f1_score`` /
``precision_score`` / ``recall_score`` with ``zero_division=0`` (the unit tests check
this on random cases).

Conventions for degenerate cases (documented once, here):

* micro / macro / samples scores follow sklearn with ``zero_division=0``: a ratio
  whose denominator is zero is 0. In particular a document with no true and no
  predicted label has samples-F1 0, and a label never true nor predicted has F1 0 in
  the macro average.
* ranking metrics (``p_at_1``, ``r_at_5``, ``ndcg_at_5``) are averaged over the
  documents with at least one true label only: a document with nothing to find can be
  neither hit nor missed. (Under label protocol P1 such documents are dropped from
  the metric set anyway.) If no document has a true label they are 0.
* ranking is by ``scores`` descending, ties broken by the lower label index (stable).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

MULTILABEL_METRIC_NAMES: tuple[str, ...] = (
    "micro_precision",
    "micro_recall",
    "micro_f1",
    "macro_f1",
    "samples_f1",
    "p_at_1",
    "r_at_5",
    "ndcg_at_5",
)
RANKING_METRIC_NAMES: frozenset[str] = frozenset({"p_at_1", "r_at_5", "ndcg_at_5"})
_RANK_K = 5


@dataclass(frozen=True)
class DocStatistics:
    """Additive per-document statistics of one metric and how to aggregate them.

    ``values`` has one row per document; the metric of any multiset of documents is
    ``aggregate(sum of their rows)``. ``aggregate`` maps sums of shape (B, k) to B
    metric values, so B resamples are evaluated at once.
    """

    values: np.ndarray
    aggregate: Callable[[np.ndarray], np.ndarray]

    def point(self) -> float:
        """The metric on all documents, each counted once."""
        return float(self.aggregate(self.values.sum(axis=0, keepdims=True))[0])


# --------------------------------------------------------------------------- helpers


def _safe_div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den with 0 where den == 0 (sklearn's zero_division=0)."""
    num = np.asarray(num, dtype=float)
    den = np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den > 0)


def _as_indicator(Y: np.ndarray, name: str) -> np.ndarray:
    """Validate a (n_docs, n_labels) 0/1 or bool matrix and return it as bool."""
    arr = np.asarray(Y)
    if arr.ndim != 2:
        raise ValueError(f"{name} must be 2-D (n_docs, n_labels), got shape {arr.shape}")
    if arr.dtype != bool:
        if not np.isin(arr, (0, 1)).all():
            raise ValueError(f"{name} must contain only 0/1 or booleans")
        arr = arr.astype(bool)
    return arr


def _as_scores(scores: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Validate a finite float score matrix of the given shape."""
    arr = np.asarray(scores, dtype=float)
    if arr.shape != shape:
        raise ValueError(f"scores must have shape {shape}, got {arr.shape}")
    if not np.isfinite(arr).all():
        raise ValueError("scores must be finite (no NaN or inf)")
    return arr


def _check_pair(Y_true: np.ndarray, Y_pred: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    yt = _as_indicator(Y_true, "Y_true")
    yp = _as_indicator(Y_pred, "Y_pred")
    if yt.shape != yp.shape:
        raise ValueError(f"Y_true {yt.shape} and Y_pred {yp.shape} differ in shape")
    if yt.shape[1] == 0:
        raise ValueError("need at least one label column")
    return yt, yp


def _f1_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray) -> np.ndarray:
    """F1 = 2tp / (2tp + fp + fn), 0 when the denominator is 0 (as sklearn >= 1.3)."""
    return _safe_div(2 * tp, 2 * tp + fp + fn)


def _ratio_aggregate(sums: np.ndarray) -> np.ndarray:
    """Mean of column 0 over the count in column 1 — for per-doc averaged metrics."""
    return _safe_div(sums[:, 0], sums[:, 1])


def _micro_aggregate(which: str) -> Callable[[np.ndarray], np.ndarray]:
    def aggregate(sums: np.ndarray) -> np.ndarray:
        tp, fp, fn = sums[:, 0], sums[:, 1], sums[:, 2]
        if which == "precision":
            return _safe_div(tp, tp + fp)
        if which == "recall":
            return _safe_div(tp, tp + fn)
        return _f1_from_counts(tp, fp, fn)

    return aggregate


def _macro_f1_aggregate(n_labels: int) -> Callable[[np.ndarray], np.ndarray]:
    def aggregate(sums: np.ndarray) -> np.ndarray:
        counts = sums.reshape(sums.shape[0], 3, n_labels)
        return _f1_from_counts(counts[:, 0], counts[:, 1], counts[:, 2]).mean(axis=1)

    return aggregate


def _ranking_per_doc(Y_true: np.ndarray, scores: np.ndarray) -> dict[str, np.ndarray]:
    """Per-document P@1, R@5 and NDCG@5 plus the mask of docs with a true label."""
    k = min(_RANK_K, Y_true.shape[1])
    # argsort of -scores, stable: equal scores keep label-index order.
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    hits = np.take_along_axis(Y_true, top, axis=1).astype(float)
    n_true = Y_true.sum(axis=1)
    valid = n_true > 0
    discounts = 1.0 / np.log2(np.arange(2, k + 2))
    ideal_by_count = np.concatenate(([0.0], np.cumsum(discounts)))
    ideal = ideal_by_count[np.minimum(n_true, k)]
    return {
        "valid": valid.astype(float),
        "p_at_1": hits[:, 0],
        "r_at_5": _safe_div(hits.sum(axis=1), n_true),
        "ndcg_at_5": _safe_div(hits @ discounts, ideal),
    }


def doc_statistics(
    Y_true: np.ndarray,
    Y_pred: np.ndarray,
    scores: np.ndarray | None,
    metrics: Sequence[str] = MULTILABEL_METRIC_NAMES,
) -> dict[str, DocStatistics]:
    """Per-document statistics for each requested metric, sharing the intermediate work.

    Used by ``multilabel_metrics`` (sum once) and by the bootstrap (sum per resample),
    so the point estimate and the resamples are computed by the same code.
    """
    unknown = [m for m in metrics if m not in MULTILABEL_METRIC_NAMES]
    if unknown:
        raise ValueError(f"unknown metric(s) {unknown}; valid: {list(MULTILABEL_METRIC_NAMES)}")
    yt, yp = _check_pair(Y_true, Y_pred)
    n_labels = yt.shape[1]
    tp = yt & yp
    fp = ~yt & yp
    fn = yt & ~yp
    out: dict[str, DocStatistics] = {}
    micro = np.stack([tp.sum(1), fp.sum(1), fn.sum(1)], axis=1).astype(float)
    for name in ("precision", "recall", "f1"):
        if f"micro_{name}" in metrics:
            out[f"micro_{name}"] = DocStatistics(micro, _micro_aggregate(name))
    if "macro_f1" in metrics:
        per_label = np.concatenate([tp, fp, fn], axis=1).astype(float)
        out["macro_f1"] = DocStatistics(per_label, _macro_f1_aggregate(n_labels))
    if "samples_f1" in metrics:
        f1_doc = _f1_from_counts(micro[:, 0], micro[:, 1], micro[:, 2])
        ones = np.ones(len(f1_doc))
        out["samples_f1"] = DocStatistics(np.stack([f1_doc, ones], axis=1), _ratio_aggregate)
    wanted_ranking = [m for m in metrics if m in RANKING_METRIC_NAMES]
    if wanted_ranking:
        if scores is None:
            raise ValueError(f"{wanted_ranking} rank by scores; pass scores=")
        ranking = _ranking_per_doc(yt, _as_scores(scores, yt.shape))
        for m in wanted_ranking:
            values = np.stack([ranking[m] * ranking["valid"], ranking["valid"]], axis=1)
            out[m] = DocStatistics(values, _ratio_aggregate)
    return {m: out[m] for m in metrics}


# ------------------------------------------------------------------------ public API


def multilabel_metrics(
    Y_true: np.ndarray, Y_pred: np.ndarray, scores: np.ndarray
) -> dict[str, float]:
    """The headline multi-label metrics of label protocol P1.

    Keys: micro_precision, micro_recall, micro_f1, macro_f1, samples_f1, p_at_1,
    r_at_5, ndcg_at_5. See the module docstring for the degenerate-case conventions.
    """
    return {m: s.point() for m, s in doc_statistics(Y_true, Y_pred, scores).items()}


def per_tag_table(Y_true: np.ndarray, Y_pred: np.ndarray, labels: list[str]) -> list[dict]:
    """One row per tag: support, predicted count, precision, recall, F1.

    Sorted by support descending (ties by label order) so the tags that matter most to
    the micro average come first in the report.
    """
    yt, yp = _check_pair(Y_true, Y_pred)
    if len(labels) != yt.shape[1]:
        raise ValueError(f"{len(labels)} labels for {yt.shape[1]} columns")
    support = yt.sum(axis=0)
    predicted = yp.sum(axis=0)
    tp = (yt & yp).sum(axis=0)
    precision = _safe_div(tp, predicted)
    recall = _safe_div(tp, support)
    f1 = _f1_from_counts(tp, predicted - tp, support - tp)
    order = np.argsort(-support, kind="stable")
    return [
        {
            "tag": labels[j],
            "support": int(support[j]),
            "predicted": int(predicted[j]),
            "precision": float(precision[j]),
            "recall": float(recall[j]),
            "f1": float(f1[j]),
        }
        for j in order
    ]


def single_label_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]
) -> dict[str, float]:
    """Accuracy, weighted F1 and macro F1 for single-label (category) mode.

    Class codes index ``labels``. Averages run over the classes present in y_true or
    y_pred, exactly as sklearn's default (a class absent from the test set and never
    predicted says nothing about the model). zero_division=0.
    """
    yt = np.asarray(y_true, dtype=int).ravel()
    yp = np.asarray(y_pred, dtype=int).ravel()
    if yt.shape != yp.shape:
        raise ValueError(f"y_true {yt.shape} and y_pred {yp.shape} differ in shape")
    if yt.size == 0:
        raise ValueError("need at least one document")
    both = np.concatenate([yt, yp])
    if both.min() < 0 or both.max() >= len(labels):
        raise ValueError(f"class codes must lie in [0, {len(labels)})")
    present = np.unique(both)
    n = len(labels)
    support = np.bincount(yt, minlength=n)[present]
    predicted = np.bincount(yp, minlength=n)[present]
    tp = np.bincount(yt[yt == yp], minlength=n)[present]
    f1 = _f1_from_counts(tp, predicted - tp, support - tp)
    return {
        "accuracy": float((yt == yp).mean()),
        "weighted_f1": float(_safe_div((f1 * support).sum(), support.sum())),
        "macro_f1": float(f1.mean()),
    }


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_labels: int) -> list[list[int]]:
    """Confusion matrix (rows = true class, columns = predicted) as nested lists.

    Nested lists because it goes straight into ``ReportData.single_label`` and JSON.
    """
    yt = np.asarray(y_true, dtype=int).ravel()
    yp = np.asarray(y_pred, dtype=int).ravel()
    flat = np.bincount(yt * n_labels + yp, minlength=n_labels * n_labels)
    return flat.reshape(n_labels, n_labels).tolist()


def threshold_curve(Y_true: np.ndarray, scores: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Micro-F1 of ``scores >= t`` for every t, in O((N + T) log N).

    Sorting the scores once and counting with searchsorted avoids materialising one
    prediction matrix per threshold.
    """
    yt = _as_indicator(Y_true, "Y_true")
    s = _as_scores(scores, yt.shape).ravel()
    t = np.asarray(thresholds, dtype=float)
    if t.ndim != 1:
        raise ValueError("thresholds must be 1-D")
    all_sorted = np.sort(s)
    pos_sorted = np.sort(s[yt.ravel()])
    n_pred = all_sorted.size - np.searchsorted(all_sorted, t, side="left")
    tp = pos_sorted.size - np.searchsorted(pos_sorted, t, side="left")
    # 2tp / (2tp + fp + fn) = 2tp / (n_pred + n_pos)
    return _safe_div(2 * tp, n_pred + pos_sorted.size)


def micro_pr_curve(
    Y_true: np.ndarray, scores: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Micro-averaged precision-recall curve: every (doc, label) pair is one decision."""
    from sklearn.metrics import precision_recall_curve

    yt = _as_indicator(Y_true, "Y_true")
    s = _as_scores(scores, yt.shape)
    precision, recall, thresholds = precision_recall_curve(yt.ravel(), s.ravel())
    return precision, recall, thresholds
