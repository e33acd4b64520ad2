"""Confident learning finds the labels we broke, and nothing on clean labels."""

from __future__ import annotations

import numpy as np
import pytest

from tagwise.evaluate.label_noise import find_label_issues, find_multilabel_issues


def _separable(n: int = 120, k: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """True classes and probabilities of a confident, correct model: 0.9 on the true class."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    probs = rng.uniform(0.01, 0.09, size=(n, k))
    probs[np.arange(n), y] = 0.9
    return y, probs


def test_flipped_labels_are_found_first_and_only_them() -> None:
    y, probs = _separable()
    flipped = np.array([3, 17, 40, 77, 101])
    given = y.copy()
    given[flipped] = (y[flipped] + 1) % 3
    found = find_label_issues(given, probs)
    assert set(found.issues[:5].tolist()) == set(flipped.tolist())
    assert found.n_issues == 5
    assert found.noise_rate == pytest.approx(5 / 120)
    np.testing.assert_array_equal(found.suggested[flipped], y[flipped])
    # the confident joint puts each flip in its (given, true) cell
    off = found.confident_joint - np.diag(np.diag(found.confident_joint))
    expected = np.zeros((3, 3), dtype=int)
    np.add.at(expected, (given[flipped], y[flipped]), 1)
    np.testing.assert_array_equal(off, expected)
    # ranked by self-confidence ascending
    assert np.all(np.diff(found.self_confidence[found.issues]) >= 0)


def test_perfect_predictor_has_no_issues() -> None:
    y = np.array([0, 1, 2, 1, 0, 2])
    probs = np.eye(3)[y]
    found = find_label_issues(y, probs)
    assert found.n_issues == 0 and found.noise_rate == 0.0
    np.testing.assert_array_equal(found.confident_joint, np.diag([2, 2, 2]))
    np.testing.assert_array_equal(found.suggested, y)


def test_thresholds_assignment_and_unassigned_rows_by_hand() -> None:
    given = np.array([0, 0, 1, 1])
    probs = np.array(
        [
            [0.9, 0.1],  # 0 reaches t0=0.7 → 0
            [0.5, 0.5],  # 0.5 < t0, 0.5 < t1=0.6 → unassigned
            [0.3, 0.7],  # 1 reaches t1 → 1
            [0.5, 0.5],  # unassigned
        ]
    )
    found = find_label_issues(given, probs)
    np.testing.assert_allclose(found.thresholds, [0.7, 0.6])
    np.testing.assert_array_equal(found.suggested, [0, -1, 1, -1])
    assert found.n_issues == 0
    assert found.confident_joint.sum() == 2


def test_argmax_among_reaching_classes_not_overall() -> None:
    given = np.array([0, 0, 0, 1, 1])
    probs = np.array([[0.9, 0.1], [0.9, 0.1], [0.3, 0.7], [0.5, 0.45], [0.6, 0.4]])
    found = find_label_issues(given, probs)
    # t0 = (0.9 + 0.9 + 0.3) / 3 = 0.7, t1 = (0.45 + 0.4) / 2 = 0.425
    np.testing.assert_allclose(found.thresholds, [0.7, 0.425])
    # row 3: overall argmax is 0, but only class 1 reaches its threshold
    np.testing.assert_array_equal(found.suggested, [0, 0, 1, 1, -1])
    assert found.issues.tolist() == [2]
    assert found.confident_joint.tolist() == [[2, 1], [0, 1]]


def test_class_never_given_is_never_suggested() -> None:
    given = np.array([0, 0, 1])
    probs = np.array([[0.1, 0.0, 0.9], [0.9, 0.1, 0.0], [0.0, 1.0, 0.0]])
    found = find_label_issues(given, probs)
    assert np.isinf(found.thresholds[2])
    assert 2 not in found.suggested.tolist()


@pytest.mark.parametrize(
    ("given", "probs", "match"),
    [
        (np.array([0, 1]), np.ones((3, 2)), "shape"),
        (np.array([0, 2]), np.ones((2, 2)), r"\[0, 2\)"),
        (np.array([0.0, 1.0]), np.ones((2, 2)), "integer"),
        (np.array([0, 1]), np.array([[np.nan, 1.0], [0.0, 1.0]]), "finite"),
    ],
)
def test_bad_input_is_rejected(given: np.ndarray, probs: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        find_label_issues(given, probs)


def test_multilabel_missing_and_extra_tags_are_found() -> None:
    rng = np.random.default_rng(1)
    n, k = 60, 4
    Y = rng.random((n, k)) < 0.4
    probs = np.where(Y, rng.uniform(0.75, 0.95, (n, k)), rng.uniform(0.02, 0.2, (n, k)))
    given = Y.copy()
    missing = [(2, 0), (10, 1), (33, 3)]
    extra = [(5, 2), (48, 0)]
    for i, j in missing:
        Y[i, j] = True
        probs[i, j] = 0.9
        given[i, j] = False
    for i, j in extra:
        Y[i, j] = False
        probs[i, j] = 0.05
        given[i, j] = True
    found = find_multilabel_issues(given, probs)
    pairs = {tuple(p) for p in found.issues.tolist()}
    assert pairs == set(missing) | set(extra)
    kinds = dict(zip(map(tuple, found.issues.tolist()), found.kind, strict=True))
    assert all(kinds[p] == "missing" for p in missing)
    assert all(kinds[p] == "extra" for p in extra)
    np.testing.assert_array_equal(found.n_missing, [1, 1, 0, 1])
    np.testing.assert_array_equal(found.n_extra, [1, 0, 1, 0])
    assert found.noise_rate == pytest.approx(5 / (n * k))
    assert np.all(np.diff(found.self_confidence) >= 0)


def test_multilabel_perfect_predictor_and_validation() -> None:
    Y = np.array([[1, 0], [0, 1], [1, 1]])
    found = find_multilabel_issues(Y, Y.astype(float))
    assert found.n_issues == 0 and found.issues.shape == (0, 2)
    with pytest.raises(ValueError, match=r"\[0, 1\]"):
        find_multilabel_issues(Y, Y * 2.0)
    with pytest.raises(ValueError, match="differ"):
        find_multilabel_issues(Y, np.ones((3, 3)))
