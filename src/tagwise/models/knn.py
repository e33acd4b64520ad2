"""kNN label propagation over sentence embeddings.

A new project gets the tags of its most similar training projects (cosine similarity
of the embeddings), each neighbour's vote weighted by ``exp(similarity / temperature)``
and the weights normalised to sum to one, so a score is "the similarity-weighted share
of neighbours that carry the tag". The training embeddings and label matrix are saved
as ``.npy`` arrays.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tagwise.errors import ConfigError
from tagwise.models.base import FitContext, TagModel, load_array, save_array
from tagwise.models.embedding import ENCODER_DEFAULTS, EncoderMixin


def knn_votes(
    queries: np.ndarray, keys: np.ndarray, Y: np.ndarray, *, k: int, temperature: float
) -> np.ndarray:
    """Similarity-weighted label votes of the ``k`` nearest ``keys`` for each query row."""
    n_keys = keys.shape[0]
    if n_keys == 0:
        return np.zeros((queries.shape[0], Y.shape[1]))
    k = min(k, n_keys)
    # one matrix-vector product per query: a row's scores never depend on its batch
    keys = np.ascontiguousarray(keys, dtype=np.float32)
    sims = np.vstack([keys @ q for q in queries.astype(np.float32)])
    if k < n_keys:
        idx = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    else:
        idx = np.tile(np.arange(n_keys), (queries.shape[0], 1))
    top = np.take_along_axis(sims, idx, axis=1).astype(np.float64)
    w = np.exp((top - top.max(axis=1, keepdims=True)) / temperature)
    w /= w.sum(axis=1, keepdims=True)
    scores = np.einsum("nk,nkl->nl", w, Y[idx].astype(np.float64))
    return np.clip(scores, 0.0, 1.0)


class KnnModel(EncoderMixin, TagModel):
    """Label propagation from the ``k`` most similar training projects."""

    name = "knn"
    defaults: ClassVar[dict[str, Any]] = {**ENCODER_DEFAULTS, "k": 20, "temperature": 0.1}

    def _validate_params(self) -> None:
        self._validate_encoder_params()
        p = self.params
        if not isinstance(p["k"], int) or p["k"] < 1:
            raise ConfigError(f"{self.name}: k={p['k']!r} must be an integer ≥ 1")
        if not p["temperature"] > 0:
            raise ConfigError(f"{self.name}: temperature={p['temperature']} must be > 0")

    def _fit(self, texts: list[str], Y: np.ndarray, context: FitContext) -> None:
        self.keys_ = self.embed(texts, fitting=True)
        self.Y_ = Y.astype(np.int8)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return knn_votes(
            self.embed(texts),
            self.keys_,
            self.Y_,
            k=int(self.params["k"]),
            temperature=float(self.params["temperature"]),
        )

    def _save(self, directory: Path) -> None:
        self._save_encoder(directory)
        save_array(directory / "keys.npy", self.keys_)
        save_array(directory / "labels.npy", self.Y_)

    def _load(self, directory: Path) -> None:
        self._check_encoder(directory)
        self.keys_ = load_array(directory / "keys.npy")
        self.Y_ = load_array(directory / "labels.npy")
