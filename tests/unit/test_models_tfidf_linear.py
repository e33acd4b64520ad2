"""TF-IDF + linear heads: the prediction-time features equal scikit-learn's transform."""

from __future__ import annotations

import numpy as np
import pytest

from tagwise.models.base import FitContext
from tagwise.models.registry import create_model
from tagwise.taxonomy import LabelSpace

TEXTS = [f"apple banana cherry smoothie recipe {i}" for i in range(8)] + [
    f"car engine gearbox wheel repair {i}" for i in range(8)
]
Y = np.array([[1, 0]] * 8 + [[0, 1]] * 8, dtype=np.int8)
NEW = ["banana engine", "", "???", "Ünïcode smoothie résumé", "apple apple apple gearbox"]


@pytest.fixture
def model(toy_taxonomy):
    context = FitContext(
        labels=LabelSpace(labels=("fruit", "cars"), counts=(8, 8)), taxonomy=toy_taxonomy
    )
    return create_model("tfidf-linear", {"min_df": 1}).fit(TEXTS, Y, context)


def _sklearn_margins(model, texts):
    X = model.vectorizer_.transform(texts)
    return np.asarray(X @ model.coef_, dtype=np.float64) + model.intercept_


def test_margins_equal_the_sklearn_transform(model):
    np.testing.assert_allclose(
        model.decision_function(NEW), _sklearn_margins(model, NEW), rtol=1e-5, atol=1e-6
    )
    for part, (_, vec) in zip(model._parts, model.vectorizer_.transformer_list, strict=True):
        for text in NEW:
            cols, vals = part.features(text)
            dense = np.zeros(len(vec.vocabulary_), dtype=np.float32)
            dense[cols - part.offset] = vals
            np.testing.assert_allclose(dense, vec.transform([text]).toarray()[0], atol=1e-6)


def test_a_row_does_not_depend_on_its_batch_and_survives_a_round_trip(model, tmp_path):
    batch = model.predict_proba(NEW)
    np.testing.assert_array_equal(np.vstack([model.predict_proba([t]) for t in NEW]), batch)
    model.save(tmp_path)
    np.testing.assert_array_equal(type(model).load(tmp_path).predict_proba(NEW), batch)


def test_options_the_short_loop_lacks_fall_back_to_transform(model):
    model.vectorizer_.transformer_list[0][1].norm = "l1"
    model._parts = None
    np.testing.assert_array_equal(model.decision_function(NEW), _sklearn_margins(model, NEW))
    assert model._parts == []
