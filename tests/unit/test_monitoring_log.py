"""The prediction log: background writes, linking, retention bounds, digests."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from tagwise.feedback.store import FeedbackStore
from tagwise.monitoring.predictions import (
    Prediction,
    PredictionLog,
    new_prediction_id,
    prune,
    read_feedback,
    read_predictions,
    request_digest,
)

T0 = datetime(2020, 6, 1, 12, tzinfo=UTC)


def _pred(i: int, created: datetime = T0, title: str = "BERT") -> Prediction:
    return Prediction(
        id=new_prediction_id(),
        created=created,
        title=f"{title} {i}",
        description="fine-tuning transformers",
        tags=(("natural-language-processing", 0.9), ("transformers", 0.7)),
        top_score=0.9,
        model_version="1",
        latency_ms=1.5,
    )


@pytest.fixture()
def store(tmp_path):
    s = FeedbackStore.from_url(f"sqlite:///{tmp_path / 'db.sqlite'}").create()
    yield s
    s.close()


def test_digest_is_of_the_normalised_text():
    assert request_digest("BERT  for QA", "") == request_digest("BERT for QA", " ")
    assert request_digest("BERT for QA", "") != request_digest("GPT for QA", "")
    assert len(request_digest("x", "")) == 64


def test_writer_batches_and_flush_makes_rows_visible(store):
    log = PredictionLog(store.engine, flush_ms=20, batch_rows=7, clock=lambda: T0).create().start()
    preds = [_pred(i, T0 + timedelta(seconds=i)) for i in range(25)]
    for p in preds:
        log.record(p)
    assert log.flush(5)
    rows = read_predictions(store.engine)
    assert [r.id for r in rows] == [p.id for p in preds]
    assert rows[0].tags == (("natural-language-processing", 0.9), ("transformers", 0.7))
    assert rows[0].created == T0 and rows[0].digest == request_digest(
        "BERT 0", preds[0].description
    )
    log.close()
    assert log.written == 25 and log.dropped == 0


def test_close_flushes_what_is_queued(store):
    log = (
        PredictionLog(store.engine, flush_ms=5000, batch_rows=10_000, clock=lambda: T0)
        .create()
        .start()
    )
    for i in range(5):
        log.record(_pred(i))
    log.close()
    assert len(read_predictions(store.engine)) == 5


def test_link_sets_the_feedback_id_after_the_insert(store):
    log = PredictionLog(store.engine, flush_ms=10, clock=lambda: T0).create().start()
    p = _pred(0)
    log.record(p)
    log.link(p.id, 42)
    log.close()
    (row,) = read_predictions(store.engine)
    assert row.feedback_id == 42


def test_real_clock_prunes_historical_rows(store):
    log = PredictionLog(store.engine, flush_ms=10, retention_days=90).create().start()
    log.record(_pred(0, T0))  # 2020: far beyond 90 days of the real clock
    log.close()
    assert read_predictions(store.engine) == []


def test_retention_prunes_old_rows_by_the_injected_clock(store):
    now = T0 + timedelta(days=10)
    log = (
        PredictionLog(store.engine, flush_ms=10, retention_days=5, clock=lambda: now, prune_every=0)
        .create()
        .start()
    )
    log.record(_pred(0, T0))  # 10 days old
    log.record(_pred(1, now - timedelta(days=1)))
    log.close()
    rows = read_predictions(store.engine)
    assert [r.title for r in rows] == ["BERT 1"]


def test_max_rows_keeps_the_newest(store):
    log = PredictionLog(store.engine, flush_ms=10, clock=lambda: T0).create().start()
    for i in range(10):
        log.record(_pred(i, T0 + timedelta(minutes=i)))
    log.close()
    prune(store.engine, before=T0 - timedelta(days=1), max_rows=4)
    rows = read_predictions(store.engine)
    assert [r.title for r in rows] == [f"BERT {i}" for i in range(6, 10)]


def test_full_queue_drops_and_counts_instead_of_blocking(store):
    log = PredictionLog(store.engine, max_queue=3).create()  # writer not started
    for i in range(5):
        log.record(_pred(i))
    assert log.dropped == 2


def test_feedback_created_time_can_be_injected(store):
    from tagwise.feedback import FeedbackRecord

    fid = store.add(FeedbackRecord("t", "d", ("a",), ("a",), ("b",)), created=T0)
    (fb,) = read_feedback(store.engine)
    assert fb.id == fid and fb.created == T0 and fb.final == ("a", "b")


def test_long_tail_tags_are_logged_with_their_source(store):
    log = PredictionLog(store.engine, flush_ms=10, clock=lambda: T0).create().start()
    tail = (("spiking-neural-networks", 0.21, "zero-shot"), ("graph-learning", 0.18, "few-shot"))
    log.record(replace(_pred(0), long_tail=tail))
    log.record(_pred(1))  # no long tail shown
    log.close()
    rows = {r.title: r for r in read_predictions(store.engine)}
    assert rows["BERT 0"].long_tail == tail
    assert rows["BERT 1"].long_tail == ()


OLD_PREDICTIONS = """CREATE TABLE predictions (
    id VARCHAR(32) PRIMARY KEY, created DATETIME NOT NULL, digest VARCHAR(64) NOT NULL,
    title TEXT NOT NULL, description TEXT NOT NULL, tags JSON NOT NULL,
    top_score FLOAT NOT NULL, model_version VARCHAR(100), latency_ms FLOAT NOT NULL,
    feedback_id INTEGER)"""


def test_a_log_written_before_long_tails_gains_the_column_and_keeps_its_rows(tmp_path):
    """A database from an older tagwise: ``create`` adds the column in place, rows stay."""
    from sqlalchemy import inspect, text

    from tagwise.feedback.store import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text(OLD_PREDICTIONS))
        conn.execute(
            text(
                "INSERT INTO predictions VALUES ('a1', '2020-06-01 12:00:00', 'd', 'BERT', '', "
                "'[[\"transformers\", 0.9]]', 0.9, '1', 2.0, NULL)"
            )
        )
    log = PredictionLog(engine, flush_ms=10, clock=lambda: T0).create().start()
    assert "long_tail" in {c["name"] for c in inspect(engine).get_columns("predictions")}
    log.record(replace(_pred(0), long_tail=(("snn", 0.2, "zero-shot"),)))
    log.close()
    old, new = read_predictions(engine)
    assert old.id == "a1" and old.tags == (("transformers", 0.9),) and old.long_tail == ()
    assert new.long_tail == (("snn", 0.2, "zero-shot"),)
    from tagwise.feedback.store import create_tables
    from tagwise.monitoring.predictions import PredictionRow

    assert create_tables(engine, [PredictionRow.__table__]) == []  # a second start: no-op
    engine.dispose()


def test_two_processes_upgrading_at_once_both_start(tmp_path, monkeypatch):
    """The column appears between this process's look and its ALTER: not an error."""
    from sqlalchemy import inspect, text

    from tagwise.feedback import store as store_module
    from tagwise.feedback.store import create_tables, make_engine
    from tagwise.monitoring.predictions import PredictionRow

    url = f"sqlite:///{tmp_path / 'race.sqlite'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text(OLD_PREDICTIONS))
    table = PredictionRow.__table__
    stale = store_module._missing_columns(engine, [table])  # what both processes saw
    assert [c.name for _, c in stale] == ["long_tail"]
    other = make_engine(url)
    assert create_tables(other, [table]) == ["predictions.long_tail"]  # the other one won
    other.dispose()
    real = store_module._missing_columns
    calls = iter([stale])
    monkeypatch.setattr(
        store_module, "_missing_columns", lambda e, t: next(calls, None) or real(e, t)
    )
    assert create_tables(engine, [table]) == []  # lost the race, still started
    assert [c["name"] for c in inspect(engine).get_columns("predictions")].count("long_tail") == 1
    engine.dispose()


