"""An in-memory copy of the tag postings, for tag filters, facets and dates in microseconds.

Why: SQLite visits a row in about a microsecond, and a broad tag (``natural language
processing`` on a third of 100,000 projects) has tens of thousands of postings, so a
two-tag filter plus facet counts in SQL costs tens of milliseconds. The same work on
sorted numpy arrays (one per tag: project rows and the project's best *evidence* for
the tag, see ``weights``) is a merge of two arrays and one masked count per tag.

SQLite stays the source of truth: the cache is loaded from ``project_tags`` on first
use, patched in place after this process's own writes, and reloaded when
``PRAGMA data_version`` shows that another connection committed.

Rows are dense positions in load/append order (``pid[row]`` is the project id); a
tag's row array stays sorted because new projects are appended at the end.
"""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable, Sequence

import numpy as np

from tagwise.search.postings import Posting
from tagwise.search.weights import RankingWeights

_EMPTY_ROWS = np.zeros(0, dtype=np.int64)
_EMPTY_EV = np.zeros(0, dtype=np.float32)


def evidence(source: str, weight: float, direct: bool, w: RankingWeights) -> float:
    """One posting's evidence; the same rule as ``weights`` documents."""
    base = w.author if source == "author" else w.suggested * weight
    return base * (1.0 if direct else w.ancestor)


def _to_seconds(dates: Sequence[str]) -> np.ndarray:
    if not dates:
        return np.zeros(0, dtype=np.int64)
    return np.array([d.replace(" ", "T") for d in dates], dtype="datetime64[s]").astype(np.int64)


