"""The SQLite schema of the catalogue index, and how a connection is set up.

One file, WAL journal (readers never block the writer), ``synchronous=FULL`` (an
acknowledged upsert survives a power cut), foreign keys on (postings go with their
project). ``projects`` is the source of truth; ``projects_fts`` is an external-content
FTS5 index kept in step by triggers; ``project_tags`` holds the tag postings, keyed
``(tag, project_id, source)`` so a tag filter is one index range scan and the row
carries everything ranking needs (a covering index — no lookup into ``projects``).
"""

from __future__ import annotations

import sqlite3

SCHEMA_VERSION = 1

DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);

CREATE TABLE IF NOT EXISTS projects (
    id INTEGER PRIMARY KEY,
    created_on TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL,
    author_tags TEXT NOT NULL,
    suggested TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS projects_created_on ON projects (created_on, id);

CREATE VIRTUAL TABLE IF NOT EXISTS projects_fts USING fts5(
    title, description,
    content='projects', content_rowid='id',
    tokenize='porter unicode61 remove_diacritics 2'
);

CREATE TRIGGER IF NOT EXISTS projects_ai AFTER INSERT ON projects BEGIN
    INSERT INTO projects_fts (rowid, title, description)
    VALUES (new.id, new.title, new.description);
END;
CREATE TRIGGER IF NOT EXISTS projects_ad AFTER DELETE ON projects BEGIN
    INSERT INTO projects_fts (projects_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
END;
CREATE TRIGGER IF NOT EXISTS projects_au AFTER UPDATE ON projects BEGIN
    INSERT INTO projects_fts (projects_fts, rowid, title, description)
    VALUES ('delete', old.id, old.title, old.description);
    INSERT INTO projects_fts (rowid, title, description)
    VALUES (new.id, new.title, new.description);
END;

CREATE TABLE IF NOT EXISTS project_tags (
    tag TEXT NOT NULL,
    project_id INTEGER NOT NULL REFERENCES projects (id) ON DELETE CASCADE,
    source TEXT NOT NULL CHECK (source IN ('author', 'suggested')),
    weight REAL NOT NULL,
    direct INTEGER NOT NULL,
    PRIMARY KEY (tag, project_id, source)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS project_tags_by_project ON project_tags (project_id, tag);
"""


def configure(conn: sqlite3.Connection, *, mmap_bytes: int = 256 << 20) -> None:
    """Pragmas every connection needs (they are per connection, not per file)."""
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA temp_store=MEMORY")
    conn.execute(f"PRAGMA mmap_size={int(mmap_bytes)}")
    conn.execute("PRAGMA cache_size=-65536")  # 64 MiB page cache
    conn.execute("PRAGMA busy_timeout=5000")
