"""Error analysis: exact confusion counts, example selection, generated slice prose, report."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tagwise.evaluate import ReportData, error_analysis, write_report
from tagwise.evaluate.error_analysis import (
    confused_pairs_multilabel,
    confused_pairs_single,
    error_examples,
    label_issue_rows,
    relation,
    slice_findings,
    truncate,
)

LABELS = ["a", "b", "c"]
ANCESTORS = [(), (0,), ()]  # a is the parent of b; c stands alone
# 4 documents × 3 tags, worked out by hand below
Y_TRUE = np.array([[1, 1, 0], [0, 0, 1], [1, 0, 0], [1, 1, 0]], dtype=bool)
Y_PRED = np.array([[1, 0, 1], [1, 0, 0], [1, 1, 0], [0, 0, 1]], dtype=bool)


def test_confused_pairs_multilabel_counted_exactly() -> None:
    # d0: FP c, missed b -> (c, b); c and a unrelated and a found -> no pair
    # d1: FP a, missed c -> (a, c)
    # d2: FP b, a true and found, b is a's child -> (b, a), not missed
    # d3: FP c, missed a and b -> (c, a), (c, b)
    rows = confused_pairs_multilabel(Y_TRUE, Y_PRED, LABELS, ANCESTORS)
    assert rows == [
        {"predicted": "c", "true": "b", "count": 2, "missed": 2, "relation": ""},
        {"predicted": "a", "true": "c", "count": 1, "missed": 1, "relation": ""},
        {"predicted": "c", "true": "a", "count": 1, "missed": 1, "relation": ""},
        {"predicted": "b", "true": "a", "count": 1, "missed": 0, "relation": "child"},
    ]
    # without a taxonomy only the missed pairs remain
    plain = confused_pairs_multilabel(Y_TRUE, Y_PRED, LABELS)
    assert [(r["predicted"], r["true"]) for r in plain] == [("c", "b"), ("a", "c"), ("c", "a")]
    assert len(confused_pairs_multilabel(Y_TRUE, Y_PRED, LABELS, ANCESTORS, top=2)) == 2


def test_relation_from_the_predicted_side() -> None:
    ancestors = [(), (0,), (0,), ()]
    assert relation(1, 0, ancestors) == "child"
    assert relation(0, 1, ancestors) == "parent"
    assert relation(1, 2, ancestors) == "sibling"
    assert relation(1, 3, ancestors) == ""
    assert relation(1, 0, None) == ""


def test_confused_pairs_single_are_off_diagonal_cells_largest_first() -> None:
    y_true = np.array([0, 0, 0, 1, 1, 2, 2, 2, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 0, 2, 2, 2])
    rows = confused_pairs_single(y_true, y_pred, ["x", "y", "z"])
    assert rows == [
        {"predicted": "y", "true": "x", "count": 2, "share": pytest.approx(2 / 3)},
        {"predicted": "z", "true": "y", "count": 1, "share": pytest.approx(1 / 2)},
        {"predicted": "x", "true": "z", "count": 1, "share": pytest.approx(1 / 4)},
    ]
    assert confused_pairs_single(y_true, y_true, ["x", "y", "z"]) == []


def test_error_examples_pick_the_most_confident_mistakes() -> None:
    texts = [f"doc {i}" for i in range(4)]
    scores = np.array([[0.9, 0.2, 0.8], [0.7, 0.1, 0.3], [0.6, 0.55, 0.1], [0.2, 0.3, 0.6]])
    rows = error_examples(texts, Y_TRUE, Y_PRED, scores, LABELS, n_tags=2, n_examples=1)
    # errors per tag: a 2 (FP d1, FN d3), b 3 (FN d0, FP d2, FN d3), c 3 (FP d0, FN d1, FP d3)
    assert [(r["tag"], r["n_fp"], r["n_fn"]) for r in rows] == [("b", 1, 2), ("c", 2, 1)]
    b, c = rows
    assert b["false_positives"][0]["text"] == "doc 2"
    assert b["false_negatives"][0] == {
        "text": "doc 0",  # lowest score among the missed b's (0.2 < 0.3)
        "score": 0.2,
        "true": ["a", "b"],
        "predicted": ["a", "c"],
    }
    assert c["false_positives"][0]["text"] == "doc 0"  # 0.8 > 0.6
    assert error_examples(texts, Y_TRUE, Y_TRUE, scores, LABELS) == []


def test_truncate_at_a_word_boundary() -> None:
    assert truncate("short  text\n") == "short text"
    long = "word " * 100
    cut = truncate(long, 40)
    assert len(cut) <= 40 and cut == "word " * 6 + "word…"


def _row(name: str, n: int, f1, p=None, r=None, lo=None, hi=None) -> dict:
    return {"slice": name, "n": n, "micro_f1": f1, "micro_precision": p,
            "micro_recall": r, "ci_low": lo, "ci_high": hi}  # fmt: skip


def test_slice_findings_follow_the_numbers() -> None:
    rows = [
        _row("all", 400, 0.75, 0.78, 0.72, 0.72, 0.78),
        _row("short text", 100, 0.60, 0.63, 0.57, 0.54, 0.66),
        _row("long text", 100, 0.82, 0.84, 0.80, 0.77, 0.87),
        _row("few tags", 80, 0.70, 0.65, 0.74, 0.62, 0.77),
        _row("2020Q1", 200, 0.73, 0.7, 0.7, 0.68, 0.78),
        _row("2020Q2", 200, 0.77, 0.7, 0.7, 0.72, 0.82),
    ]
    worst, length, few, quarters = slice_findings(rows)
    assert "“short text” (n = 100)" in worst and "0.600 [0.540, 0.660]" in worst
    assert "0.750 [0.720, 0.780]" in worst and "do not overlap" in worst
    assert "0.600" in length and "0.820" in length and "cost 0.220" in length
    assert "n = 80, 20% of test" in few and "below the overall 0.750" in few
    assert "precision drops most (0.650 vs 0.780)" in few
    assert "2 scored quarters" in quarters and "0.730 (2020Q1)" in quarters
    # overlapping CIs, long texts worse, a tiny slice: the wording changes with the data
    rows[1] = _row("short text", 100, 0.74, 0.75, 0.73, 0.70, 0.79)
    rows[2] = _row("long text", 100, 0.70, 0.72, 0.69, 0.64, 0.76)
    rows.append(_row("2020Q3", 4, None))
    out = slice_findings(rows, max_sentences=6)
    assert "“long text”" in out[0] and "may be sampling noise" in out[0]
    assert "short descriptions score 0.040 higher" in out[1]
    assert out[-1].startswith("1 slice is too small to score (2020Q3)")
    assert len(slice_findings(rows)) == 4
    # single-label data: every project has few tags, so that slice says nothing
    whole = [rows[0], _row("few tags", 400, 0.75, 0.78, 0.72, 0.72, 0.78)]
    assert slice_findings(whole) == []
    assert slice_findings([]) == []
    assert slice_findings([_row("all", 5, None)]) == [
        "1 slice is too small to score (all): its row shows “—”, not a good or bad result."
    ]


def test_label_issue_rows_multi_and_single() -> None:
    texts = ["t0", "t1", "t2", "t3"]
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 0]])
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.1, 0.9], [0.1, 0.95]])
    out = label_issue_rows(texts, Y, probs, ["cv", "nlp"])
    assert out["n_issues"] == 1 and out["n_docs"] == 4 and out["n_docs_flagged"] == 1
    assert out["issues"] == [
        {"text": "t3", "given": "no nlp", "suggested": "nlp",
         "self_confidence": pytest.approx(0.05), "score": pytest.approx(0.95)},
    ]  # fmt: skip
    assert out["per_tag"] == [{"tag": "nlp", "missing": 1, "extra": 0, "given": 1}]
    single = label_issue_rows(texts, np.eye(2, dtype=int)[[0, 0, 1, 0]], probs, ["x", "y"],
                              mode="single")  # fmt: skip
    assert single["n_issues"] == 1 and single["issues"][0]["given"] == "x"
    assert single["issues"][0]["suggested"] == "y"
    assert single["per_tag"] == [{"given": "x", "suggested": "y", "count": 1}]


def test_report_renders_the_error_analysis_section(tmp_path: Path) -> None:
    texts = ["<i>Object detection</i> " + "with YOLO " * 30, "BERT for QA", "GAN art", "x"]
    scores = np.array([[0.9, 0.2, 0.8], [0.7, 0.1, 0.3], [0.6, 0.55, 0.1], [0.2, 0.3, 0.6]])
    slices = [
        _row("all", 400, 0.75, 0.78, 0.72, 0.72, 0.78),
        _row("short text", 100, 0.60, 0.63, 0.57, 0.54, 0.66),
    ]
    analysis = error_analysis(
        texts, Y_TRUE, Y_PRED, scores, LABELS, ancestors=ANCESTORS, slices=slices
    )
    data = ReportData(
        title="t", run={}, models=[{"name": "m", "metrics": {"micro_f1": 0.5}}],
        error_analysis=analysis,
    )  # fmt: skip
    html = write_report(data, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Error analysis (test)</h2>" in html
    assert "What the slices say" in html and "“short text” (n = 100)" in html
    assert '<table class="confused">' in html and "<td>2</td>" in html and "child" in html
    assert "Examples of errors" in html and "false negative" in html
    assert "&lt;i&gt;Object detection&lt;/i&gt;" in html and "<i>Object" not in html
    assert "Suspected label issues" in html and "estimated noise rate" in html
    li = analysis["label_issues"]
    assert f"<strong>{li['n_issues']}</strong>" in html
    assert f"in {li['n_docs_flagged']} of 4 test" in html
    assert "with YOLO " * 30 not in html  # truncated
    eye = np.eye(2, dtype=bool)
    data.error_analysis = error_analysis(
        texts, eye[[0, 1, 0, 1]], eye[[1, 1, 0, 0]], scores[:, :2], ["cv", "nlp"], mode="single"
    )
    html = write_report(data, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "Most confused classes" in html and "share of true class" in html
    assert "test labels" in html  # label issues phrased for single-label
