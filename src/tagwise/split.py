"""Train/validation/test splits: iterative stratification, stratified, temporal.

Multi-label data is split with iterative stratification (Sechidis et al., 2011) so that
rare labels appear in every part; single-label data with ordinary stratification; and a
temporal split checks the model on projects that arrive later.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tagwise.errors import ConfigError


@dataclass(frozen=True)
class Split:
    """Row indices of each part; disjoint and together cover every row."""

    train: np.ndarray
    val: np.ndarray
    test: np.ndarray

    def sizes(self) -> dict[str, int]:
        """Part sizes, for logs and reports."""
        return {"train": len(self.train), "val": len(self.val), "test": len(self.test)}


def _check_fractions(val_size: float, test_size: float) -> None:
    if not (0 < val_size < 1 and 0 < test_size < 1 and val_size + test_size < 1):
        raise ConfigError(
            f"val_size={val_size} and test_size={test_size} must be in (0, 1) with a sum < 1"
        )


def _iterative_holdout(Y: np.ndarray, rows: np.ndarray, size: float, seed: int) -> tuple:
    """Split ``rows`` of ``Y`` into (rest, holdout) with ``size`` in the holdout."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedShuffleSplit

    splitter = MultilabelStratifiedShuffleSplit(n_splits=1, test_size=size, random_state=seed)
    rest, hold = next(splitter.split(np.zeros((len(rows), 1)), Y[rows]))
    return np.sort(rows[rest]), np.sort(rows[hold])


def iterative_split(
    Y: np.ndarray, *, val_size: float = 0.15, test_size: float = 0.15, seed: int = 42
) -> Split:
    """70/15/15 (by default) multi-label split: test first, then val from the rest."""
    _check_fractions(val_size, test_size)
    rows = np.arange(Y.shape[0])
    rest, test = _iterative_holdout(Y, rows, test_size, seed)
    train, val = _iterative_holdout(Y, rest, val_size / (1 - test_size), seed)
    return Split(train=train, val=val, test=test)


def stratified_split(
    y: Sequence[int] | np.ndarray,
    *,
    val_size: float = 0.15,
    test_size: float = 0.15,
    seed: int = 42,
) -> Split:
    """Single-label split with each class in proportion in every part."""
    from sklearn.model_selection import train_test_split

    _check_fractions(val_size, test_size)
    y = np.asarray(y)
    rows = np.arange(len(y))
    rest, test = train_test_split(rows, test_size=test_size, stratify=y, random_state=seed)
    train, val = train_test_split(
        rest, test_size=val_size / (1 - test_size), stratify=y[rest], random_state=seed
    )
    return Split(train=np.sort(train), val=np.sort(val), test=np.sort(test))


def temporal_split(dates: Sequence[datetime], cutoff: datetime, *, val_size: float = 0.15) -> Split:
    """Train on projects before ``cutoff`` (its latest ``val_size`` as val), test on the rest.

    Validation is the most recent slice of the past, so tuning also favours what holds
    up on later projects.
    """
    if not 0 < val_size < 1:
        raise ConfigError(f"val_size={val_size} must be in (0, 1)")
    order = np.argsort(np.array([d.timestamp() for d in dates]), kind="stable")
    before = np.array([i for i in order if dates[i] < cutoff], dtype=int)
    after = np.array([i for i in order if dates[i] >= cutoff], dtype=int)
    if len(before) < 2 or len(after) == 0:
        raise ConfigError(
            f"temporal cutoff {cutoff:%Y-%m-%d} leaves {len(before)} projects before and "
            f"{len(after)} after it; choose a date inside the data"
        )
    n_val = max(1, round(len(before) * val_size))
    return Split(train=np.sort(before[:-n_val]), val=np.sort(before[-n_val:]), test=np.sort(after))


def temporal_holdout(
    dates: Sequence[datetime], *, val_size: float = 0.15, test_size: float = 0.15
) -> Split:
    """Oldest projects train, the next ones validate, the newest test (time order).

    For monitoring: the drift reference is built from validation, and a validation set
    *later* than the training data shows the novelty (new words, lower scores) that
    live traffic has too; a random validation set makes every live window look drifted.
    """
    if not 0 < val_size + test_size < 1:
        raise ConfigError(f"val_size + test_size = {val_size + test_size} must be in (0, 1)")
    order = np.argsort(np.array([d.timestamp() for d in dates]), kind="stable")
    n = len(order)
    n_test, n_val = max(1, round(n * test_size)), max(1, round(n * val_size))
    if n - n_test - n_val < 2:
        raise ConfigError(f"{n} projects are too few for a temporal train/val/test split")
    train, val, test = np.split(order, [n - n_test - n_val, n - n_test])
    return Split(train=np.sort(train), val=np.sort(val), test=np.sort(test))


def kfold_indices(Y: np.ndarray, *, n_splits: int = 5, seed: int = 42) -> list[tuple]:
    """Multi-label stratified k-fold (train_idx, val_idx) pairs, for tuning on train+val."""
    from iterstrat.ml_stratifiers import MultilabelStratifiedKFold

    kf = MultilabelStratifiedKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    return list(kf.split(np.zeros((Y.shape[0], 1)), Y))
