"""The catalogue index: projects searchable by text and by tags, in one SQLite file.

``CatalogueIndex.open(path, taxonomy)`` creates or opens the file; ``upsert`` and
``delete`` are transactional and visible to the next ``search`` at once; ``rebuild``
replaces everything in one transaction (readers see the old index until it commits).
The tag postings are derived from the stored projects through the vocabulary, so
opening an index with a changed vocabulary re-derives them in place.

Thread safety: one connection guarded by a lock (searches take a few milliseconds;
the HTTP layer's thread pool queues behind it). A pool of read connections is the
next step if that ever shows in the latency numbers — WAL already allows it.
"""

from __future__ import annotations

import hashlib
import json
import math
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime
from pathlib import Path

import numpy as np

from tagwise.errors import ConfigError, UnknownProjectError, UnknownTagError
from tagwise.search import highlight as hl
from tagwise.search.postings import (
    Posting,
    author_canonical,
    project_postings,
    suggested_canonical,
)
from tagwise.search.querytext import ParsedText, parse_text, words_of
from tagwise.search.schema import DDL, SCHEMA_VERSION, configure
from tagwise.search.sql import evidence_sql, format_date, parse_date, weight_params
from tagwise.search.tagcache import TagCache
from tagwise.search.types import (
    FacetCount,
    Highlights,
    IndexedProject,
    SearchHit,
    SearchQuery,
    SearchResult,
    SuggestedTag,
)
from tagwise.search.vectors import Embedder, NumpyVectorIndex, VectorIndex
from tagwise.search.weights import RankingWeights
from tagwise.taxonomy import Taxonomy
from tagwise.text import project_text

_PROJECT_COLUMNS = "id, created_on, title, description, author_tags, suggested"
_RELATED_TEXT_WORDS = 12
_RELATED_POOL = 200
_EXACT_BM25_MAX = 5000
_PATCH_LIMIT = 2000
_STOPWORDS = frozenset(
    {
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "by",
        "for",
        "from",
        "how",
        "in",
        "into",
        "is",
        "it",
        "its",
        "of",
        "on",
        "or",
        "over",
        "the",
        "to",
        "using",
        "via",
        "what",
        "when",
        "where",
        "which",
        "why",
        "with",
        "without",
        "your",
        "you",
        "we",
        "our",
        "this",
        "that",
    }
)


