"""Windowing and feedback linking (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from tagwise.errors import ConfigError
from tagwise.monitoring.drift import Window, build_reference, check_window
from tagwise.monitoring.predictions import LoggedFeedback, LoggedPrediction, request_digest
from tagwise.monitoring.windows import (
    build_windows,
    link_feedback,
    observations,
    parse_window,
    window_start,
)

T0 = datetime(2020, 6, 3, 15, tzinfo=UTC)  # a Wednesday


def _p(pid: str, title: str, t: datetime, feedback_id: int | None = None) -> LoggedPrediction:
    return LoggedPrediction(
        pid, t, request_digest(title, ""), title, "", (("nlp", 0.8),), 0.8, "1", 1.0, feedback_id
    )


def _f(fid: int, title: str, t: datetime, tags=("nlp",)) -> LoggedFeedback:
    return LoggedFeedback(fid, t, None, title, "", ("nlp",), tuple(tags), (), "1")


def test_parse_window():
    assert parse_window("7d") == timedelta(days=7)
    assert parse_window("2w") == timedelta(days=14)
    assert parse_window("1d") == timedelta(days=1)
    for bad in ("0d", "7h", "week", ""):
        with pytest.raises(ConfigError):
            parse_window(bad)


def test_weeks_start_on_monday_and_days_at_midnight():
    assert window_start(T0, timedelta(days=7)) == datetime(2020, 6, 1, tzinfo=UTC)
    assert window_start(T0, timedelta(days=1)) == datetime(2020, 6, 3, tzinfo=UTC)
    naive = window_start(datetime(2020, 6, 7, 23, 59), timedelta(days=7))
    assert naive == datetime(2020, 6, 1, tzinfo=UTC)


def test_explicit_link_wins_then_digest_matches_latest_earlier_prediction():
    preds = [
        _p("a", "BERT", T0, feedback_id=7),
        _p("b", "BERT", T0 + timedelta(minutes=1)),
        _p("c", "BERT", T0 + timedelta(minutes=5)),
        _p("d", "GPT", T0),
    ]
    fb = [
        _f(7, "BERT", T0 + timedelta(minutes=2)),
        _f(8, "BERT", T0 + timedelta(minutes=3)),  # no id sent: digest → latest before it
        _f(9, "YOLO", T0),  # no prediction with this text
    ]
    linked = link_feedback(preds, fb)
    assert linked["a"].id == 7
    assert linked["b"].id == 8
    assert "c" not in linked and "d" not in linked


def test_observations_and_windows():
    preds = [_p(str(i), f"t{i}", T0 + timedelta(days=i)) for i in range(12)]
    fb = [_f(1, "t1", T0 + timedelta(days=1, hours=1)), _f(2, "t2", T0 + timedelta(days=3), ())]
    obs = observations(preds, fb)
    assert obs[1].final == ("nlp",)
    assert obs[2].final is None  # no label in the metric set (P1 drops it)
    assert obs[0].final is None
    windows = build_windows(obs, timedelta(days=7), min_n=6)
    assert [w.label for _, w in windows] == ["2020-06-08"]  # 06-01 week has only 5 rows
    assert windows[0][1].final is None and len(windows[0][1].texts) == 7


def test_window_with_partial_feedback_uses_only_labelled_projects():
    rng = np.random.default_rng(0)
    texts = [f"text about topic {i % 7} and words {i}" for i in range(200)]
    sugg = [("nlp",) if i % 2 else ("cv",) for i in range(200)]
    labels = [("nlp",) if i % 2 else ("cv",) for i in range(200)]
    ref = build_reference(
        texts[:100], texts[100:], sugg[100:], rng.uniform(0.5, 1, 100), labels[100:]
    )
    final = tuple(labels[i] if i % 3 else None for i in range(60))
    w = Window("w", tuple(texts[:60]), tuple(sugg[:60]), tuple(rng.uniform(0.5, 1, 60)), final)
    rep = check_window(ref, w)
    names = [t.name for t in rep.tests]
    assert "performance_f1_drop" in names and rep.performance["n_labelled"] == 40
    few = Window("w", w.texts, w.suggested, w.top_scores, tuple([None] * 50 + list(final[:10])))
    assert "performance_f1_drop" not in [t.name for t in check_window(ref, few).tests]
