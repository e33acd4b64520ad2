"""Calibration: do scores mean probabilities? Expected calibration error and reliability data.

Multi-label scores are judged per (document, tag) decision: of all the pairs scored
about 0.7, about 70 % should carry the tag. ECE is the support-weighted mean gap
``|fraction positive − mean score|`` over equal-width score bins (15 by default, as in
Guo et al., 2017). Pure numpy.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Reliability:
    """Per-bin mean score, fraction positive and count (empty bins have count 0)."""

    edges: np.ndarray
    mean_score: np.ndarray
    frac_positive: np.ndarray
    count: np.ndarray

    def to_dict(self) -> dict:
        """JSON form (for reports and MLflow)."""
        return {
            "edges": self.edges.tolist(),
            "mean_score": self.mean_score.tolist(),
            "frac_positive": self.frac_positive.tolist(),
            "count": self.count.astype(int).tolist(),
        }


def reliability(y_true: np.ndarray, scores: np.ndarray, *, n_bins: int = 15) -> Reliability:
    """Reliability-diagram data of flattened ``scores`` against 0/1 ``y_true``."""
    y = np.asarray(y_true, dtype=float).ravel()
    s = np.asarray(scores, dtype=float).ravel()
    if y.shape != s.shape:
        raise ValueError(f"y_true {np.shape(y_true)} and scores {np.shape(scores)} differ")
    if n_bins < 1:
        raise ValueError(f"n_bins must be ≥ 1, got {n_bins}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.clip(np.digitize(s, edges[1:-1], right=True), 0, n_bins - 1)
    count = np.bincount(which, minlength=n_bins).astype(float)
    sum_s = np.bincount(which, weights=s, minlength=n_bins)
    sum_y = np.bincount(which, weights=y, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_score = np.where(count > 0, sum_s / count, np.nan)
        frac = np.where(count > 0, sum_y / count, np.nan)
    return Reliability(edges, mean_score, frac, count)


def expected_calibration_error(
    y_true: np.ndarray, scores: np.ndarray, *, n_bins: int = 15
) -> float:
    """ECE over every (document, tag) pair: Σ_b (n_b / N) · |frac_pos_b − mean_score_b|."""
    rel = reliability(y_true, scores, n_bins=n_bins)
    total = rel.count.sum()
    if total == 0:
        return 0.0
    ok = rel.count > 0
    gaps = np.abs(rel.frac_positive[ok] - rel.mean_score[ok])
    return float((rel.count[ok] * gaps).sum() / total)


def suggested_calibration_error(
    y_true: np.ndarray, scores: np.ndarray, selected: np.ndarray, *, n_bins: int = 10
) -> float:
    """ECE restricted to the tags actually shown (does a shown 0.8 hold 80 % of the time?)."""
    sel = np.asarray(selected, dtype=bool)
    return expected_calibration_error(
        np.asarray(y_true)[sel], np.asarray(scores)[sel], n_bins=n_bins
    )


def reliability_figure(rel: Reliability, title: str = "Reliability"):
    """A matplotlib figure: fraction positive vs mean score per bin, with the diagonal."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, 4.0))
    ax = fig.add_subplot(1, 1, 1)
    ok = rel.count > 0
    ax.plot([0, 1], [0, 1], color="#999", lw=1, ls="--", label="perfect")
    ax.plot(rel.mean_score[ok], rel.frac_positive[ok], marker="o", color="#1f6feb", label="model")
    ax.set_xlabel("mean score in bin")
    ax.set_ylabel("fraction with the tag")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    return fig