def taxonomy_digest(taxonomy: Taxonomy) -> str:
    """Identifies a vocabulary; stored in the index to notice when it changes."""
    blob = json.dumps(taxonomy.to_records(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


class CatalogueIndex:
    """Search over projects by free text, tag filters (through the taxonomy) and dates."""

    def __init__(
        self,
        conn: sqlite3.Connection,
        taxonomy: Taxonomy,
        *,
        path: Path | None,
        weights: RankingWeights,
        embedder: Embedder | None,
        vectors: VectorIndex | None,
    ) -> None:
        self._conn = conn
        self._lock = threading.RLock()
        self.taxonomy = taxonomy
        self.path = path
        self.weights = weights
        self.embedder = embedder
        self.vectors = vectors
        self._cache: TagCache | None = None
        self._vocab = _MemoTaxonomy(taxonomy)

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(
        cls,
        path: Path | str,
        taxonomy: Taxonomy | None,
        *,
        weights: RankingWeights | None = None,
        embedder: Embedder | None = None,
        vectors: VectorIndex | None = None,
        fallback: Callable[[], Taxonomy | None] | None = None,
    ) -> CatalogueIndex:
        """Open (creating if needed) the index file at ``path``; ``":memory:"`` for tests.

        ``taxonomy=None`` opens it as a reader: with the vocabulary the index was last
        built with (stored in it; ``fallback()`` for an index older than that, called
        only then), and the
        postings are never re-derived — ``tagwise search query`` must not rewrite them
        with whatever vocabulary file its working directory happens to hold.
        With an ``embedder``, a :class:`NumpyVectorIndex` next to the file is used unless
        ``vectors`` is given; projects without a vector are embedded now.
        """
        memory = str(path) == ":memory:"
        file = None if memory else Path(path)
        if file is not None:
            file.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            ":memory:" if memory else str(file), isolation_level=None, check_same_thread=False
        )
        configure(conn)
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        fresh = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
        if not fresh and version != SCHEMA_VERSION:
            conn.close()
            raise ConfigError(
                f"{path}: search index schema {version}, this tagwise needs {SCHEMA_VERSION}; "
                "delete the file and rebuild the index"
            )
        conn.executescript(DDL)
        conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        conn.execute("CREATE TEMP TABLE IF NOT EXISTS hits (id INTEGER PRIMARY KEY, score REAL)")
        reader = taxonomy is None
        if reader:
            row = conn.execute("SELECT value FROM meta WHERE key = 'taxonomy_records'").fetchone()
            if row:
                taxonomy = Taxonomy.from_records(json.loads(row[0]))
            else:
                taxonomy = (fallback() if fallback else None) or Taxonomy.from_records([])
        if embedder is not None and vectors is None:
            vectors = NumpyVectorIndex.load(file) if file else NumpyVectorIndex()
        index = cls(
            conn,
            taxonomy,
            path=file,
            weights=weights or RankingWeights(),
            embedder=embedder,
            vectors=vectors,
        )
        if not reader:  # a reader never re-derives postings: the writer's vocabulary rules
            index._sync_taxonomy()
        index._sync_vectors()
        return index

    def close(self) -> None:
        """Save the vectors (if any) and close the file."""
        with self._lock:
            self._save_vectors()
            self._conn.close()

    def __enter__(self) -> CatalogueIndex:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _meta(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> None:
        self._conn.execute(
            "INSERT INTO meta (key, value) VALUES (?, ?) "
            "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
            (key, value),
        )

    def _sync_taxonomy(self) -> None:
        """Re-derive every posting if the index was built with another vocabulary."""
        digest = taxonomy_digest(self.taxonomy)
        with self._lock, self._transaction():
            if self._meta("taxonomy") != digest:
                self._conn.execute("DELETE FROM project_tags")
                rows = self._conn.execute(f"SELECT {_PROJECT_COLUMNS} FROM projects")
                projects = [_row_to_project(r) for r in rows.fetchall()]
                self._insert_postings(projects)
                self._set_meta("taxonomy", digest)
                self._set_meta("taxonomy_records", json.dumps(self.taxonomy.to_records()))
                self._cache = None
            elif self._meta("taxonomy_records") is None:  # an index built before this was kept
                self._set_meta("taxonomy_records", json.dumps(self.taxonomy.to_records()))

    def _sync_vectors(self) -> None:
        """Embed projects without a vector, or all of them after an unclean shutdown."""
        if self.embedder is None or self.vectors is None:
            return
        with self._lock:
            ids = {r[0] for r in self._conn.execute("SELECT id FROM projects")}
            dirty = self._meta("vectors_dirty") == "1"
            held = self.vectors.ids()
            self.vectors.remove(list(held - ids))
            todo = sorted(ids if dirty else ids - held)
            for start in range(0, len(todo), 512):
                self._embed([p for p in map(self.get, todo[start : start + 512]) if p])
            if todo or held - ids:
                self._save_vectors()

    def _save_vectors(self) -> None:
        if self.vectors is not None and self.embedder is not None:
            self.vectors.save()
            with self._transaction():
                self._set_meta("vectors_dirty", "0")

    def _embed(self, projects: Sequence[IndexedProject]) -> None:
        if not projects or self.embedder is None or self.vectors is None:
            return
        texts = [project_text(p.title, p.description) for p in projects]
        self.vectors.add([p.id for p in projects], self.embedder.encode(texts))

    class _Tx:
        def __init__(self, conn: sqlite3.Connection) -> None:
            self.conn = conn

        def __enter__(self) -> None:
            self.conn.execute("BEGIN IMMEDIATE")

        def __exit__(self, exc_type, *_) -> None:
            self.conn.execute("ROLLBACK" if exc_type else "COMMIT")

    def _transaction(self) -> CatalogueIndex._Tx:
        return CatalogueIndex._Tx(self._conn)

    # ------------------------------------------------------------------ writes
    def upsert(self, projects: Iterable[IndexedProject]) -> int:
        """Insert or replace projects (text, tags, suggestions) in one transaction."""
        projects = list(projects)
        if not projects:
            return 0
        with self._lock:
            with self._transaction():
                self._write_projects(projects, replace=True)
                if self.embedder is not None:
                    self._set_meta("vectors_dirty", "1")
            self._patch_cache(projects)
            self._embed(projects)
        return len(projects)

    def delete(self, project_id: int) -> bool:
        """Remove a project; ``False`` if it was not there."""
        with self._lock:
            with self._transaction():
                cur = self._conn.execute("DELETE FROM projects WHERE id = ?", (project_id,))
                if cur.rowcount and self.embedder is not None:
                    self._set_meta("vectors_dirty", "1")
            if cur.rowcount and self._cache is not None:
                self._cache.remove(project_id)
            if cur.rowcount and self.vectors is not None:
                self.vectors.remove([project_id])
            return bool(cur.rowcount)

    def rebuild(self, projects: Iterable[IndexedProject]) -> int:
        """Replace the whole index with ``projects``, atomically."""
        projects = list(projects)
        with self._lock:
            with self._transaction():
                self._conn.execute("DELETE FROM project_tags")
                self._conn.execute("DROP TRIGGER IF EXISTS projects_ad")
                self._conn.execute("DELETE FROM projects")
                self._conn.execute("INSERT INTO projects_fts (projects_fts) VALUES ('delete-all')")
                self._conn.execute(_AD_TRIGGER)
                self._write_projects(projects, replace=False)
                self._conn.execute("INSERT INTO projects_fts (projects_fts) VALUES ('optimize')")
                if self.embedder is not None:
                    self._set_meta("vectors_dirty", "1")
            self._cache = None
            if self.vectors is not None:
                self.vectors.remove(list(self.vectors.ids()))
                for start in range(0, len(projects), 512):
                    self._embed(projects[start : start + 512])
                self._save_vectors()
        self._conn.execute("PRAGMA optimize")
        return len(projects)

    def _patch_cache(self, projects: list[IndexedProject]) -> None:
        """Bring the tag cache up to date after our own commit (small batches in place)."""
        if self._cache is None:
            return
        if len(projects) > _PATCH_LIMIT:
            self._cache = None
            return
        latest = {p.id: p for p in projects}.values()
        self._cache.apply(
            (p.id, format_date(p.created_on), project_postings(p, self.taxonomy)) for p in latest
        )

    def _write_projects(self, projects: list[IndexedProject], *, replace: bool) -> None:
        rows = [_project_to_row(p) for p in projects]
        if replace:
            self._conn.execute(
                "CREATE TEMP TABLE IF NOT EXISTS upsert_ids (id INTEGER PRIMARY KEY)"
            )
            self._conn.execute("DELETE FROM temp.upsert_ids")
            self._conn.executemany(
                "INSERT OR IGNORE INTO temp.upsert_ids (id) VALUES (?)", [(p.id,) for p in projects]
            )
            self._conn.execute(
                "DELETE FROM project_tags WHERE project_id IN (SELECT id FROM temp.upsert_ids)"
            )
            self._conn.executemany(
                f"INSERT INTO projects ({_PROJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(id) DO UPDATE SET created_on = excluded.created_on, "
                "title = excluded.title, description = excluded.description, "
                "author_tags = excluded.author_tags, suggested = excluded.suggested",
                rows,
            )
        else:
            self._conn.executemany(
                f"INSERT INTO projects ({_PROJECT_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", rows
            )
        # the last write of an id wins, as in the projects table
        self._insert_postings(list({p.id: p for p in projects}.values()))

    def _insert_postings(self, projects: Sequence[IndexedProject]) -> None:
        postings: list[Posting] = []
        for p in projects:
            postings.extend(project_postings(p, self.taxonomy))
        postings.sort(key=lambda r: (r.tag, r.project_id, r.source))
        self._conn.executemany(
            "INSERT INTO project_tags (tag, project_id, source, weight, direct) "
            "VALUES (?, ?, ?, ?, ?)",
            [(r.tag, r.project_id, r.source, r.weight, int(r.direct)) for r in postings],
        )

    # ------------------------------------------------------------------ reads
    def count(self) -> int:
        """Number of projects."""
        with self._lock:
            return self._conn.execute("SELECT count(*) FROM projects").fetchone()[0]

    def get(self, project_id: int) -> IndexedProject | None:
        """A stored project exactly as upserted, or ``None``."""
        with self._lock:
            row = self._conn.execute(
                f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE id = ?", (project_id,)
            ).fetchone()
        return _row_to_project(row) if row else None

    def canonical_tags(self, tags: Iterable[str]) -> tuple[str, ...]:
        """Tags or aliases → canonical tags; :class:`UnknownTagError` names every unknown."""
        out, unknown = [], []
        for t in tags:
            c = self.taxonomy.canonical(t)
            (unknown.append(t) if c is None else out.append(c))
        if unknown:
            raise UnknownTagError(f"unknown tag(s): {', '.join(map(repr, unknown))}")
        return tuple(dict.fromkeys(out))

    def search(self, query: SearchQuery) -> SearchResult:
        """Run a query: candidates and scores (tag cache + FTS5) → total, page, facets.

        Candidates: projects matching the text (every clause by its words, or a clause
        naming a tag by carrying the tag) and/or the tag filters, per ``combine``, within
        the dates. Scores follow :class:`RankingWeights`. Ties break by newer id.
        """
        t0 = time.perf_counter()
        tags = self.canonical_tags(query.tags)
        parsed = parse_text(query.q, self.taxonomy, prefix=query.prefix)
        w = self.weights
        with self._lock:
            cache = self._tag_cache()
            n_rows = len(cache.pid)
            score = np.zeros(n_rows, dtype=np.float64)  # dense; cheap at 100k rows
            cand: np.ndarray | None = None
            if tags:
                groups = [[t] for t in tags]
                e_rows, e_ev = cache.all_of(groups) if query.mode == "all" else cache.any_of(tags)
                score[e_rows] += w.tag * e_ev / len(tags)
                cand = e_rows
            if parsed.clauses:
                t_rows = self._text_part(
                    parsed,
                    cache,
                    score,
                    restrict=cand if (tags and query.combine == "and") else None,
                )
                if cand is None:
                    cand = t_rows
                elif query.combine == "and":
                    cand = np.intersect1d(cand, t_rows, assume_unique=True)
                else:
                    cand = np.union1d(cand, t_rows)
            elif query.q.strip() and not parsed.excluded:
                # Text with no searchable word ("!!!", "OR", an emoji) matches nothing,
                # like any text no project contains; only an empty ``q`` browses.
                nothing = np.zeros(0, dtype=np.int64)
                cand = nothing if cand is None or query.combine == "and" else cand
            if cand is None:
                cand = np.flatnonzero(cache.alive)
            if parsed.excluded:
                cand = np.setdiff1d(cand, self._excluded_rows(parsed, cache), assume_unique=True)
            cand = self._in_dates(cache, cand, query)
            if parsed.clauses and w.semantic and self.embedder and self.vectors:
                self._semantic_rerank(query.q, cache, cand, score)
            page = _top(
                cand, score, cache.pid, cache.created, query, browse=not (tags or parsed.clauses)
            )
            ids = [int(cache.pid[r]) for r in page]
            rows = self._rows_by_id(ids)
            facets = tuple(FacetCount(t, c) for t, c in cache.facets(cand, query.facets))
            marks = self._highlights(parsed.fts_any(), ids)
            total = len(cand)
        hits = tuple(
            self._hit(rows[i], float(score[r]), marks.get(i))
            for i, r in zip(ids, page, strict=True)
            if i in rows
        )
        return SearchResult(
            total=total,
            hits=hits,
            facets=facets,
            took_ms=(time.perf_counter() - t0) * 1000,
            interpreted_tags=parsed.tags,
            tags=tuple(tags),
        )

    def warm(self) -> None:
        """Load the in-memory tag cache now (~1 s at 100k projects), not on the first search."""
        with self._lock:
            self._tag_cache()

    def _tag_cache(self) -> TagCache:
        """The in-memory postings, (re)loaded if missing or another process wrote."""
        version = self._conn.execute("PRAGMA data_version").fetchone()[0]
        if self._cache is None or self._cache.data_version != version:
            self._cache = TagCache.load(self._conn, self.weights)
        return self._cache

    def _fts_rows(self, match: str, cache: TagCache) -> np.ndarray:
        """Rows matching an FTS5 expression (``group_concat``: one string, not N tuples)."""
        joined = self._conn.execute(
            "SELECT group_concat(rowid) FROM projects_fts WHERE projects_fts MATCH ?", (match,)
        ).fetchone()[0]
        if not joined:
            return np.zeros(0, dtype=np.int64)
        return cache.rows_for_ids(np.array(joined.split(","), dtype=np.int64))

    def _bm25(self, match: str, rows: np.ndarray, n_matches: int, cache: TagCache) -> np.ndarray:
        """Squashed BM25 of ``match`` for ``rows`` (all of which match it).

        Exact FTS5 BM25 visits every match (about 1.3 µs each: it reads each document's
        length), so for an expression with more than ``_EXACT_BM25_MAX`` matches the
        score is BM25 with tf = 1 and average length instead: ``idf × (title_boost if it
        matches in the title) + idf × (1 if in the description)``. Common words have a
        low IDF, so what is lost is small, and latency stays bounded.
        """
        if len(rows) == 0:
            return np.zeros(0)
        w = self.weights
        if n_matches <= _EXACT_BM25_MAX:
            cur = self._conn.execute(
                "SELECT rowid, -bm25(projects_fts, ?, 1.0) FROM projects_fts "
                "WHERE projects_fts MATCH ?",
                (w.title_boost, match),
            )
            got = dict(cur.fetchall())
            ids = cache.pid[rows]
            raw = np.fromiter((got.get(int(i), 0.0) for i in ids), dtype=np.float64, count=len(ids))
        else:
            n = len(cache.pid)
            idf = max(math.log((n - n_matches + 0.5) / (n_matches + 0.5)), 1e-6)
            in_title = np.isin(rows, self._fts_rows(f"title : ({match})", cache))
            in_desc = np.isin(rows, self._fts_rows(f"description : ({match})", cache))
            raw = idf * (w.title_boost * in_title + in_desc)
        return raw / (raw + w.bm25_half)

    def _ranked_bm25(
        self, found: str, ranking: str | None, rows: np.ndarray, n_found: int, cache: TagCache
    ) -> np.ndarray:
        """BM25 for ``rows`` (matches of ``found``), ranked by ``ranking`` where it matches.

        While typing, ``found`` also holds the whole words a prefix may be heading for
        ("mode" for "model"): they may find a project, and rank it lower — such rows
        score half their ``found`` BM25 (a lower tier only when the rest of the query
        matches alike: other words can still lift them).
        """
        if ranking is None or ranking == found or len(rows) == 0:
            return self._bm25(found, rows, n_found, cache)
        ranked = self._fts_rows(ranking, cache)
        strong = np.isin(rows, ranked)
        out = np.zeros(len(rows))
        if strong.any():
            out[strong] = self._bm25(ranking, rows[strong], len(ranked), cache)
        if not strong.all():
            out[~strong] = 0.5 * self._bm25(found, rows[~strong], n_found, cache)
        return out

    def _text_part(
        self, parsed, cache: TagCache, score: np.ndarray, restrict: np.ndarray | None
    ) -> np.ndarray:
        """Rows satisfying the text; adds text and inferred-tag scores into ``score``.

        With ``restrict`` (the tag filter of an AND query), BM25 is computed for the
        intersection only — the expensive part scales with the answer, not the corpus.
        """
        w = self.weights
        all_rows = self._fts_rows(parsed.fts_all(), cache)
        n_all = len(all_rows)
        if restrict is not None:
            all_rows = np.intersect1d(all_rows, restrict, assume_unique=True)
        text_score = np.zeros(len(score))
        text_score[all_rows] = self._ranked_bm25(
            parsed.fts_all(), parsed.fts_all(scoring=True), all_rows, n_all, cache
        )
        rows = all_rows
        tag_clauses = parsed.tag_clauses
        if tag_clauses:
            i_rows, i_ev = cache.all_of([sorted(c.tags) for c in tag_clauses])
            plain = parsed.fts_plain()
            n_plain = 0
            if plain:
                p_rows = self._fts_rows(plain, cache)
                n_plain = len(p_rows)
                keep = np.isin(i_rows, p_rows, assume_unique=True)
                i_rows, i_ev = i_rows[keep], i_ev[keep]
            if restrict is not None:
                keep = np.isin(i_rows, restrict, assume_unique=True)
                i_rows, i_ev = i_rows[keep], i_ev[keep]
            if plain:
                only = np.setdiff1d(i_rows, all_rows, assume_unique=True)
                ranking = parsed.fts_plain(scoring=True)
                text_score[only] = self._ranked_bm25(plain, ranking, only, n_plain, cache)
            score[i_rows] += w.inferred * i_ev / len(tag_clauses)
            rows = np.union1d(all_rows, i_rows)
        score[rows] += w.text * text_score[rows]
        return rows

    def _excluded_rows(self, parsed: ParsedText, cache: TagCache) -> np.ndarray:
        """Rows an excluded term hits: by its words, or by an *author* tag it names.

        Only the authors' tags (and the tags under them) exclude: a model suggestion,
        however weak, only adds a little score in a positive search, so it must not
        remove a project outright here.
        """
        rows = self._fts_rows(parsed.fts_excluded(), cache)
        tags = list(parsed.excluded_tags)
        if tags:
            marks = ", ".join("?" * len(tags))
            joined = self._conn.execute(  # one string, not N tuples (as _fts_rows)
                f"SELECT group_concat(project_id) FROM project_tags "
                f"WHERE source = 'author' AND tag IN ({marks})",
                tags,
            ).fetchone()[0]
            if joined:
                ids = np.unique(np.array(joined.split(","), dtype=np.int64))
                rows = np.union1d(rows, cache.rows_for_ids(ids))
        return rows

    def _in_dates(self, cache: TagCache, rows: np.ndarray, query: SearchQuery) -> np.ndarray:
        if query.date_from is None and query.date_to is None:
            return rows
        created = cache.created[rows]
        keep = np.ones(len(rows), dtype=bool)
        if query.date_from is not None:
            # dates are stored to the second: a sub-second start rounds up, not down
            keep &= created >= _seconds(query.date_from) + (query.date_from.microsecond > 0)
        if query.date_to is not None:
            keep &= created <= _seconds(query.date_to)
        return rows[keep]

    def _rows_by_id(self, ids: list[int]) -> dict[int, tuple]:
        if not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = self._conn.execute(
            f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE id IN ({marks})", ids
        ).fetchall()
        return {r[0]: r for r in rows}

    def _semantic_rerank(
        self, text: str, cache: TagCache, cand: np.ndarray, score: np.ndarray
    ) -> None:
        """Add ``semantic × cosine`` to the best ``rerank_depth`` lexical candidates."""
        depth = min(self.weights.rerank_depth, len(cand))
        if depth == 0:
            return
        top = cand[np.argsort(-score[cand], kind="stable")[:depth]]
        sims = self.vectors.similarity(
            self.embedder.encode([text])[0], [int(i) for i in cache.pid[top]]
        )
        score[top] += self.weights.semantic * np.maximum(sims, 0.0)

    def _highlights(self, match: str | None, ids: list[int]) -> dict[int, Highlights]:
        if not match or not ids:
            return {}
        marks = ", ".join("?" * len(ids))
        rows = self._conn.execute(
            f"SELECT rowid, highlight(projects_fts, 0, ?, ?), "
            f"snippet(projects_fts, 1, ?, ?, ?, {hl.SNIPPET_TOKENS}) "
            f"FROM projects_fts WHERE projects_fts MATCH ? AND rowid IN ({marks})",
            (hl.OPEN, hl.CLOSE, hl.OPEN, hl.CLOSE, hl.ELLIPSIS, match, *ids),
        ).fetchall()
        return {r[0]: Highlights(hl.to_html(r[1]), hl.to_html(r[2])) for r in rows}

    def _hit(self, row: tuple, score: float, marks: Highlights | None) -> SearchHit:
        p = _row_to_project(row)
        if marks is None:
            marks = Highlights(
                hl.plain(p.title), hl.plain(p.description, hl.PLAIN_DESCRIPTION_CHARS)
            )
        return SearchHit(
            id=p.id,
            title=p.title,
            description=p.description,
            created_on=p.created_on,
            author_tags=author_canonical(p.author_tags, self._vocab),
            suggested_tags=suggested_canonical(p.suggested, self._vocab),
            score=round(float(score), 6),
            highlights=marks,
        )

    # ------------------------------------------------------------------ related
    def related(self, project_id: int, limit: int = 5) -> tuple[SearchHit, ...]:
        """Projects like this one: shared tags (weighted by evidence on both sides and by
        how rare the tag is) plus title/description word overlap (BM25) plus, with an
        embedder, cosine similarity."""
        if not 1 <= limit <= 100:
            from tagwise.errors import InvalidQueryError

            raise InvalidQueryError(f"limit must be in 1..100, got {limit}")
        source = self.get(project_id)
        if source is None:
            raise UnknownProjectError(f"no project {project_id} in the index")
        w = self.weights
        with self._lock:
            conn = self._conn
            n_projects = max(1, conn.execute("SELECT count(*) FROM projects").fetchone()[0])
            own = conn.execute(
                f"SELECT tag, MAX({evidence_sql()}) FROM project_tags pt "
                "WHERE project_id = :pid GROUP BY tag",
                {**weight_params(w), "pid": project_id},
            ).fetchall()
            scores: dict[int, float] = {}
            if own:
                df = dict(
                    conn.execute(
                        "SELECT tag, count(DISTINCT project_id) FROM project_tags "
                        f"WHERE tag IN ({', '.join('?' * len(own))}) GROUP BY tag",
                        [t for t, _ in own],
                    ).fetchall()
                )
                params = {**weight_params(w), "pid": project_id, "pool": _RELATED_POOL}
                values = []
                for n, (tag, ev) in enumerate(own):
                    params[f"t{n}"] = tag
                    params[f"e{n}"] = ev * math.log(1 + n_projects / df.get(tag, 1))
                    values.append(f"(:t{n}, :e{n})")
                rows = conn.execute(
                    f"WITH src(tag, e) AS (VALUES {', '.join(values)}) "
                    f"SELECT project_id, SUM(e * best) AS s FROM (SELECT pt.project_id, src.tag, "
                    f"src.e, MAX({evidence_sql()}) AS best FROM src JOIN project_tags pt "
                    "ON pt.tag = src.tag WHERE pt.project_id != :pid "
                    "GROUP BY pt.project_id, src.tag) GROUP BY project_id "
                    "ORDER BY s DESC LIMIT :pool",
                    params,
                ).fetchall()
                best = rows[0][1] if rows else 1.0
                scores = {i: w.tag * s / best for i, s in rows}
            words = [
                x
                for x in dict.fromkeys(words_of(f"{source.title} {source.description}"))
                if len(x) > 2 and x not in _STOPWORDS and not x.isdigit()
            ][:_RELATED_TEXT_WORDS]
            if words:
                match = " OR ".join(f'"{x}"' for x in words)
                for i, s in conn.execute(
                    "SELECT rowid, -bm25(projects_fts, ?, 1.0) FROM projects_fts "
                    "WHERE projects_fts MATCH ? AND rowid != ? ORDER BY rank LIMIT ?",
                    (w.title_boost, match, project_id, _RELATED_POOL),
                ):
                    scores[i] = scores.get(i, 0.0) + w.text * s / (s + w.bm25_half)
            if self.embedder is not None and self.vectors is not None and scores:
                ids = list(scores)
                sims = self.vectors.similarity(
                    self.embedder.encode([project_text(source.title, source.description)])[0],
                    ids,
                )
                for i, sim in zip(ids, sims, strict=True):
                    scores[i] += w.semantic * max(float(sim), 0.0)
            top = sorted(scores.items(), key=lambda kv: (-kv[1], -kv[0]))[:limit]
            out = []
            for i, s in top:
                row = conn.execute(
                    f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE id = ?", (i,)
                ).fetchone()
                out.append(self._hit(row, s, None))
        return tuple(out)


_AD_TRIGGER = """
CREATE TRIGGER IF NOT EXISTS projects_ad AFTER DELETE ON projects BEGIN
    INSERT INTO projects_fts (projects_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
END
"""


class _MemoTaxonomy:
    """``canonical`` of a fixed taxonomy, memoised: a page of hits canonicalises the same
    few hundred raw tags again and again (it was ~0.1 ms per hit, a third of a
    tag-only search)."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self._taxonomy = taxonomy
        self._memo: dict[str, str | None] = {}

    def canonical(self, tag: str) -> str | None:
        try:
            return self._memo[tag]
        except KeyError:
            if len(self._memo) > 100_000:
                self._memo.clear()
            out = self._memo[tag] = self._taxonomy.canonical(tag)
            return out


def _seconds(value: datetime) -> int:
    return int(np.datetime64(value.replace(microsecond=0), "s").astype(np.int64))


def _top(
    cand: np.ndarray,
    score: np.ndarray,
    pid: np.ndarray,
    created: np.ndarray,
    query: SearchQuery,
    *,
    browse: bool,
) -> np.ndarray:
    """Rows of the requested page: best score first, then newest id (browse: newest date).

    Only the candidates at or above the k-th score are sorted, so a page of a 50,000-hit
    answer costs a partition, not a full sort.
    """
    k = query.offset + query.limit
    if len(cand) == 0 or query.offset >= len(cand):
        return cand[:0]
    primary = created[cand].astype(np.float64) if browse else score[cand]
    if len(cand) > k:
        kth = np.partition(-primary, k - 1)[k - 1]
        better = np.flatnonzero(-primary < kth)
        tied = np.flatnonzero(-primary == kth)
        need = k - len(better)
        if len(tied) > need:  # tag-only queries tie by the thousand: keep the newest ids
            tied = tied[np.argpartition(-pid[cand[tied]], need - 1)[:need]]
        keep = np.concatenate([better, tied])
        cand, primary = cand[keep], primary[keep]
    order = np.lexsort((-pid[cand], -primary))
    return cand[order][query.offset : k]


def _project_to_row(p: IndexedProject) -> tuple:
    return (
        int(p.id),
        format_date(p.created_on),
        hl.strip_markers(p.title),
        hl.strip_markers(p.description or ""),
        json.dumps(list(p.author_tags)),
        json.dumps([{"tag": s.tag, "score": s.score} for s in p.suggested]),
    )


def _row_to_project(row: tuple) -> IndexedProject:
    pid, created, title, description, author, suggested = row
    return IndexedProject(
        id=pid,
        created_on=parse_date(created),
        title=title,
        description=description,
        author_tags=tuple(json.loads(author)),
        suggested=tuple(SuggestedTag(s["tag"], float(s["score"])) for s in json.loads(suggested)),
    )
