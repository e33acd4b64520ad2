"""Splits: iterative (multi-label), stratified (single-label), temporal, k-fold."""

from __future__ import annotations

from datetime import datetime, timedelta

import numpy as np
import pytest

from tagwise.errors import ConfigError
from tagwise.split import Split, iterative_split, kfold_indices, stratified_split, temporal_split


def _multilabel(n: int = 400, n_labels: int = 12, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rates = np.linspace(0.02, 0.4, n_labels)
    Y = (rng.random((n, n_labels)) < rates).astype(np.int8)
    Y[Y.sum(axis=1) == 0, -1] = 1
    return Y


def _assert_partition(split: Split, n: int) -> None:
    parts = [split.train, split.val, split.test]
    joined = np.concatenate(parts)
    assert len(joined) == n
    assert set(joined.tolist()) == set(range(n))
    for part in parts:
        assert np.all(np.diff(part) > 0)  # sorted, no duplicates


def test_iterative_split_sizes_disjoint_and_covering():
    Y = _multilabel()
    split = iterative_split(Y, seed=42)
    _assert_partition(split, len(Y))
    sizes = split.sizes()
    assert sizes["train"] + sizes["val"] + sizes["test"] == 400
    assert abs(sizes["train"] - 280) <= 12
    assert abs(sizes["val"] - 60) <= 12
    assert abs(sizes["test"] - 60) <= 12


def test_iterative_split_is_deterministic_for_a_seed():
    Y = _multilabel()
    a, b = iterative_split(Y, seed=7), iterative_split(Y, seed=7)
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(a, part), getattr(b, part))
    c = iterative_split(Y, seed=8)
    assert not np.array_equal(a.test, c.test)


def test_iterative_split_keeps_every_label_with_three_examples_in_train():
    Y = _multilabel(n=300, n_labels=20, seed=3)
    Y[:, 0] = 0
    Y[[5, 100, 200], 0] = 1  # a rare label: exactly three examples
    split = iterative_split(Y, seed=42)
    counts = Y.sum(axis=0)
    train_counts = Y[split.train].sum(axis=0)
    assert np.all(train_counts[counts >= 3] > 0)


def test_iterative_split_balances_label_rates():
    Y = _multilabel(n=600, seed=1)
    split = iterative_split(Y, seed=42)
    overall = Y.mean(axis=0)
    for part in (split.train, split.val, split.test):
        assert np.max(np.abs(Y[part].mean(axis=0) - overall)) < 0.05


def test_iterative_split_on_tiny_corpus(tiny_prepared):
    split = iterative_split(tiny_prepared.Y, seed=42)
    _assert_partition(split, len(tiny_prepared.texts))
    assert np.all(tiny_prepared.Y[split.train].sum(axis=0) > 0)


@pytest.mark.parametrize(("val", "test"), [(0, 0.15), (0.15, 1.0), (0.5, 0.5), (-0.1, 0.2)])
def test_bad_fractions_raise_config_error(val, test):
    Y = _multilabel(n=50)
    with pytest.raises(ConfigError, match="val_size"):
        iterative_split(Y, val_size=val, test_size=test)
    with pytest.raises(ConfigError, match="val_size"):
        stratified_split(np.arange(50) % 2, val_size=val, test_size=test)


def test_stratified_split_keeps_class_proportions():
    y = np.array([0] * 200 + [1] * 100 + [2] * 40)
    split = stratified_split(y, seed=42)
    _assert_partition(split, len(y))
    overall = np.bincount(y) / len(y)
    for part in (split.train, split.val, split.test):
        share = np.bincount(y[part], minlength=3) / len(part)
        np.testing.assert_allclose(share, overall, atol=0.03)
    assert abs(len(split.train) - 0.7 * len(y)) <= 3


def test_stratified_split_is_deterministic():
    y = np.arange(90) % 3
    a, b = stratified_split(y, seed=5), stratified_split(y, seed=5)
    np.testing.assert_array_equal(a.test, b.test)
    np.testing.assert_array_equal(a.val, b.val)


# --- temporal ---------------------------------------------------------------------


def _dates(n: int = 100) -> list[datetime]:
    start = datetime(2020, 1, 1)
    rng = np.random.default_rng(0)
    offsets = rng.permutation(n)  # shuffled, so the split must sort by date
    return [start + timedelta(days=int(d)) for d in offsets]


def test_temporal_split_train_before_cutoff_test_after():
    dates = _dates()
    cutoff = datetime(2020, 3, 11)  # day 70
    split = temporal_split(dates, cutoff, val_size=0.2)
    _assert_partition(split, len(dates))
    past = [dates[i] for i in np.concatenate([split.train, split.val])]
    assert all(d < cutoff for d in past)
    assert all(dates[i] >= cutoff for i in split.test)
    assert len(split.test) == 30
    assert len(split.val) == 14  # round(70 * 0.2)


def test_temporal_validation_is_the_latest_part_of_the_past():
    dates = _dates()
    split = temporal_split(dates, datetime(2020, 3, 11), val_size=0.2)
    assert max(dates[i] for i in split.train) < min(dates[i] for i in split.val)


def test_temporal_cutoff_equal_to_a_date_goes_to_test():
    dates = [datetime(2020, 1, d) for d in range(1, 11)]
    split = temporal_split(dates, datetime(2020, 1, 8), val_size=0.2)
    assert split.test.tolist() == [7, 8, 9]


@pytest.mark.parametrize(
    "cutoff", [datetime(2019, 1, 1), datetime(2030, 1, 1), datetime(2020, 1, 2)]
)
def test_temporal_cutoff_outside_data_raises(cutoff):
    with pytest.raises(ConfigError, match="choose a date inside the data"):
        temporal_split(_dates(), cutoff)


@pytest.mark.parametrize("val_size", [0, 1, 1.5])
def test_temporal_bad_val_size(val_size):
    with pytest.raises(ConfigError, match="val_size"):
        temporal_split(_dates(), datetime(2020, 3, 1), val_size=val_size)


def test_temporal_split_on_tiny_corpus(tiny_prepared):
    cutoff = datetime(2020, 5, 1)
    split = temporal_split(tiny_prepared.dates, cutoff)
    assert all(tiny_prepared.dates[i] >= cutoff for i in split.test)
    assert all(tiny_prepared.dates[i] < cutoff for i in split.train)


# --- k-fold -----------------------------------------------------------------------


def test_kfold_folds_partition_the_rows():
    Y = _multilabel(n=100)
    folds = kfold_indices(Y, n_splits=5, seed=42)
    assert len(folds) == 5
    val_rows = np.concatenate([v for _, v in folds])
    assert sorted(val_rows.tolist()) == list(range(100))
    for train, val in folds:
        assert not set(train) & set(val)
        assert len(train) + len(val) == 100
