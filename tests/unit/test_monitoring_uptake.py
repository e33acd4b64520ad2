"""Uptake: how many shown head and long-tail tags the authors kept, per kind."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tagwise.monitoring.predictions import LoggedFeedback, LoggedPrediction, request_digest
from tagwise.monitoring.uptake import Uptake, suggestion_uptake, uptake_by

T0 = datetime(2020, 6, 1, tzinfo=UTC)


def _pred(pid: str, title: str, tags, tail=(), feedback_id=None, created=T0) -> LoggedPrediction:
    return LoggedPrediction(
        id=pid,
        created=created,
        digest=request_digest(title, ""),
        title=title,
        description="",
        tags=tuple((t, 0.9) for t in tags),
        top_score=0.9,
        model_version="1",
        latency_ms=1.0,
        feedback_id=feedback_id,
        long_tail=tuple((t, 0.2, src) for t, src in tail),
    )


def _fb(fid: int, title: str, accepted, added=(), created=None) -> LoggedFeedback:
    return LoggedFeedback(
        id=fid,
        created=created or T0 + timedelta(minutes=1),
        project_id=None,
        title=title,
        description="",
        suggested=(),
        accepted=tuple(accepted),
        added=tuple(added),
        model_version="1",
    )


def test_head_and_long_tail_are_counted_apart_by_source():
    preds = [
        _pred("p1", "snn", ["deep-learning", "pytorch"], [("snn", "zero-shot")], feedback_id=1),
        _pred("p2", "gnn", ["deep-learning"], [("gnn", "few-shot"), ("graphs", "few-shot")]),
        _pred("p3", "never answered", ["nlp"], [("qml", "zero-shot")]),
    ]
    feedback = [
        _fb(1, "snn", ["deep-learning", "snn"]),
        _fb(2, "gnn", [], added=["gnn"]),  # linked by digest; an added tag counts as kept
    ]
    got = {u.kind: u for u in suggestion_uptake(preds, feedback)}
    assert list(got) == ["head", "few-shot", "zero-shot"]
    assert got["head"] == Uptake("head", predictions=2, shown=3, kept=1)
    assert got["zero-shot"] == Uptake("zero-shot", predictions=1, shown=1, kept=1)
    assert got["few-shot"] == Uptake("few-shot", predictions=1, shown=2, kept=1)
    assert got["few-shot"].rate == 0.5
    assert got["few-shot"].to_dict()["rate"] == 0.5


def test_nothing_answered_means_no_rows():
    preds = [_pred("p1", "snn", ["deep-learning"], [("snn", "zero-shot")])]
    assert suggestion_uptake(preds, []) == []
    assert Uptake("head", 0, 0, 0).rate is None


def test_a_parent_implied_by_the_authors_child_tag_counts_as_kept():
    from tagwise.taxonomy import Taxonomy

    tax = Taxonomy.from_records(
        [
            {"tag": "computer-vision", "aliases": ["cv"], "parents": []},
            {"tag": "object-detection", "aliases": [], "parents": ["computer-vision"]},
            {"tag": "spiking-neural-networks", "aliases": ["snn"], "parents": []},
        ]
    )
    preds = [
        _pred("p1", "yolo", ["computer-vision"], [("snn", "zero-shot")], feedback_id=1),
    ]
    feedback = [_fb(1, "yolo", [], added=["object-detection", "spiking-neural-networks"])]
    raw = {u.kind: u.kept for u in suggestion_uptake(preds, feedback)}
    assert raw == {"head": 0, "zero-shot": 0}  # without the vocabulary: names only
    got = {u.kind: u.kept for u in suggestion_uptake(preds, feedback, tax)}
    assert got == {"head": 1, "zero-shot": 1}  # parent implied; alias compared canonically


def test_uptake_per_window_links_feedback_over_all_predictions():
    """A digest-matched answer belongs to the latest prediction, whatever the grouping."""
    day2 = T0 + timedelta(days=1)
    preds = [
        _pred("p1", "gan", ["generative-adversarial-networks"]),
        _pred("p2", "gan", ["generative-adversarial-networks"], created=day2),
        _pred("p3", "bert", ["nlp"], [("bert", "zero-shot")], feedback_id=3),
    ]
    feedback = [
        _fb(2, "gan", ["generative-adversarial-networks"], created=day2 + timedelta(hours=1)),
        _fb(3, "bert", []),
    ]
    got = uptake_by(preds, feedback, None, key=lambda p: f"{p.created:%d}")
    assert got == {
        "02": [Uptake("head", predictions=1, shown=1, kept=1)],  # p2, not p1 of day 1
        "01": [Uptake("head", 1, 1, 0), Uptake("zero-shot", 1, 1, 0)],  # p3: nothing kept
    }
    whole = suggestion_uptake(preds, feedback)
    assert whole == [Uptake("head", 2, 2, 1), Uptake("zero-shot", 1, 1, 0)]


def test_the_report_tabulates_uptake_per_window():
    from tagwise.monitoring.report import uptake_table

    per_window = {
        "2020-06-01": [Uptake("head", 4, 8, 6).to_dict()],
        "2020-06-08": [Uptake("zero-shot", 1, 2, 1).to_dict(), Uptake("head", 2, 4, 1).to_dict()],
        "2020-06-15": [],
    }
    kinds, rows = uptake_table(per_window, ["2020-06-01", "2020-06-08", "2020-06-15"])
    assert kinds == ["head", "zero-shot"]
    assert [label for label, _ in rows] == ["2020-06-01", "2020-06-08"]
    assert rows[0][1][1] is None and rows[1][1][1]["rate"] == 0.5
