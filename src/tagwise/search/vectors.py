"""Optional semantic search: an embedder turns text into vectors, a vector index finds
the nearest ones.

Both are protocols so a later embedding model (sentence-transformers) or a real ANN
library (usearch, hnswlib, sqlite-vec) plugs in without touching the catalogue index.
The default :class:`NumpyVectorIndex` is exact brute force over a normalised float32
matrix: at 100,000 × 384 one query is a ~40 M multiply-add matrix-vector product
(a few ms), and exact means no recall loss to tune away.

Vectors are derived data: the SQLite file is the source of truth, and the catalogue
index re-embeds any project whose vector is missing when it opens.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Embedder(Protocol):
    """Text → unit-length vectors (rows), one model for projects and queries."""

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts) × dim) float array."""
        ...


@runtime_checkable
class VectorIndex(Protocol):
    """Vectors by project id."""

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Insert or replace the vectors of these ids."""
        ...

    def remove(self, ids: Sequence[int]) -> None:
        """Forget these ids (unknown ids are ignored)."""
        ...

    def ids(self) -> set[int]:
        """Every id held."""
        ...

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """The ``k`` nearest ids by cosine similarity, best first."""
        ...

    def similarity(self, vector: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        """Cosine similarity of ``vector`` to each id (0 for unknown ids)."""
        ...

    def save(self) -> None:
        """Persist (atomically)."""
        ...


def _normalise(vectors: np.ndarray) -> np.ndarray:
    v = np.asarray(vectors, dtype=np.float32)
    if v.ndim == 1:
        v = v[None, :]
    norms = np.linalg.norm(v, axis=1, keepdims=True)
    return v / np.where(norms == 0, 1.0, norms)


class NumpyVectorIndex:
    """Exact cosine search over an in-memory matrix, saved as two ``.npy`` files."""

    def __init__(self, path: Path | None = None, dim: int | None = None) -> None:
        self.path = path
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, dim or 0), dtype=np.float32)
        self._row: dict[int, int] = {}

    @classmethod
    def load(cls, path: Path) -> NumpyVectorIndex:
        """Open ``<path>.vectors.npy``/``<path>.ids.npy`` if present, else start empty."""
        index = cls(path)
        vec, ids = _files(path)
        if vec.is_file() and ids.is_file():
            index._matrix = np.load(vec, allow_pickle=False)
            index._ids = np.load(ids, allow_pickle=False)
            index._row = {int(i): r for r, i in enumerate(index._ids)}
        return index

    def add(self, ids: Sequence[int], vectors: np.ndarray) -> None:
        """Insert or replace rows; new rows are appended."""
        v = _normalise(vectors)
        if self._matrix.shape[0] == 0:
            self._matrix = np.zeros((0, v.shape[1]), dtype=np.float32)
        new_ids, new_rows = [], []
        for i, row in zip(ids, v, strict=True):
            r = self._row.get(int(i))
            if r is None:
                new_ids.append(int(i))
                new_rows.append(row)
            else:
                self._matrix[r] = row
        if new_ids:
            start = len(self._ids)
            self._matrix = np.vstack([self._matrix, np.asarray(new_rows)])
            self._ids = np.concatenate([self._ids, np.asarray(new_ids, dtype=np.int64)])
            self._row.update({i: start + n for n, i in enumerate(new_ids)})

    def remove(self, ids: Sequence[int]) -> None:
        """Drop rows and re-pack the matrix."""
        drop = {int(i) for i in ids} & self._row.keys()
        if not drop:
            return
        keep = np.asarray([int(i) not in drop for i in self._ids])
        self._ids, self._matrix = self._ids[keep], self._matrix[keep]
        self._row = {int(i): r for r, i in enumerate(self._ids)}

    def ids(self) -> set[int]:
        """Every id held."""
        return set(self._row)

    def search(self, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """Top ``k`` by cosine (argpartition, then sort the few)."""
        if len(self._ids) == 0 or k <= 0:
            return []
        sims = self._matrix @ _normalise(vector)[0]
        k = min(k, len(sims))
        top = np.argpartition(-sims, k - 1)[:k]
        top = top[np.argsort(-sims[top], kind="stable")]
        return [(int(self._ids[r]), float(sims[r])) for r in top]

    def similarity(self, vector: np.ndarray, ids: Sequence[int]) -> np.ndarray:
        """Cosine to each id; 0 where an id has no vector."""
        q = _normalise(vector)[0]
        out = np.zeros(len(ids), dtype=np.float32)
        for n, i in enumerate(ids):
            r = self._row.get(int(i))
            if r is not None:
                out[n] = float(self._matrix[r] @ q)
        return out

    def save(self) -> None:
        """Write both arrays via temporary files + rename (no half-written index)."""
        if self.path is None:
            return
        for target, array in zip(_files(self.path), (self._matrix, self._ids), strict=True):
            tmp = target.with_name(target.name + ".tmp.npy")
            np.save(tmp, array, allow_pickle=False)
            os.replace(tmp, target)


def _files(path: Path) -> tuple[Path, Path]:
    return path.with_name(path.name + ".vectors.npy"), path.with_name(path.name + ".ids.npy")
