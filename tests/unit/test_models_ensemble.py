"""The ensemble: members by name, out-of-fold stacking / calibration, flat save layout."""

from __future__ import annotations

import numpy as np
import pytest

from tagwise.errors import ConfigError
from tagwise.models.base import FitContext
from tagwise.models.ensemble import EnsembleModel
from tagwise.models.registry import create_model

HASH_MEMBERS = [
    {"backend": "tfidf-linear", "params": {"min_df": 1}, "link": "logit"},
    {"backend": "embedding", "params": {"encoder": "hashing"}, "link": "logit"},
    {"backend": "knn", "params": {"encoder": "hashing", "k": 5}, "link": "identity"},
    {"backend": "rules", "link": "identity"},
]


@pytest.fixture(scope="module")
def context(tiny_prepared, taxonomy) -> FitContext:
    return FitContext(labels=tiny_prepared.labels, taxonomy=taxonomy)


def _fit(tiny_prepared, context, members=HASH_MEMBERS, **params) -> EnsembleModel:
    model = create_model("ensemble", {"members": members, "cv_folds": 3, **params})
    return model.fit(list(tiny_prepared.texts), tiny_prepared.Y, context)


@pytest.fixture(scope="module")
def stacked(tiny_prepared, context) -> EnsembleModel:
    return _fit(tiny_prepared, context)


def test_stack_learns_one_weight_per_member_and_tag(stacked, tiny_prepared):
    assert stacked.coef_.shape == (len(tiny_prepared.labels), len(HASH_MEMBERS))
    scores = stacked.predict_proba(list(tiny_prepared.texts))
    assert scores.shape == tiny_prepared.Y.shape
    assert np.all((scores >= 0) & (scores <= 1))
    # better than chance on its own training data
    assert (scores.argmax(axis=1) == tiny_prepared.Y.argmax(axis=1)).mean() > 0.5


def test_members_can_be_inspected(stacked, tiny_prepared):
    parts = stacked.member_scores(list(tiny_prepared.texts[:3]))
    assert len(parts) == len(HASH_MEMBERS)
    np.testing.assert_allclose(
        stacked.combine(parts), stacked.predict_proba(tiny_prepared.texts[:3])
    )


def test_save_is_flat_and_round_trips(stacked, tiny_prepared, tmp_path):
    stacked.save(tmp_path)
    assert all(p.is_file() for p in tmp_path.iterdir())
    assert (tmp_path / "member0.params.json").is_file()
    assert (tmp_path / "member2.keys.npy").is_file()
    loaded = EnsembleModel.load(tmp_path)
    texts = list(tiny_prepared.texts)
    np.testing.assert_array_equal(loaded.predict_proba(texts), stacked.predict_proba(texts))


@pytest.mark.parametrize("calibration", ["platt", "isotonic", "none"])
def test_mean_combiner_with_each_calibration(tiny_prepared, context, calibration, tmp_path):
    model = _fit(
        tiny_prepared,
        context,
        members=HASH_MEMBERS[1:],  # no TF-IDF: keeps the test fast
        combiner="mean",
        calibration=calibration,
        weights=[2, 1, 0],
    )
    texts = list(tiny_prepared.texts)
    scores = model.predict_proba(texts)
    assert np.all((scores >= 0) & (scores <= 1))
    model.save(tmp_path)
    np.testing.assert_allclose(EnsembleModel.load(tmp_path).predict_proba(texts), scores)


def test_member_cache_reuses_fitted_members(tiny_prepared, context):
    cache: dict = {}
    first = create_model("ensemble", {"members": HASH_MEMBERS[:2], "cv_folds": 2})
    first.set_member_cache(cache).fit(list(tiny_prepared.texts), tiny_prepared.Y, context)
    n = len(cache)
    assert n == 2 * 3  # two members x (two folds + the final refit)
    second = create_model("ensemble", {"members": HASH_MEMBERS[:2], "cv_folds": 2, "C": 0.1})
    second.set_member_cache(cache).fit(list(tiny_prepared.texts), tiny_prepared.Y, context)
    assert len(cache) == n
    assert second.members_[0] is first.members_[0]


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"members": []}, "non-empty"),
        ({"members": [{"params": {}}]}, "backend"),
        ({"members": [{"backend": "nope"}]}, "valid"),
        ({"members": [{"backend": "ensemble"}]}, "cannot contain"),
        ({"members": [{"backend": "prior", "link": "probit"}]}, "link"),
        ({"members": [{"backend": "prior", "weight": 1}]}, "unknown key"),
        ({"combiner": "vote"}, "combiner"),
        ({"calibration": "isotonic"}, "stack combiner"),
        ({"combiner": "mean", "calibration": "beta"}, "calibration"),
        ({"combiner": "mean", "weights": [1.0, 2.0]}, "weights"),
        ({"cv_folds": 1}, "cv_folds"),
        ({"n_jobs": 0}, "n_jobs"),
    ],
)
def test_bad_params_raise_at_fit(tiny_prepared, context, params, match):
    model = create_model("ensemble", {"members": HASH_MEMBERS[:1], **params})
    with pytest.raises(ConfigError, match=match):
        model.fit(list(tiny_prepared.texts), tiny_prepared.Y, context)
