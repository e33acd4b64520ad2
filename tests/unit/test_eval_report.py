"""The HTML report: written atomically, self-contained, escaped, with tables and plots."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest

from tagwise.evaluate import (
    BehaviouralCase,
    ReportData,
    bootstrap_ci,
    multilabel_metrics,
    per_tag_table,
    run_cases,
    slice_table,
    threshold_curve,
    write_report,
)


def _data() -> ReportData:
    rng = np.random.default_rng(0)
    labels = ["computer-vision", "natural-language-processing", "<b>odd-tag</b>", "mlops"]
    Y_true = rng.random((80, 4)) < 0.3
    scores = np.clip(Y_true * 0.4 + rng.random((80, 4)) * 0.6, 0, 1)
    Y_pred = scores >= 0.5
    baseline = rng.random((80, 4))
    models = [
        {"name": "tfidf-linear", "metrics": multilabel_metrics(Y_true, Y_pred, scores),
         "ci": bootstrap_ci(Y_true, Y_pred, n_boot=100)},
        {"name": "majority", "metrics": multilabel_metrics(Y_true, baseline > 0.9, baseline),
         "ci": bootstrap_ci(Y_true, baseline > 0.9, n_boot=100)},
    ]  # fmt: skip
    grid = np.linspace(0.05, 0.95, 19)
    cases = [
        BehaviouralCase("minimum_functionality", "mft-ok", "a", expected=("mlops",)),
        BehaviouralCase("minimum_functionality", "mft-broken", "b", expected=("mlops",)),
    ]
    behavioural = run_cases(cases, lambda ts: [["mlops"] if t == "a" else [] for t in ts])
    slices = {"all": np.ones(80, bool), "tiny": np.arange(80) < 3}
    return ReportData(
        title="Evaluation <script>alert(1)</script>",
        run={"run_id": "abc123", "git_commit": "deadbeef", "created": "2024-01-01T00:00:00Z"},
        models=models,
        per_tag=per_tag_table(Y_true, Y_pred, labels),
        threshold=0.5,
        thresholds_grid=grid.tolist(),
        val_f1_curve=threshold_curve(Y_true, scores, grid).tolist(),
        Y_true=Y_true,
        scores=scores,
        slices=slice_table(slices, Y_true, Y_pred, scores, n_boot=100),
        behavioural=behavioural,
        temporal={"cutoff": "2020-06-01", "n_train": 500, "n_test": 80, "models": models[:1]},
        data_summary={"n_projects": 1751, "n_labels": 4, "label_cardinality": 1.234567},
        notes=["thresholds tuned on validation only"],
        single_label={"accuracy": 0.8, "weighted_f1": 0.7, "macro_f1": 0.6,
                      "confusion": [[5, 1], [2, 7]], "labels": ["cv", "nlp"]},
    )  # fmt: skip


def test_write_report_is_self_contained_and_complete(tmp_path: Path) -> None:
    out = write_report(_data(), tmp_path / "sub" / "report.html")
    assert out == tmp_path / "sub" / "report.html"
    html = out.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>")
    assert re.search(r"https?://", html) is None
    assert "<link" not in html and "<script" not in html
    # per-tag bar chart, PR curve, threshold plot, confusion matrix
    assert html.count('<img alt="') == 4
    assert html.count('src="data:image/png;base64,') == 4
    assert '<table class="models">' in html and "tfidf-linear" in html and "majority" in html
    assert '<table class="per-tag">' in html and '<table class="slices">' in html
    assert "Temporal check" in html and "2020-06-01" in html
    assert "mft-broken" in html and "mft-ok" not in html  # only failing cases listed
    assert "1.235" in html  # numbers formatted
    assert "[" in html and "CI" in html
    assert not list(tmp_path.glob("sub/.*tmp"))  # no temp file left behind


def test_all_text_is_escaped(tmp_path: Path) -> None:
    html = write_report(_data(), tmp_path / "r.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;b&gt;odd-tag&lt;/b&gt;" in html
    assert "<b>odd-tag</b>" not in html


def test_minimal_report_without_optional_parts(tmp_path: Path) -> None:
    data = ReportData(title="t", run={}, models=[{"name": "m", "metrics": {"micro_f1": 0.5}}])
    html = write_report(data, tmp_path / "r.html").read_text(encoding="utf-8")
    assert "0.500" in html and "<img" not in html


def test_failed_render_keeps_the_old_report(tmp_path: Path) -> None:
    path = tmp_path / "r.html"
    path.write_text("old")
    data = ReportData(title="t", run={}, models=[{"metrics": {}}])  # no name -> render error
    with pytest.raises(Exception, match="name"):
        write_report(data, path)
    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]
