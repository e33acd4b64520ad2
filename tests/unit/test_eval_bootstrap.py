"""Bootstrap CIs: deterministic, bracket the point, consistent with the metrics, fast."""

from __future__ import annotations

import time

import numpy as np
import pytest

from tagwise.evaluate import MULTILABEL_METRIC_NAMES, bootstrap_ci, multilabel_metrics
from tagwise.evaluate.bootstrap import _resample_counts
from tagwise.evaluate.metrics import doc_statistics


def _case(seed: int = 0, n_docs: int = 260, n_labels: int = 22):
    rng = np.random.default_rng(seed)
    Y_true = rng.random((n_docs, n_labels)) < 0.15
    scores = np.clip(Y_true * 0.4 + rng.random((n_docs, n_labels)) * 0.6, 0, 1)
    return Y_true, scores >= 0.5, scores


def test_deterministic_for_a_seed_and_varies_with_seed() -> None:
    Y_true, Y_pred, _ = _case()
    a = bootstrap_ci(Y_true, Y_pred, seed=7)
    b = bootstrap_ci(Y_true, Y_pred, seed=7)
    c = bootstrap_ci(Y_true, Y_pred, seed=8)
    assert a == b
    assert a[0] == c[0]
    assert a[1:] != c[1:]


@pytest.mark.parametrize("metric", MULTILABEL_METRIC_NAMES)
def test_point_equals_metric_and_ci_brackets_it(metric: str) -> None:
    Y_true, Y_pred, scores = _case(1)
    point, low, high = bootstrap_ci(Y_true, Y_pred, metric=metric, scores=scores, n_boot=500)
    assert point == pytest.approx(multilabel_metrics(Y_true, Y_pred, scores)[metric])
    assert low < point < high
    assert high - low < 0.2  # 260 docs: the interval is informative, not [0, 1]


def test_matches_a_naive_resampling_loop() -> None:
    """The vectorised counts-matrix trick must equal resampling rows explicitly."""
    Y_true, Y_pred, scores = _case(2, n_docs=40, n_labels=5)
    rng = np.random.default_rng(3)
    weights = _resample_counts(rng, 20, 40)
    assert (weights.sum(axis=1) == 40).all()
    rng = np.random.default_rng(3)
    idx = rng.integers(0, 40, size=(20, 40))
    for b in range(20):
        assert np.array_equal(np.bincount(idx[b], minlength=40), weights[b])
        expected = multilabel_metrics(Y_true[idx[b]], Y_pred[idx[b]], scores[idx[b]])
        for m, stats in doc_statistics(Y_true, Y_pred, scores).items():
            got = stats.aggregate(weights[b : b + 1] @ stats.values)[0]
            assert got == pytest.approx(expected[m]), m


def test_wider_interval_for_smaller_alpha() -> None:
    Y_true, Y_pred, _ = _case(4)
    _, lo95, hi95 = bootstrap_ci(Y_true, Y_pred, alpha=0.05)
    _, lo80, hi80 = bootstrap_ci(Y_true, Y_pred, alpha=0.2)
    assert lo95 <= lo80 and hi80 <= hi95


def test_1000_resamples_of_260_by_22_are_fast() -> None:
    Y_true, Y_pred, scores = _case()
    bootstrap_ci(Y_true, Y_pred, n_boot=50)  # warm up imports
    start = time.perf_counter()
    bootstrap_ci(Y_true, Y_pred, metric="micro_f1", n_boot=1000)
    bootstrap_ci(Y_true, Y_pred, metric="macro_f1", n_boot=1000)
    bootstrap_ci(Y_true, Y_pred, metric="ndcg_at_5", n_boot=1000, scores=scores)
    assert time.perf_counter() - start < 1.5  # three metrics, < 0.5 s each


def test_errors_name_the_problem() -> None:
    Y_true, Y_pred, _ = _case(n_docs=10)
    with pytest.raises(ValueError, match="valid"):
        bootstrap_ci(Y_true, Y_pred, metric="accuracy")
    with pytest.raises(ValueError, match="scores"):
        bootstrap_ci(Y_true, Y_pred, metric="p_at_1")
    with pytest.raises(ValueError, match="empty"):
        bootstrap_ci(Y_true[:0], Y_pred[:0])
