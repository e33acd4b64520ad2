"""Expected calibration error and reliability data."""

from __future__ import annotations

import numpy as np
import pytest

from tagwise.evaluate.calibration import (
    expected_calibration_error,
    reliability,
    reliability_figure,
    suggested_calibration_error,
)


def test_perfectly_calibrated_scores_have_zero_ece():
    scores = np.array([0.25] * 4 + [0.75] * 4)
    y = np.array([1, 0, 0, 0, 1, 1, 1, 0])
    assert expected_calibration_error(y, scores, n_bins=4) == pytest.approx(0.0)


def test_ece_is_the_weighted_gap():
    # bin [0.8, 1]: mean score 0.9, 1 of 2 positive -> gap 0.4; bin [0, 0.2]: 0.1 vs 0 -> 0.1
    y = np.array([[1, 0], [0, 0]])
    scores = np.array([[0.9, 0.1], [0.9, 0.1]])
    assert expected_calibration_error(y, scores, n_bins=5) == pytest.approx(0.5 * 0.4 + 0.5 * 0.1)


def test_reliability_bins_and_edges():
    rel = reliability(np.array([0, 1, 1]), np.array([0.0, 0.5, 1.0]), n_bins=2)
    np.testing.assert_allclose(rel.edges, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(rel.count, [2, 1])  # 0.5 falls in the lower bin (right=True)
    np.testing.assert_allclose(rel.frac_positive, [0.5, 1.0])
    assert rel.to_dict()["count"] == [2, 1]


def test_empty_bins_are_nan_and_ignored():
    rel = reliability(np.array([1]), np.array([0.95]), n_bins=10)
    assert np.isnan(rel.mean_score[0]) and rel.count[-1] == 1
    assert expected_calibration_error(np.array([1]), np.array([0.95])) == pytest.approx(0.05)


def test_shown_tags_only():
    y = np.array([[1, 0], [0, 1]])
    s = np.array([[0.8, 0.3], [0.2, 0.6]])
    sel = s >= 0.5
    assert suggested_calibration_error(y, s, sel, n_bins=10) == pytest.approx((0.2 + 0.4) / 2)


def test_bad_input_raises():
    with pytest.raises(ValueError, match="differ"):
        reliability(np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="n_bins"):
        reliability(np.zeros(3), np.zeros(3), n_bins=0)


def test_figure_renders():
    rel = reliability(np.array([0, 1, 1, 0]), np.array([0.1, 0.7, 0.9, 0.4]))
    fig = reliability_figure(rel)
    assert fig.axes[0].get_xlabel() == "mean score in bin"


def test_report_shows_a_calibration_section_when_ece_is_given():
    from tagwise.evaluate.report import ReportData, render_report

    Y = np.array([[1, 0], [0, 1], [1, 1]])
    scores = np.array([[0.9, 0.2], [0.1, 0.8], [0.7, 0.6]])
    base = {"title": "t", "run": {}, "models": [], "Y_true": Y, "scores": scores}
    assert "Calibration (test)" not in render_report(ReportData(**base))
    html = render_report(ReportData(**base, ece=0.1234))
    assert "Calibration (test)" in html and "reliability diagram" in html and "0.123" in html
