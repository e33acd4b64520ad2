"""The feedback table behind SQLAlchemy: SQLite (WAL, synchronous=FULL) or PostgreSQL.

``add`` returns only after the transaction committed, and SQLite is opened with
``synchronous=FULL`` so that commit is on disk (fsync of the WAL) — an acknowledged
write survives ``kill -9`` or a power cut. Tables are created by :func:`create_tables`
(via :meth:`FeedbackStore.create`), never at import.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    create_engine,
    event,
    func,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tagwise.feedback.record import FeedbackRecord


class Base(DeclarativeBase):
    """Declarative base of the tagwise tables."""


class FeedbackRow(Base):
    """One stored feedback record."""

    __tablename__ = "feedback"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    project_id: Mapped[str | None] = mapped_column(String(200), index=True)
    title: Mapped[str] = mapped_column(Text, nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    suggested: Mapped[list] = mapped_column(JSON, nullable=False)
    accepted: Mapped[list] = mapped_column(JSON, nullable=False)
    added: Mapped[list] = mapped_column(JSON, nullable=False)
    model_version: Mapped[str | None] = mapped_column(String(100))

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form for export and tests."""
        return {
            "id": self.id,
            "created": self.created.isoformat(),
            "project_id": self.project_id,
            "title": self.title,
            "description": self.description,
            "suggested": list(self.suggested),
            "accepted": list(self.accepted),
            "added": list(self.added),
            "model_version": self.model_version,
        }


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    """WAL lets readers run beside the writer; FULL makes each commit durable."""
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=5000")
    cur.close()


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets its directory created and the durable pragmas."""
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def create_tables(engine: Engine, tables: list[Table] | None = None) -> list[str]:
    """Create missing tables, then add columns a newer tagwise defines (idempotent).

    Why not a migration tool: every schema change so far is an added nullable column
    (``predictions.long_tail``), which ``ALTER TABLE … ADD COLUMN`` does in place on
    SQLite and PostgreSQL, keeping the rows already logged. A missing non-nullable column
    would need a real migration: that is refused before anything is altered. Several
    processes may start on the same old database at once (server replicas, a monitor
    cron job): a column another one added meanwhile is not an error. Returns the columns
    this call added.
    """
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.schema import CreateColumn

    from tagwise.errors import ConfigError

    chosen = Base.metadata.sorted_tables if tables is None else tables
    Base.metadata.create_all(engine, tables=chosen)
    missing = _missing_columns(engine, chosen)
    required = [f"{t.name}.{c.name}" for t, c in missing if not c.nullable]
    if required:
        raise ConfigError(
            f"the database lacks non-nullable column(s) {', '.join(required)} of a newer "
            "tagwise; it needs a migration (or a new database_url)"
        )
    quote = engine.dialect.identifier_preparer
    added = []
    for table, column in missing:
        ddl = CreateColumn(column).compile(dialect=engine.dialect)
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {quote.format_table(table)} ADD COLUMN {ddl}"))
        except DBAPIError:
            if column.name in {c.name for _, c in _missing_columns(engine, [table])}:
                raise  # not a concurrent start that added it first: a real failure
            continue
        for index in table.indexes:
            if column in index.columns.values():
                index.create(engine, checkfirst=True)
        added.append(f"{table.name}.{column.name}")
    return added


def _missing_columns(engine: Engine, tables: list[Table]) -> list[tuple[Table, Any]]:
    """(table, column) pairs the ORM defines and the database's table does not have."""
    inspector = inspect(engine)
    out = []
    for table in tables:
        present = {c["name"] for c in inspector.get_columns(table.name)}
        out += [(table, c) for c in table.columns if c.name not in present]
    return out


class FeedbackStore:
    """Adds and reads feedback records; one instance per app, shared by its threads."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @classmethod
    def from_url(cls, url: str) -> FeedbackStore:
        """Open (not yet create) the store at a SQLAlchemy URL."""
        return cls(make_engine(url))

    def create(self) -> FeedbackStore:
        """Create missing tables and columns (idempotent)."""
        create_tables(self.engine)
        return self

    def add(self, record: FeedbackRecord, *, created: datetime | None = None) -> int:
        """Store one record; returns its id once the commit is durable.

        ``created`` comes from the app's clock (a replay stamps historical times).
        """
        row = FeedbackRow(
            created=created or datetime.now(UTC),
            project_id=record.project_id,
            title=record.title,
            description=record.description,
            suggested=list(record.suggested),
            accepted=list(record.accepted),
            added=list(record.added),
            model_version=record.model_version,
        )
        with Session(self.engine) as session, session.begin():
            session.add(row)
            session.flush()
            new_id = row.id
        return new_id

    def get(self, feedback_id: int) -> dict[str, Any] | None:
        """One record as a dict, or None."""
        with Session(self.engine) as session:
            row = session.get(FeedbackRow, feedback_id)
            return row.to_dict() if row else None

    def ids(self) -> set[int]:
        """Every stored id (for checks and exports)."""
        with Session(self.engine) as session:
            return set(session.scalars(select(FeedbackRow.id)))

    def verdicts(self, limit: int | None = None) -> list[dict[str, Any]]:
        """``created, suggested, accepted, added`` of the newest ``limit`` records (all if None).

        Only the columns the impact statistics need: titles and descriptions stay in the
        database.
        """
        cols = (FeedbackRow.created, FeedbackRow.suggested, FeedbackRow.accepted, FeedbackRow.added)
        query = select(*cols).order_by(FeedbackRow.id.desc())
        if limit is not None:
            query = query.limit(limit)
        with Session(self.engine) as session:
            return [
                {"created": c, "suggested": s, "accepted": a, "added": d}
                for c, s, a, d in session.execute(query)
            ]

    def count(self) -> int:
        """How many records are stored."""
        with Session(self.engine) as session:
            return int(session.scalar(select(func.count(FeedbackRow.id))) or 0)

    def close(self) -> None:
        """Release pooled connections."""
        self.engine.dispose()
