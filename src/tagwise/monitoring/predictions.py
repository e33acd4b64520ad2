"""The prediction log: every suggestion the service made, written off the request path.

Why a background writer: a durable commit costs an fsync (milliseconds); a suggestion
costs about one. The route only puts a small tuple on a queue (microseconds); one
thread drains it and commits a batch every ``flush_ms`` or ``batch_rows`` rows, and
prunes rows beyond the retention bounds. Losing the last ~100 ms of log on a crash is
acceptable for monitoring statistics — the feedback write, which carries labels,
stays synchronous and durable.

Stored: the request digest (sha256 of the normalised text, to link feedback), the
title and description the author submitted, the suggested tags and scores, the
long-tail tags shown beside them (tag, score, source), the top raw score, the model
version, the latency and the time. Nothing else about the
caller (no IP address, no user agent).
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import (
    JSON,
    DateTime,
    Float,
    Integer,
    String,
    Text,
    delete,
    func,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column

from tagwise.feedback.store import Base, create_tables
from tagwise.text import project_text

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The default clock (the replay injects historical times instead)."""
    return datetime.now(UTC)


def request_digest(title: str, description: str) -> str:
    """sha256 of the normalised text: the same project typed twice has one digest."""
    return hashlib.sha256(project_text(title, description).encode("utf-8")).hexdigest()


def new_prediction_id() -> str:
    """A random id the response carries, so feedback can name its prediction."""
    return uuid.uuid4().hex


class PredictionRow(Base):
    """One logged suggestion (same database and metadata as the feedback table)."""

    __tablename__ = "predictions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False, index=True)
    digest: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    tags: Mapped[list] = mapped_column(JSON, nullable=False)  # [[tag, score], ...]
    # [[tag, score, source], ...]; NULL in rows logged before long tails were served.
    long_tail: Mapped[list | None] = mapped_column(JSON, nullable=True)
    top_score: Mapped[float] = mapped_column(Float, nullable=False)
    model_version: Mapped[str | None] = mapped_column(String(100), index=True)
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False)
    feedback_id: Mapped[int | None] = mapped_column(Integer, index=True)


@dataclass(frozen=True)
class Prediction:
    """What the route hands to the log (plain data, built on the request path)."""

    id: str
    created: datetime
    title: str
    description: str
    tags: tuple[tuple[str, float], ...]
    top_score: float
    model_version: str | None
    latency_ms: float
    long_tail: tuple[tuple[str, float, str], ...] = ()


@dataclass(frozen=True)
class LoggedPrediction:
    """A row read back for monitoring."""

    id: str
    created: datetime
    digest: str
    title: str
    description: str
    tags: tuple[tuple[str, float], ...]
    top_score: float
    model_version: str | None
    latency_ms: float
    feedback_id: int | None
    long_tail: tuple[tuple[str, float, str], ...] = ()


