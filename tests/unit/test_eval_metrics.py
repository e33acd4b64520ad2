"""Metrics against scikit-learn on small random cases, plus the ranking definitions."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import (
    accuracy_score,
    f1_score,
    ndcg_score,
    precision_recall_curve,
    precision_score,
    recall_score,
)

from tagwise.evaluate import (
    MULTILABEL_METRIC_NAMES,
    confusion_counts,
    micro_pr_curve,
    multilabel_metrics,
    per_tag_table,
    single_label_metrics,
    threshold_curve,
)


def _random_case(seed: int, n_docs: int = 40, n_labels: int = 7, p: float = 0.3):
    rng = np.random.default_rng(seed)
    Y_true = rng.random((n_docs, n_labels)) < p
    scores = rng.random((n_docs, n_labels))
    Y_pred = scores > 0.6
    return Y_true, Y_pred, scores


@pytest.mark.parametrize("seed", range(12))
def test_f1_precision_recall_match_sklearn(seed: int) -> None:
    # Sparse labels so that empty rows and columns (the zero_division paths) occur.
    Y_true, Y_pred, scores = _random_case(seed, n_docs=25, n_labels=6, p=0.15)
    got = multilabel_metrics(Y_true, Y_pred, scores)
    kw = {"zero_division": 0}
    assert got["micro_precision"] == pytest.approx(
        precision_score(Y_true, Y_pred, average="micro", **kw)
    )
    assert got["micro_recall"] == pytest.approx(recall_score(Y_true, Y_pred, average="micro", **kw))
    assert got["micro_f1"] == pytest.approx(f1_score(Y_true, Y_pred, average="micro", **kw))
    assert got["macro_f1"] == pytest.approx(f1_score(Y_true, Y_pred, average="macro", **kw))
    assert got["samples_f1"] == pytest.approx(f1_score(Y_true, Y_pred, average="samples", **kw))


def test_keys_are_exactly_the_contract() -> None:
    got = multilabel_metrics(*_random_case(0))
    assert tuple(got) == MULTILABEL_METRIC_NAMES
    assert all(isinstance(v, float) for v in got.values())


def test_zero_division_semantics_on_empty_rows_and_columns() -> None:
    Y_true = np.array([[0, 0, 0], [1, 0, 0]])
    Y_pred = np.array([[0, 0, 0], [1, 0, 0]])
    got = multilabel_metrics(Y_true, Y_pred, np.zeros((2, 3)))
    # Doc 0 has nothing true and nothing predicted -> samples F1 0 (sklearn zero_division=0).
    assert got["samples_f1"] == pytest.approx(0.5)
    # Labels 1 and 2 are never true nor predicted -> F1 0 in the macro average.
    assert got["macro_f1"] == pytest.approx(1 / 3)
    assert got["micro_f1"] == pytest.approx(1.0)


@pytest.mark.parametrize("seed", range(8))
def test_ndcg_at_5_matches_sklearn_without_ties(seed: int) -> None:
    Y_true, Y_pred, scores = _random_case(seed, n_docs=30, n_labels=9, p=0.3)
    Y_true[:, 0] = True  # sklearn counts docs without a true label as 0; we exclude them
    got = multilabel_metrics(Y_true, Y_pred, scores)
    assert got["ndcg_at_5"] == pytest.approx(ndcg_score(Y_true.astype(int), scores, k=5))


def _naive_ranking(Y_true: np.ndarray, scores: np.ndarray) -> tuple[float, float, float]:
    p1, r5, ndcg = [], [], []
    for yt, s in zip(Y_true, scores, strict=True):
        true = set(np.flatnonzero(yt))
        if not true:
            continue
        ranked = sorted(range(len(s)), key=lambda j: (-s[j], j))[:5]
        p1.append(float(ranked[0] in true))
        r5.append(len(true & set(ranked)) / len(true))
        dcg = sum(1 / np.log2(r + 2) for r, j in enumerate(ranked) if j in true)
        idcg = sum(1 / np.log2(r + 2) for r in range(min(5, len(true))))
        ndcg.append(dcg / idcg)
    return float(np.mean(p1)), float(np.mean(r5)), float(np.mean(ndcg))


@pytest.mark.parametrize("seed", range(6))
def test_ranking_metrics_match_naive_definition_with_ties(seed: int) -> None:
    rng = np.random.default_rng(seed)
    Y_true = rng.random((30, 8)) < 0.3
    Y_true[0] = False  # a doc with no true label is excluded from the ranking averages
    scores = rng.integers(0, 3, size=(30, 8)) / 2  # many ties
    got = multilabel_metrics(Y_true, scores > 0.4, scores)
    p1, r5, ndcg = _naive_ranking(Y_true, scores)
    assert got["p_at_1"] == pytest.approx(p1)
    assert got["r_at_5"] == pytest.approx(r5)
    assert got["ndcg_at_5"] == pytest.approx(ndcg)


def test_ties_broken_by_lower_label_index() -> None:
    Y_true = np.array([[0, 1, 0]])
    got = multilabel_metrics(Y_true, Y_true, np.array([[0.5, 0.5, 0.5]]))
    assert got["p_at_1"] == 0.0  # label 0 wins the tie, and it is not true
    got = multilabel_metrics(Y_true, Y_true, np.array([[0.4, 0.5, 0.5]]))
    assert got["p_at_1"] == 1.0


def test_fewer_labels_than_k() -> None:
    Y_true = np.array([[1, 1, 0]])
    got = multilabel_metrics(Y_true, Y_true, np.array([[0.9, 0.5, 0.1]]))
    assert got["r_at_5"] == 1.0
    assert got["ndcg_at_5"] == 1.0


def test_shape_and_value_errors() -> None:
    with pytest.raises(ValueError, match="shape"):
        multilabel_metrics(np.zeros((2, 3)), np.zeros((2, 4)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="0/1"):
        multilabel_metrics(np.full((2, 3), 2), np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="finite"):
        multilabel_metrics(np.zeros((1, 2)), np.zeros((1, 2)), np.array([[np.nan, 0.0]]))


def test_per_tag_table_matches_sklearn_and_is_sorted_by_support() -> None:
    Y_true, Y_pred, _ = _random_case(3, n_docs=50, n_labels=5)
    labels = [f"t{j}" for j in range(5)]
    rows = per_tag_table(Y_true, Y_pred, labels)
    supports = [r["support"] for r in rows]
    assert supports == sorted(supports, reverse=True)
    p = precision_score(Y_true, Y_pred, average=None, zero_division=0)
    r = recall_score(Y_true, Y_pred, average=None, zero_division=0)
    f = f1_score(Y_true, Y_pred, average=None, zero_division=0)
    for row in rows:
        j = labels.index(row["tag"])
        assert set(row) == {"tag", "support", "predicted", "precision", "recall", "f1"}
        assert row["support"] == int(Y_true[:, j].sum())
        assert row["predicted"] == int(Y_pred[:, j].sum())
        assert row["precision"] == pytest.approx(p[j])
        assert row["recall"] == pytest.approx(r[j])
        assert row["f1"] == pytest.approx(f[j])


@pytest.mark.parametrize("seed", range(8))
def test_single_label_metrics_match_sklearn(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = ["a", "b", "c", "d", "e"]
    y_true = rng.integers(0, 4, size=40)  # class "e" never occurs in truth
    y_pred = np.where(rng.random(40) < 0.6, y_true, rng.integers(0, 5, size=40))
    got = single_label_metrics(y_true, y_pred, labels)
    assert got["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert got["weighted_f1"] == pytest.approx(
        f1_score(y_true, y_pred, average="weighted", zero_division=0)
    )
    assert got["macro_f1"] == pytest.approx(
        f1_score(y_true, y_pred, average="macro", zero_division=0)
    )


def test_single_label_rejects_codes_out_of_range() -> None:
    with pytest.raises(ValueError, match="class codes"):
        single_label_metrics(np.array([0, 3]), np.array([0, 1]), ["a", "b"])


def test_confusion_counts() -> None:
    got = confusion_counts(np.array([0, 0, 1, 2]), np.array([0, 1, 1, 0]), 3)
    assert got == [[1, 1, 0], [0, 1, 0], [1, 0, 0]]


def test_threshold_curve_matches_direct_computation() -> None:
    Y_true, _, scores = _random_case(5, n_docs=60, n_labels=6)
    scores = np.round(scores, 2)  # ties exactly on the thresholds
    grid = np.linspace(0, 1, 21)
    got = threshold_curve(Y_true, scores, grid)
    expected = [f1_score(Y_true, scores >= t, average="micro", zero_division=0) for t in grid]
    np.testing.assert_allclose(got, expected)


def test_micro_pr_curve_is_sklearn_on_flattened_arrays() -> None:
    Y_true, _, scores = _random_case(6)
    p, r, t = micro_pr_curve(Y_true, scores)
    p2, r2, t2 = precision_recall_curve(Y_true.ravel(), scores.ravel())
    np.testing.assert_allclose(p, p2)
    np.testing.assert_allclose(r, r2)
    np.testing.assert_allclose(t, t2)