def test_a_missing_non_nullable_column_is_refused_not_invented(tmp_path):
    from sqlalchemy import inspect, text

    from tagwise.errors import ConfigError
    from tagwise.feedback.store import create_tables, make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'older.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE predictions (id VARCHAR(32) PRIMARY KEY)"))
    with pytest.raises(ConfigError, match=r"non-nullable column\(s\) predictions\.created"):
        PredictionLog(engine).create()
    columns = {c["name"] for c in inspect(engine).get_columns("predictions")}
    assert columns == {"id"}  # refused before any nullable column was added
    assert create_tables(engine, []) == []  # no table asked for: nothing touched
    engine.dispose()


def test_one_bad_row_does_not_cost_its_batch(store):
    """A row the database refuses (here: a duplicate id) is dropped alone, the rest stay."""
    log = PredictionLog(store.engine, flush_ms=200, batch_rows=100, clock=lambda: T0).create()
    good = [_pred(i) for i in range(4)]
    dup = replace(_pred(9), id=good[1].id)  # same primary key as a row of the same batch
    for p in [*good[:2], dup, *good[2:]]:
        log.record(p)
    log.start()
    log.close()
    assert sorted(r.id for r in read_predictions(store.engine)) == sorted(p.id for p in good)
    assert log.written == 4 and log.dropped == 1
