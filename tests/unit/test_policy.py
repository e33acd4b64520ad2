"""DecisionPolicy (threshold, closure, top-k, single mode) and tune_policy (val only)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tagwise.policy import DecisionPolicy, _micro_f1, label_parents, tune_policy
from tagwise.taxonomy import LabelSpace


def _cols(policy: DecisionPolicy, scores, **kw) -> list[list[int]]:
    return [[j for j, _ in row] for row in policy.decide(np.asarray(scores, dtype=float), **kw)]


def test_threshold_keeps_scores_at_or_above_it_best_first():
    policy = DecisionPolicy(threshold=0.5, top_k=5, closure=False)
    scores = [[0.2, 0.5, 0.9, 0.49], [0.1, 0.1, 0.1, 0.1]]
    decided = policy.decide(np.array(scores))
    assert decided == [[(2, 0.9), (1, 0.5)], []]


def test_top_k_caps_the_number_of_tags():
    policy = DecisionPolicy(threshold=0.1, top_k=2, closure=False)
    scores = np.array([[0.3, 0.9, 0.5, 0.7]])
    assert _cols(policy, scores) == [[1, 3]]
    assert _cols(policy, scores, k=3) == [[1, 3, 2]]
    assert _cols(policy, scores, k=10) == [[1, 3, 2, 0]]


def test_min_score_filters_on_top_of_the_threshold():
    policy = DecisionPolicy(threshold=0.1, top_k=5, closure=False)
    scores = np.array([[0.3, 0.9, 0.5]])
    assert _cols(policy, scores, min_score=0.4) == [[1, 2]]
    assert _cols(policy, scores, min_score=0.05) == [[1, 2, 0]]  # threshold still applies


def test_closure_adds_ancestors_scored_like_the_child():
    # column 2 is a child of column 1, which is a child of column 0
    parents = ((), (0,), (0, 1))
    scores = np.array([[0.1, 0.2, 0.8], [0.1, 0.2, 0.3]])
    with_closure = DecisionPolicy(threshold=0.5, top_k=5, parents=parents)
    # the most specific first: the child implies the rest
    assert with_closure.decide(scores) == [[(2, 0.8), (1, 0.8), (0, 0.8)], []]
    assert with_closure.decide(scores, k=1) == [[(2, 0.8)], []]  # not the generic root
    without = DecisionPolicy(threshold=0.5, top_k=5, closure=False, parents=parents)
    assert _cols(without, scores) == [[2], []]
    assert scores[0, 0] == 0.1  # the input is not modified


def test_closure_ancestors_survive_the_top_k_cap():
    parents = ((), (0,), ())
    policy = DecisionPolicy(threshold=0.5, top_k=2, parents=parents)
    scores = np.array([[0.1, 0.9, 0.85]])
    assert sorted(_cols(policy, scores)[0]) == [0, 1]


def test_single_mode_returns_exactly_one_even_below_threshold():
    policy = DecisionPolicy(threshold=0.99, top_k=5, mode="single", parents=((), (0,)))
    scores = np.array([[0.1, 0.3, 0.2], [0.6, 0.1, 0.9], [0.0, 0.0, 0.0]])
    selected = policy.select(scores)
    assert selected.sum(axis=1).tolist() == [1, 1, 1]
    assert _cols(policy, scores) == [[1], [2], [0]]


def test_per_tag_thresholds_override_the_global_one():
    policy = DecisionPolicy(threshold=0.5, top_k=5, closure=False, per_tag=(0.9, 0.1))
    assert _cols(policy, np.array([[0.6, 0.2]])) == [[1]]
    np.testing.assert_array_equal(policy.thresholds(2), [0.9, 0.1])
    np.testing.assert_array_equal(DecisionPolicy(threshold=0.3).thresholds(3), [0.3] * 3)


def test_empty_batches_and_empty_label_spaces():
    policy = DecisionPolicy()
    assert policy.select(np.zeros((0, 4))).shape == (0, 4)
    assert policy.decide(np.zeros((0, 4))) == []
    assert policy.decide(np.zeros((2, 0))) == [[], []]


def test_to_dict_from_dict_round_trip():
    policy = DecisionPolicy(
        threshold=0.37, top_k=3, closure=False, mode="multi", per_tag=(0.2, 0.6), parents=((), (0,))
    )
    again = DecisionPolicy.from_dict(json.loads(json.dumps(policy.to_dict())))
    assert again == policy
    single = DecisionPolicy(mode="single")
    assert DecisionPolicy.from_dict(json.loads(json.dumps(single.to_dict()))) == single


def test_label_parents_maps_ancestors_to_columns(toy_taxonomy):
    labels = LabelSpace(
        labels=("bert", "deep-learning", "computer-vision", "transformers"), counts=(1, 1, 1, 1)
    )
    assert label_parents(labels, toy_taxonomy) == ((1, 3), (), (), (1,))


# --- tuning -----------------------------------------------------------------------


def _val_case():
    """Three labels; the policy's F1 curve over the grid has its single peak at 0.5."""
    Y = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 0, 1], [0, 0, 0], [1, 0, 1]])
    scores = np.array(
        [
            [0.6, 0.4, 0.2],
            [0.4, 0.55, 0.1],
            [0.8, 0.6, 0.45],
            [0.2, 0.1, 0.52],
            [0.45, 0.45, 0.4],
            [0.7, 0.2, 0.65],
        ]
    )
    return scores, Y


