"""Drift statistics on synthetic shifts: quiet on same-distribution windows, loud on shifts."""

from __future__ import annotations

import numpy as np
import pytest

from tagwise.monitoring.drift import (
    Window,
    build_reference,
    check_window,
    chi2_counts,
    oov_rate,
    psi,
    suggestion_quality,
)

VISION = [
    "convolutional network detects objects in images",
    "image segmentation of cells",
    "object detection with yolo on video frames",
    "gan generates realistic faces",
    "image classification on imagenet with resnet",
    "pose estimation from camera images",
]
LANGUAGE = [
    "bert answers questions about wikipedia text",
    "translation with a transformer",
    "sentiment of movie reviews with lstm",
    "named entity recognition for news",
    "summarising long documents with attention",
    "question answering on squad",
]


def _corpus(sentences: list[str], n: int, rng: np.random.Generator) -> list[str]:
    return [" ".join(rng.choice(sentences, 2)) + f" variant {rng.integers(5)}" for _ in range(n)]


def _window(texts: list[str], tag: str, score: float, final: str | None = None) -> Window:
    return Window(
        "w",
        tuple(texts),
        tuple((tag,) for _ in texts),
        tuple(score for _ in texts),
        tuple((final or tag,) for _ in texts),
    )


@pytest.fixture(scope="module")
def reference():
    rng = np.random.default_rng(0)
    train = _corpus(VISION, 300, rng)
    held = _corpus(VISION, 200, rng)
    suggested = [("computer-vision",) for _ in held]
    scores = rng.uniform(0.5, 0.9, len(held))
    return build_reference(train, held, suggested, scores, suggested)


def test_same_distribution_window_does_not_alert(reference) -> None:
    rng = np.random.default_rng(1)
    window = Window(
        "same",
        tuple(_corpus(VISION, 60, rng)),
        tuple(("computer-vision",) for _ in range(60)),
        tuple(rng.uniform(0.5, 0.9, 60)),
        tuple(("computer-vision",) for _ in range(60)),
    )
    report = check_window(reference, window)
    assert not report.alert, report.fired()
    assert report.performance["f1"] == pytest.approx(1.0)


def test_topic_shift_fires_content_and_prediction_tests(reference) -> None:
    rng = np.random.default_rng(2)
    texts = _corpus(LANGUAGE, 60, rng)
    window = Window(
        "shift",
        tuple(texts),
        tuple(("natural-language-processing",) for _ in texts),
        tuple(rng.uniform(0.1, 0.4, 60)),
        tuple(("natural-language-processing",) for _ in texts),
    )
    fired = set(check_window(reference, window).fired())
    assert {
        "content_domain_auc",
        "oov_rate_mannwhitney",
        "suggested_tags_chi2",
        "top_score_ks",
        "label_chi2",
    } <= fired


def test_performance_decay_fires_only_when_material(reference) -> None:
    rng = np.random.default_rng(3)
    texts = _corpus(VISION, 60, rng)
    wrong = _window(texts, "computer-vision", 0.7, final="segmentation")
    report = check_window(reference, wrong)
    assert "performance_f1_drop" in report.fired()
    assert report.performance["precision"] == 0.0


def test_length_shift_fires_ks(reference) -> None:
    rng = np.random.default_rng(4)
    long_texts = [" ".join(_corpus(VISION, 8, rng)) for _ in range(60)]
    report = check_window(reference, _window(long_texts, "computer-vision", 0.7))
    assert "text_length_ks" in report.fired()


def test_psi_zero_for_identical_and_large_for_shift() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=5000)
    assert psi(a, a) == pytest.approx(0.0, abs=1e-9)
    assert psi(a, rng.normal(loc=2.0, size=5000)) > 1.0


def test_chi2_counts_pools_rare_tags_and_detects_change() -> None:
    same = chi2_counts({"a": 500, "b": 500, "rare": 1}, {"a": 50, "b": 50})
    moved = chi2_counts({"a": 500, "b": 500}, {"a": 95, "b": 5})
    assert same[1] > 0.5 and moved[1] < 1e-6


def test_oov_rate_and_quality() -> None:
    assert oov_rate(frozenset({"deep", "learning"}), "deep learning rocks") == pytest.approx(1 / 3)
    assert oov_rate(frozenset(), "") == 0.0
    q = suggestion_quality([("a", "b"), ("c",)], [("a",), ("c", "d")])
    assert q["precision"] == pytest.approx(2 / 3) and q["recall"] == pytest.approx(2 / 3)
