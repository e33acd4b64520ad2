"""The protocol every tag model follows, sklearn-style.

``__init__`` only stores keyword parameters; ``fit`` validates them, learns state into
``name_`` attributes and returns ``self``; ``predict_proba`` returns an
(n_docs × n_labels) array of scores in [0, 1]; ``save``/``load`` write and read a
directory of plain files (JSON and ``.npy`` arrays loaded with ``allow_pickle=False``),
so a model file can never run code when it is loaded.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tagwise.errors import ConfigError, IntegrityError, NotTrainedError
from tagwise.taxonomy import LabelSpace, Taxonomy


@dataclass(frozen=True)
class FitContext:
    """What a model may know besides texts and labels: the label space and vocabulary."""

    labels: LabelSpace
    taxonomy: Taxonomy
    mode: str = "multi"
    seed: int = 42


class TagModel(ABC):
    """Base class: parameter handling, fitted checks and the params file."""

    name: ClassVar[str]
    defaults: ClassVar[dict[str, Any]] = {}

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ConfigError(
                f"{self.name}: unknown parameter(s) {sorted(unknown)}; "
                f"valid: {sorted(self.defaults)}"
            )
        self.params: dict[str, Any] = {**self.defaults, **params}

    def fit(self, texts: Sequence[str], Y: np.ndarray, context: FitContext) -> TagModel:
        """Learn from normalised ``texts`` and the (n_docs × n_labels) 0/1 matrix ``Y``."""
        if len(texts) != Y.shape[0]:
            raise ConfigError(f"{len(texts)} texts but {Y.shape[0]} label rows")
        if Y.shape[1] != len(context.labels):
            raise ConfigError(f"Y has {Y.shape[1]} columns, label space {len(context.labels)}")
        self._validate_params()
        self._fit(list(texts), np.asarray(Y, dtype=np.int8), context)
        self.labels_ = context.labels
        return self

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Scores in [0, 1] per (text, label); ``texts`` are normalised already."""
        self.check_fitted()
        if len(texts) == 0:
            return np.zeros((0, len(self.labels_)), dtype=np.float64)
        return self._predict_proba(list(texts))

    def check_fitted(self) -> None:
        """Raise :class:`NotTrainedError` unless ``fit`` or ``load`` ran."""
        if not hasattr(self, "labels_"):
            raise NotTrainedError(f"{self.name} is not fitted; call fit() or load() first")

    def save(self, directory: Path) -> None:
        """Write params and learned state into ``directory`` (created by the caller)."""
        self.check_fitted()
        (directory / "params.json").write_text(
            json.dumps({"name": self.name, "params": self.params}, indent=2, sort_keys=True)
        )
        (directory / "labels.json").write_text(json.dumps(self.labels_.to_dict()))
        self._save(directory)

    @classmethod
    def load(cls, directory: Path) -> TagModel:
        """Rebuild a fitted model from :meth:`save` output."""
        meta = json.loads((directory / "params.json").read_text())
        model = cls(**meta["params"])
        model.labels_ = LabelSpace.from_dict(json.loads((directory / "labels.json").read_text()))
        model._load(directory)
        return model

    def _validate_params(self) -> None:
        """Override to check parameter values; raise ConfigError listing valid values."""

    @abstractmethod
    def _fit(self, texts: list[str], Y: np.ndarray, context: FitContext) -> None: ...

    @abstractmethod
    def _predict_proba(self, texts: list[str]) -> np.ndarray: ...

    def _save(self, directory: Path) -> None:
        """Override when the model has learned state beyond params and labels."""

    def _load(self, directory: Path) -> None:
        """Override to read what :meth:`_save` wrote."""


def save_array(path: Path, array: np.ndarray) -> None:
    """Save a numeric array without pickle."""
    with path.open("wb") as fh:
        np.save(fh, np.ascontiguousarray(array), allow_pickle=False)


def load_array(path: Path) -> np.ndarray:
    """Load an array saved by :func:`save_array`; pickled objects are refused."""
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, EOFError) as exc:  # an object (pickled) array, or not .npy at all
        raise IntegrityError(f"{path}: not a plain numeric array ({exc})") from None