def test_tune_policy_picks_the_f1_maximising_threshold():
    scores, Y = _val_case()
    grid = (0.3, 0.4, 0.5, 0.6, 0.7)
    base = DecisionPolicy(top_k=5, closure=False)
    tuned, curve = tune_policy(base, scores, Y, grid=grid)
    assert tuned.threshold == 0.5
    assert tuned.per_tag is None
    assert len(curve) == len(grid)
    expected = [_micro_f1(Y.astype(bool), scores >= t) for t in grid]
    np.testing.assert_allclose(curve, expected)
    assert curve[2] == 1.0
    assert max(c for i, c in enumerate(curve) if i != 2) < 1.0
    assert tuned.top_k == base.top_k and tuned.closure == base.closure


def test_tune_policy_only_reads_the_given_val_arrays():
    scores, Y = _val_case()
    scores.setflags(write=False)
    Y.setflags(write=False)
    first, curve1 = tune_policy(DecisionPolicy(closure=False), scores, Y, per_tag=True)
    second, curve2 = tune_policy(
        DecisionPolicy(closure=False), scores.copy(), Y.copy(), per_tag=True
    )
    assert first == second and curve1 == curve2  # a pure function of its arguments
    # changing the validation labels changes the choice: it is what the tuning looks at
    flipped, _ = tune_policy(DecisionPolicy(closure=False), scores, 1 - Y, grid=(0.3, 0.5, 0.7))
    assert flipped.threshold != 0.5


def test_tune_policy_per_tag_shrinks_towards_the_global_threshold():
    # label 0: positives score 0.8, negatives 0.7 -> own best 0.75 (first F1=1 point)
    # label 1: positives score 0.3, negatives 0.1 -> own best 0.2
    Y = np.array([[1, 0], [1, 0], [0, 1], [0, 1], [0, 0], [0, 0]])
    scores = np.array([[0.8, 0.1], [0.8, 0.1], [0.7, 0.3], [0.7, 0.3], [0.7, 0.1], [0.7, 0.1]])
    grid = (0.2, 0.5, 0.75)
    base = DecisionPolicy(top_k=5, closure=False)
    tuned, _ = tune_policy(base, scores, Y, grid=grid, per_tag=True, shrinkage=2.0)
    best = tuned.threshold
    assert tuned.per_tag == pytest.approx(
        ((2 * 0.75 + 2.0 * best) / 4.0, (2 * 0.2 + 2.0 * best) / 4.0)
    )
    no_shrink, _ = tune_policy(base, scores, Y, grid=grid, per_tag=True, shrinkage=0.0)
    assert no_shrink.per_tag == pytest.approx((0.75, 0.2))
    strong, _ = tune_policy(base, scores, Y, grid=grid, per_tag=True, shrinkage=1e9)
    assert strong.per_tag == pytest.approx((best, best))
    # the per-tag policy separates this case perfectly
    assert _micro_f1(Y.astype(bool), no_shrink.select(scores)) == 1.0


def test_tune_policy_single_mode_is_untouched():
    scores, Y = _val_case()
    base = DecisionPolicy(mode="single", threshold=0.3)
    assert tune_policy(base, scores, Y) == (base, [])