class TagCache:
    """Per-tag sorted rows + evidence, project ids and dates, by dense row."""

    def __init__(self, weights: RankingWeights) -> None:
        self.weights = weights
        self.pid = np.zeros(0, dtype=np.int64)
        self.created = np.zeros(0, dtype=np.int64)
        self.alive = np.zeros(0, dtype=bool)
        self.row_of: dict[int, int] = {}
        self.rows: dict[str, np.ndarray] = {}
        self.ev: dict[str, np.ndarray] = {}
        self.tags_of: dict[int, tuple[str, ...]] = {}
        self.data_version = -1
        self._order: np.ndarray | None = None  # argsort of pid, rebuilt after appends
        # project → tags as CSR over the rows present at load; rows patched later are
        # marked not ``csr_ok`` and counted from ``tags_of`` instead.
        self.tag_names: list[str] = []
        self.indptr = np.zeros(1, dtype=np.int64)
        self.indices = np.zeros(0, dtype=np.int64)
        self.csr_ok = np.zeros(0, dtype=bool)

    # ---------------------------------------------------------------- loading
    @classmethod
    def load(cls, conn: sqlite3.Connection, weights: RankingWeights) -> TagCache:
        """Read every project id/date and posting (in primary-key order: by tag)."""
        cache = cls(weights)
        cache.data_version = conn.execute("PRAGMA data_version").fetchone()[0]
        proj = conn.execute("SELECT id, created_on FROM projects ORDER BY id").fetchall()
        cache.pid = np.fromiter((r[0] for r in proj), dtype=np.int64, count=len(proj))
        cache.created = _to_seconds([r[1] for r in proj])
        cache.alive = np.ones(len(proj), dtype=bool)
        cache.row_of = {int(p): n for n, p in enumerate(cache.pid)}
        w = weights
        rows = conn.execute(
            "SELECT tag, project_id, MAX((CASE source WHEN 'author' THEN ? ELSE ? * weight END)"
            " * (CASE direct WHEN 1 THEN 1.0 ELSE ? END)) FROM project_tags "
            "GROUP BY tag, project_id",
            (w.author, w.suggested, w.ancestor),
        ).fetchall()
        if rows:
            tags = [r[0] for r in rows]
            prow = np.fromiter((cache.row_of[r[1]] for r in rows), dtype=np.int64, count=len(rows))
            ev = np.fromiter((r[2] for r in rows), dtype=np.float32, count=len(rows))
            starts = [0] + [i for i in range(1, len(tags)) if tags[i] != tags[i - 1]]
            bounds = [*starts, len(tags)]
            per_row: dict[int, list[str]] = {}
            for a, b in itertools.pairwise(bounds):
                tag = tags[a]
                order = np.argsort(prow[a:b], kind="stable")
                cache.rows[tag] = prow[a:b][order]
                cache.ev[tag] = ev[a:b][order]
                for r in cache.rows[tag].tolist():
                    per_row.setdefault(r, []).append(tag)
            cache.tags_of = {r: tuple(t) for r, t in per_row.items()}
        cache._build_csr()
        return cache

    def _build_csr(self) -> None:
        self.tag_names = list(self.rows)
        if not self.tag_names:
            self.indptr = np.zeros(len(self.pid) + 1, dtype=np.int64)
            self.csr_ok = np.ones(len(self.pid), dtype=bool)
            return
        rows = np.concatenate([self.rows[t] for t in self.tag_names])
        cols = np.concatenate(
            [np.full(len(self.rows[t]), n, dtype=np.int64) for n, t in enumerate(self.tag_names)]
        )
        order = np.argsort(rows, kind="stable")
        self.indices = cols[order]
        counts = np.bincount(rows, minlength=len(self.pid))
        self.indptr = np.concatenate([[0], np.cumsum(counts)])
        self.csr_ok = np.ones(len(self.pid), dtype=bool)

    # ---------------------------------------------------------------- patching
    def apply(self, projects: Iterable[tuple[int, str, list[Posting]]]) -> None:
        """Patch after this process upserted ``(id, created_on, postings)``."""
        for pid, created, postings in projects:
            row = self.row_of.get(pid)
            if row is None:
                row = len(self.pid)
                self.pid = np.append(self.pid, pid)
                self.created = np.append(self.created, _to_seconds([created]))
                self.alive = np.append(self.alive, True)
                self.csr_ok = np.append(self.csr_ok, False)
                self.indptr = np.append(self.indptr, self.indptr[-1])
                self.row_of[pid] = row
                self._order = None
            else:
                self.created[row] = _to_seconds([created])[0]
                self.alive[row] = True
                self.csr_ok[row] = False
            self._remove_row(row)
            best: dict[str, float] = {}
            for p in postings:
                e = evidence(p.source, p.weight, p.direct, self.weights)
                best[p.tag] = max(best.get(p.tag, 0.0), e)
            for tag, e in best.items():
                rows = self.rows.get(tag, _EMPTY_ROWS)
                at = int(np.searchsorted(rows, row))
                self.rows[tag] = np.insert(rows, at, row)
                self.ev[tag] = np.insert(self.ev.get(tag, _EMPTY_EV), at, np.float32(e))
            self.tags_of[row] = tuple(best)

    def remove(self, pid: int) -> None:
        """Patch after this process deleted a project."""
        row = self.row_of.get(pid)
        if row is not None:
            self._remove_row(row)
            self.alive[row] = False
            self.csr_ok[row] = False

    def _remove_row(self, row: int) -> None:
        for tag in self.tags_of.pop(row, ()):
            rows = self.rows[tag]
            at = int(np.searchsorted(rows, row))
            if at < len(rows) and rows[at] == row:
                self.rows[tag] = np.delete(rows, at)
                self.ev[tag] = np.delete(self.ev[tag], at)

    # ---------------------------------------------------------------- queries
    def df(self, tag: str) -> int:
        """How many projects carry a tag (any source)."""
        return len(self.rows.get(tag, _EMPTY_ROWS))

    def all_of(self, groups: Sequence[Sequence[str]]) -> tuple[np.ndarray, np.ndarray]:
        """Rows carrying a tag of every group; the best evidence within each group, summed.

        Groups are intersected rarest first, so the work is bounded by the rarest one.
        """
        parts = sorted((self.best_of(g) for g in groups), key=lambda p: len(p[0]))
        rows, score = parts[0]
        for r, e in parts[1:]:
            if len(rows) == 0 or len(r) == 0:
                return _EMPTY_ROWS, _EMPTY_EV
            # both sorted and unique: a binary search of the smaller in the larger is
            # O(a log b) and about twice as fast as ``intersect1d`` (which sorts a + b)
            pos = np.minimum(np.searchsorted(r, rows), len(r) - 1)
            hit = r[pos] == rows
            rows, score = rows[hit], score[hit] + e[pos[hit]]
        return rows, score

    def _stacked(self, tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray, bool]:
        """The posting lists of the known ``tags``, concatenated, and whether they still
        need merging (rows may repeat only when two or more tags are present)."""
        present = [t for t in dict.fromkeys(tags) if t in self.rows]
        if not present:
            return _EMPTY_ROWS, _EMPTY_EV, False
        if len(present) == 1:
            return self.rows[present[0]], self.ev[present[0]], False
        rows = np.concatenate([self.rows[t] for t in present])
        ev = np.concatenate([self.ev[t] for t in present])
        return rows, ev, True

    def any_of(self, tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Rows carrying at least one of ``tags``; evidence summed over those tags."""
        rows, ev, merge = self._stacked(tags)
        if not merge:
            return rows, ev
        uniq, inverse = np.unique(rows, return_inverse=True)
        return uniq, np.bincount(inverse, weights=ev, minlength=len(uniq)).astype(np.float32)

    def best_of(self, tags: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        """Rows carrying one of ``tags``; the best evidence among them (for a tag clause)."""
        rows, ev, merge = self._stacked(tags)
        if not merge:
            return rows, ev
        order = np.lexsort((-ev, rows))
        rows, ev = rows[order], ev[order]
        first = np.ones(len(rows), dtype=bool)
        first[1:] = rows[1:] != rows[:-1]
        return rows[first], ev[first]

    def rows_for_ids(self, ids: np.ndarray) -> np.ndarray:
        """Dense rows of project ids (ids the cache does not know are dropped)."""
        if len(self.pid) == 0 or len(ids) == 0:
            return _EMPTY_ROWS
        if self._order is None:
            self._order = np.argsort(self.pid, kind="stable")
        sorted_pid = self.pid[self._order]
        pos = np.minimum(np.searchsorted(sorted_pid, ids), len(sorted_pid) - 1)
        found = sorted_pid[pos] == ids
        out = self._order[pos[found]]
        out.sort()
        return out

    def facets(self, rows: np.ndarray, n: int) -> list[tuple[str, int]]:
        """Top ``n`` tags by how many of ``rows`` carry them (one bincount over the CSR)."""
        if n <= 0 or len(rows) == 0:
            return []
        ok = self.csr_ok[rows]
        r = rows[ok]
        starts, lengths = self.indptr[r], self.indptr[r + 1] - self.indptr[r]
        total = int(lengths.sum())
        counts: dict[str, int] = {}
        if total:
            offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
            cols = self.indices[offsets + np.arange(total)]
            binned = np.bincount(cols, minlength=len(self.tag_names))
            nz = np.flatnonzero(binned)
            counts = {self.tag_names[i]: int(binned[i]) for i in nz}
        for row in rows[~ok].tolist():
            for t in self.tags_of.get(row, ()):
                counts[t] = counts.get(t, 0) + 1
        top = sorted(counts.items(), key=lambda tc: (-tc[1], tc[0]))
        return top[:n]