def _as_utc(value: datetime) -> datetime:
    """SQLite hands back naive datetimes; everything here is UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _to_logged(row: PredictionRow) -> LoggedPrediction:
    return LoggedPrediction(
        id=row.id,
        created=_as_utc(row.created),
        digest=row.digest,
        title=row.title,
        description=row.description,
        tags=tuple((str(t), float(s)) for t, s in row.tags),
        top_score=float(row.top_score),
        model_version=row.model_version,
        latency_ms=float(row.latency_ms),
        feedback_id=row.feedback_id,
        long_tail=tuple((str(t), float(s), str(src)) for t, s, src in row.long_tail or ()),
    )


def _row(p: Prediction) -> dict:
    return {
        "id": p.id,
        "created": p.created,
        "digest": request_digest(p.title, p.description),
        "title": p.title,
        "description": p.description,
        "tags": [[t, s] for t, s in p.tags],
        "long_tail": [[t, s, src] for t, s, src in p.long_tail],
        "top_score": p.top_score,
        "model_version": p.model_version,
        "latency_ms": p.latency_ms,
        "feedback_id": None,
    }


_STOP = object()


class PredictionLog:
    """Queue + one writer thread; ``record`` never blocks on the database.

    ``retention_days`` and ``max_rows`` bound the table; the writer prunes after
    commits at most every ``prune_every`` seconds, measuring age with ``clock`` (so a
    replay of historical traffic prunes by historical time).
    """

    def __init__(
        self,
        engine: Engine,
        *,
        flush_ms: float = 100.0,
        batch_rows: int = 500,
        retention_days: float = 90.0,
        max_rows: int = 1_000_000,
        clock: Clock = utc_now,
        prune_every: float = 30.0,
        max_queue: int = 100_000,
    ) -> None:
        self.engine = engine
        self.flush_s = flush_ms / 1000
        self.batch_rows = batch_rows
        self.retention = timedelta(days=retention_days)
        self.max_rows = max_rows
        self.clock = clock
        self.prune_every = prune_every
        self._queue: queue.Queue = queue.Queue(maxsize=max_queue)
        self._thread: threading.Thread | None = None
        self._last_prune = 0.0
        self._idle = threading.Condition()
        self._pending = 0
        self.dropped = 0
        self.written = 0

    # -- request path ------------------------------------------------------------------

    def record(self, prediction: Prediction) -> None:
        """Queue one prediction; if the queue is full the row is dropped and counted."""
        self._enqueue(("insert", prediction))

    def link(self, prediction_id: str, feedback_id: int) -> None:
        """Queue "this feedback answers that prediction" (applied after its insert)."""
        self._enqueue(("link", (prediction_id, feedback_id)))

    def _enqueue(self, item: tuple) -> None:
        with self._idle:
            self._pending += 1
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            with self._idle:
                self._pending -= 1
            self.dropped += 1

    # -- lifecycle ---------------------------------------------------------------------

    def create(self) -> PredictionLog:
        """Create the table, or add columns a newer tagwise logs, if missing (idempotent)."""
        create_tables(self.engine, [PredictionRow.__table__])
        return self

    def start(self) -> PredictionLog:
        """Start the writer thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="tagwise-prediction-log", daemon=True
            )
            self._thread.start()
        return self

    def flush(self, timeout: float = 10.0) -> bool:
        """Wait until everything queued so far is committed (tests, replay, shutdown)."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending > 0:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None or not self._thread.is_alive():
                    return False
                self._idle.wait(min(left, 0.05))
        return True

    def close(self, timeout: float = 10.0) -> None:
        """Flush and stop the writer."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join(timeout)
            self._thread = None

    # -- writer thread -----------------------------------------------------------------

    def _run(self) -> None:
        stop = False
        while not stop:
            batch: list = []
            try:
                item = self._queue.get(timeout=self.flush_s)
            except queue.Empty:
                continue
            deadline = time.monotonic() + self.flush_s
            while True:
                if item is _STOP:
                    stop = True
                else:
                    batch.append(item)
                if stop or len(batch) >= self.batch_rows:
                    break
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                try:
                    item = self._queue.get(timeout=left)
                except queue.Empty:
                    break
            if batch:
                self._write(batch)
            self._maybe_prune(force=stop)

    def _write(self, batch: list) -> None:
        inserts = [_row(p) for kind, p in batch if kind == "insert"]
        links = [v for kind, v in batch if kind == "link"]
        try:
            self._commit(inserts, links)
            self.written += len(inserts)
        except Exception:
            # One bad row must not cost the batch: retry row by row, drop only what fails.
            log.exception("prediction log: batch of %d failed; writing row by row", len(batch))
            for row in inserts:
                try:
                    self._commit([row], [])
                    self.written += 1
                except Exception:
                    log.warning("prediction log: dropping row %s", row["id"])
                    self.dropped += 1
            try:
                self._commit([], links)
            except Exception:
                log.exception("prediction log: dropping %d feedback links", len(links))
        finally:
            with self._idle:
                self._pending -= len(batch)
                self._idle.notify_all()

    def _commit(self, inserts: list[dict], links: list[tuple[str, int]]) -> None:
        """Insert rows and set feedback links in one transaction."""
        with Session(self.engine) as session, session.begin():
            if inserts:
                session.execute(PredictionRow.__table__.insert(), inserts)
            for pid, fid in links:
                session.execute(
                    update(PredictionRow).where(PredictionRow.id == pid).values(feedback_id=fid)
                )

    def _maybe_prune(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_prune < self.prune_every:
            return
        self._last_prune = now
        try:
            prune(self.engine, before=self.clock() - self.retention, max_rows=self.max_rows)
        except Exception:
            log.exception("prediction log: pruning failed")


def prune(engine: Engine, *, before: datetime, max_rows: int) -> int:
    """Delete rows older than ``before`` and the oldest beyond ``max_rows``; returns count."""
    with Session(engine) as session, session.begin():
        n = session.execute(delete(PredictionRow).where(PredictionRow.created < before)).rowcount
        total = int(session.scalar(select(func.count(PredictionRow.id))) or 0)
        if total > max_rows:
            cutoff = session.scalar(
                select(PredictionRow.created)
                .order_by(PredictionRow.created.desc())
                .offset(max_rows - 1)
                .limit(1)
            )
            extra = session.execute(
                delete(PredictionRow).where(PredictionRow.created < cutoff)
            ).rowcount
            n += extra or 0
    return int(n or 0)


def read_predictions(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    versions: Iterable[str] | None = None,
) -> list[LoggedPrediction]:
    """Logged predictions in time order, optionally for some model versions only."""
    stmt = select(PredictionRow).order_by(PredictionRow.created, PredictionRow.id)
    if since is not None:
        stmt = stmt.where(PredictionRow.created >= since)
    if until is not None:
        stmt = stmt.where(PredictionRow.created < until)
    if versions is not None:
        stmt = stmt.where(PredictionRow.model_version.in_(list(versions)))
    with Session(engine) as session:
        return [_to_logged(r) for r in session.scalars(stmt)]


@dataclass(frozen=True)
class LoggedFeedback:
    """A feedback row read back for monitoring and retraining (tags canonical)."""

    id: int
    created: datetime
    project_id: str | None
    title: str
    description: str
    suggested: tuple[str, ...]
    accepted: tuple[str, ...]
    added: tuple[str, ...]
    model_version: str | None

    @property
    def final(self) -> tuple[str, ...]:
        """The author's final tags: the suggestions kept plus the tags added."""
        return tuple(dict.fromkeys((*self.accepted, *self.added)))

    @property
    def digest(self) -> str:
        """Digest of the text, to find the prediction this feedback answers."""
        return request_digest(self.title, self.description)


def read_feedback(engine: Engine, *, since: datetime | None = None) -> list[LoggedFeedback]:
    """Feedback rows in time order (from ``since``, inclusive)."""
    from tagwise.feedback.store import FeedbackRow

    stmt = select(FeedbackRow).order_by(FeedbackRow.created, FeedbackRow.id)
    if since is not None:
        stmt = stmt.where(FeedbackRow.created >= since)
    with Session(engine) as session:
        return [
            LoggedFeedback(
                id=r.id,
                created=_as_utc(r.created),
                project_id=r.project_id,
                title=r.title,
                description=r.description,
                suggested=tuple(r.suggested),
                accepted=tuple(r.accepted),
                added=tuple(r.added),
                model_version=r.model_version,
            )
            for r in session.scalars(stmt)
        ]
