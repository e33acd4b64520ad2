"""Slices: the masks built from texts, dates and author tags; the slice table."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pytest

from tagwise.evaluate import default_slices, multilabel_metrics, slice_table


def _inputs():
    texts = ["one two", "a b c d", "w " * 8, "x " * 20, "y " * 40, "z " * 3, "q " * 10, "r"]
    dates = [
        datetime(2020, 1, 5),
        datetime(2020, 3, 31, 23, 59),
        datetime(2020, 4, 1),
        date(2020, 12, 31),
        datetime(2021, 2, 1),
        datetime(2020, 5, 6),
        datetime(2020, 7, 7),
        datetime(2021, 1, 1),
    ]
    n_tags = [1, 2, 3, 5, 0, 2, 4, 7]
    return texts, dates, n_tags


def test_default_slices_masks() -> None:
    texts, dates, n_tags = _inputs()
    s = default_slices(texts, dates, n_tags)
    words = np.array([len(t.split()) for t in texts])
    assert list(s)[:4] == ["all", "short text", "long text", "few tags"]
    assert s["all"].all() and s["all"].dtype == bool
    assert np.array_equal(s["short text"], words <= np.quantile(words, 0.25))
    assert np.array_equal(s["long text"], words >= np.quantile(words, 0.75))
    assert s["short text"].sum() >= 2 and s["long text"].sum() >= 2
    assert not (s["short text"] & s["long text"]).any()
    assert s["few tags"].tolist() == [True, True, False, False, True, True, False, False]
    quarters = [k for k in s if "Q" in k]
    assert quarters == ["2020Q1", "2020Q2", "2020Q3", "2020Q4", "2021Q1"]
    assert s["2020Q1"].tolist() == [True, True, False, False, False, False, False, False]
    assert s["2021Q1"].tolist() == [False, False, False, False, True, False, False, True]
    # quarters partition the documents
    assert np.array_equal(sum(s[q].astype(int) for q in quarters), np.ones(len(texts)))


def test_default_slices_length_mismatch() -> None:
    texts, dates, n_tags = _inputs()
    with pytest.raises(ValueError, match="same length"):
        default_slices(texts, dates[:-1], n_tags)


def test_slice_table_metrics_and_small_slices_kept() -> None:
    rng = np.random.default_rng(0)
    Y_true = rng.random((60, 6)) < 0.3
    scores = rng.random((60, 6))
    Y_pred = scores > 0.5
    slices = {"all": np.ones(60, bool), "first half": np.arange(60) < 30, "tiny": np.arange(60) < 4}
    rows = slice_table(slices, Y_true, Y_pred, scores, min_size=10, n_boot=200)
    assert [r["slice"] for r in rows] == ["all", "first half", "tiny"]
    for r in rows:
        assert set(r) == {
            "slice",
            "n",
            "micro_f1",
            "micro_precision",
            "micro_recall",
            "ci_low",
            "ci_high",
        }
    half = rows[1]
    expected = multilabel_metrics(Y_true[:30], Y_pred[:30], scores[:30])
    assert half["n"] == 30
    assert half["micro_f1"] == pytest.approx(expected["micro_f1"])
    assert half["micro_precision"] == pytest.approx(expected["micro_precision"])
    assert half["micro_recall"] == pytest.approx(expected["micro_recall"])
    assert half["ci_low"] <= half["micro_f1"] <= half["ci_high"]
    tiny = rows[2]
    assert tiny["n"] == 4
    assert all(tiny[k] is None for k in ("micro_f1", "ci_low", "ci_high", "micro_recall"))


def test_slice_table_rejects_wrong_mask_length() -> None:
    Y = np.zeros((5, 2), bool)
    with pytest.raises(ValueError, match="mask shape"):
        slice_table({"bad": np.ones(4, bool)}, Y, Y)
