"""One conformance suite for every registered backend, plus backend-specific checks.

Parametrised over ``tagwise.models.registry.BACKENDS``, so a new backend is covered
the moment it is registered. A backend whose optional extra is not installed is
skipped with the reason, never silently passed.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from tagwise.errors import ConfigError, NotSupportedError, NotTrainedError
from tagwise.models.base import FitContext, TagModel
from tagwise.models.registry import BACKENDS, backend_class, create_model
from tagwise.taxonomy import LabelSpace

QUERIES = [
    "fine-tuning bert with hugging face transformers for sentiment analysis",
    "real-time object detection with yolo on a webcam",
    "deep q-learning agent plays atari",
    "graph convolutional networks for node classification",
    "a project about nothing in particular",
    "",
]


def _cls(name: str) -> type[TagModel]:
    try:
        return backend_class(name)
    except NotSupportedError as exc:  # an optional extra that is not installed
        pytest.skip(str(exc))


@pytest.fixture(params=sorted(BACKENDS), scope="module")
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="module")
def fit_context(tiny_prepared, taxonomy) -> FitContext:
    return FitContext(labels=tiny_prepared.labels, taxonomy=taxonomy, mode="multi", seed=42)


@pytest.fixture(scope="module")
def fitted(backend, tiny_prepared, fit_context) -> TagModel:
    return _cls(backend)().fit(list(tiny_prepared.texts), tiny_prepared.Y, fit_context)


# --- the contract -----------------------------------------------------------------


def test_registry_name_matches_class(backend):
    cls = _cls(backend)
    assert cls.name == backend
    assert issubclass(cls, TagModel)


def test_init_only_stores_defaults(backend):
    model = create_model(backend)
    assert model.params == _cls(backend).defaults
    assert not hasattr(model, "labels_")


def test_fit_returns_self(backend, tiny_prepared, fit_context):
    model = create_model(backend)
    assert model.fit(list(tiny_prepared.texts), tiny_prepared.Y, fit_context) is model
    assert model.labels_ == tiny_prepared.labels


def test_predict_proba_shape_and_range(fitted, tiny_prepared):
    scores = fitted.predict_proba(QUERIES)
    assert isinstance(scores, np.ndarray)
    assert scores.shape == (len(QUERIES), len(tiny_prepared.labels))
    assert np.issubdtype(scores.dtype, np.floating)
    assert np.all(np.isfinite(scores))
    assert np.all((scores >= 0) & (scores <= 1))


def test_rows_do_not_depend_on_the_batch(fitted):
    batch = fitted.predict_proba(QUERIES)
    one_by_one = np.vstack([fitted.predict_proba([q]) for q in QUERIES])
    np.testing.assert_allclose(batch, one_by_one, rtol=1e-6, atol=1e-9)


def test_empty_input_gives_zero_rows(fitted, tiny_prepared):
    assert fitted.predict_proba([]).shape == (0, len(tiny_prepared.labels))


def test_not_fitted_raises(backend, tmp_path):
    model = create_model(backend)
    with pytest.raises(NotTrainedError, match=backend):
        model.predict_proba(["text"])
    with pytest.raises(NotTrainedError):
        model.predict_proba([])
    with pytest.raises(NotTrainedError):
        model.save(tmp_path)


def test_unknown_parameter_lists_the_valid_ones(backend):
    with pytest.raises(ConfigError) as info:
        create_model(backend, {"no_such_param": 1})
    message = str(info.value)
    assert "no_such_param" in message
    assert backend in message
    assert "valid" in message
    for name in _cls(backend).defaults:
        assert repr(name) in message


def test_mismatched_inputs_raise(backend, tiny_prepared, fit_context):
    texts = list(tiny_prepared.texts)
    with pytest.raises(ConfigError, match="label rows"):
        create_model(backend).fit(texts[:-1], tiny_prepared.Y, fit_context)
    with pytest.raises(ConfigError, match="columns"):
        create_model(backend).fit(texts, tiny_prepared.Y[:, :-1], fit_context)


def test_save_load_round_trip_is_identical(backend, fitted, tmp_path):
    fitted.save(tmp_path)
    meta = json.loads((tmp_path / "params.json").read_text())
    assert meta == {"name": backend, "params": fitted.params}
    loaded = _cls(backend).load(tmp_path)
    assert loaded.labels_ == fitted.labels_
    assert loaded.params == fitted.params
    np.testing.assert_array_equal(loaded.predict_proba(QUERIES), fitted.predict_proba(QUERIES))


def test_saved_files_need_no_pickle(fitted, tmp_path):
    fitted.save(tmp_path)
    for path in tmp_path.rglob("*"):
        assert path.suffix in {".json", ".npy"}, path.name
        if path.suffix == ".npy":
            np.load(path, allow_pickle=False)


def test_two_fits_with_the_same_seed_agree(backend, tiny_prepared, fit_context, fitted):
    again = create_model(backend).fit(list(tiny_prepared.texts), tiny_prepared.Y, fit_context)
    np.testing.assert_array_equal(again.predict_proba(QUERIES), fitted.predict_proba(QUERIES))


# --- backend-specific -------------------------------------------------------------


def _fit_on(name: str, taxonomy, labels: tuple[str, ...], **params) -> TagModel:
    space = LabelSpace(labels=labels, counts=tuple(1 for _ in labels))
    Y = np.eye(len(labels), dtype=np.int8)
    texts = [f"doc {i}" for i in range(len(labels))]
    return create_model(name, params).fit(texts, Y, FitContext(labels=space, taxonomy=taxonomy))


TOY_LABELS = (
    "bert",
    "transformers",
    "deep-learning",
    "language-modeling",
    "natural-language-processing",
    "computer-vision",
    "object-detection",
)


def _scores(model: TagModel, text: str) -> dict[str, float]:
    row = model.predict_proba([text])[0]
    return {t: float(s) for t, s in zip(model.labels_.labels, row, strict=True) if s > 0}


def test_rules_match_aliases_and_add_parents(toy_taxonomy):
    model = _fit_on("rules", toy_taxonomy, TOY_LABELS)
    assert _scores(model, "we fine-tune bert base on reviews") == {
        "bert": 1.0,
        "transformers": 0.9,
        "deep-learning": 0.9,
    }
    assert _scores(model, "an lm for code") == {
        "language-modeling": 1.0,
        "natural-language-processing": 0.9,
    }
    assert _scores(model, "classic cv tricks") == {"computer-vision": 1.0}


@pytest.mark.parametrize(
    "text",
    [
        "object detection with yolo",
        "object-detection with yolo",
        "objectdetection with yolo",
        "a survey of object detections",
    ],
)
def test_rules_match_hyphen_space_and_plural_variants(toy_taxonomy, text):
    model = _fit_on("rules", toy_taxonomy, TOY_LABELS)
    assert _scores(model, text) == {"object-detection": 1.0, "computer-vision": 0.9}


@pytest.mark.parametrize("text", ["recv and nlpx", "subert", "dlx"])
def test_rules_respect_word_boundaries(toy_taxonomy, text):
    model = _fit_on("rules", toy_taxonomy, TOY_LABELS)
    assert _scores(model, text) == {}


def test_rules_direct_match_beats_parent_score(toy_taxonomy):
    model = _fit_on("rules", toy_taxonomy, TOY_LABELS, direct=0.8, parent=0.3)
    assert _scores(model, "bert and transformers") == {
        "bert": 0.8,
        "transformers": 0.8,
        "deep-learning": 0.3,
    }
    assert _scores(model, "transformers and bert")["transformers"] == 0.8


def test_rules_score_only_labels_in_the_space(toy_taxonomy):
    model = _fit_on("rules", toy_taxonomy, ("deep-learning",))
    assert _scores(model, "bert") == {"deep-learning": 0.9}


def test_rules_with_a_vocabulary_without_terms_match_nothing():
    from tagwise.taxonomy import Taxonomy

    for tax in (Taxonomy.from_records([]), Taxonomy.from_records([{"tag": "r"}])):
        model = _fit_on("rules", tax, ("r",))
        np.testing.assert_array_equal(model.predict_proba(["r and python"]), [[0.0]])


def test_prior_gives_every_row_the_training_frequencies(tiny_prepared, fit_context):
    model = create_model("prior").fit(list(tiny_prepared.texts), tiny_prepared.Y, fit_context)
    scores = model.predict_proba(QUERIES)
    expected = tiny_prepared.Y.mean(axis=0)
    for row in scores:
        np.testing.assert_allclose(row, expected)
    np.testing.assert_allclose(
        expected * len(tiny_prepared.texts), tiny_prepared.labels.counts, rtol=1e-9
    )


def test_random_depends_on_text_and_seed_only(tiny_prepared, fit_context):
    texts, Y = list(tiny_prepared.texts), tiny_prepared.Y
    a = create_model("random", {"seed": 1}).fit(texts, Y, fit_context)
    b = create_model("random", {"seed": 2}).fit(texts, Y, fit_context)
    same = a.predict_proba(["x", "y", "x"])
    np.testing.assert_array_equal(same[0], same[2])
    assert not np.array_equal(same[0], same[1])
    assert not np.array_equal(a.predict_proba(["x"]), b.predict_proba(["x"]))


def test_tfidf_linear_learns_a_separable_problem(toy_taxonomy):
    fruit = [f"apple banana cherry smoothie recipe number {i}" for i in range(10)]
    cars = [f"car engine gearbox wheel repair number {i}" for i in range(10)]
    texts = fruit + cars
    Y = np.array([[1, 0]] * 10 + [[0, 1]] * 10, dtype=np.int8)
    space = LabelSpace(labels=("fruit", "cars"), counts=(10, 10))
    model = create_model("tfidf-linear", {"min_df": 1}).fit(
        texts, Y, FitContext(labels=space, taxonomy=toy_taxonomy)
    )
    scores = model.predict_proba(["banana and apple", "a broken gearbox and engine"])
    assert scores[0, 0] > 0.5 > scores[0, 1]
    assert scores[1, 1] > 0.5 > scores[1, 0]
    train = model.predict_proba(texts)
    np.testing.assert_array_equal(train.argmax(axis=1), Y.argmax(axis=1))


def test_tfidf_linear_constant_label_columns(toy_taxonomy):
    texts = ["alpha beta", "beta gamma", "gamma delta"]
    Y = np.array([[1, 0], [1, 0], [1, 0]], dtype=np.int8)  # everywhere / nowhere
    space = LabelSpace(labels=("all", "none"), counts=(3, 0))
    model = create_model("tfidf-linear", {"min_df": 1}).fit(
        texts, Y, FitContext(labels=space, taxonomy=toy_taxonomy)
    )
    scores = model.predict_proba(["alpha", "unseen words"])
    assert np.all(scores[:, 0] > 0.99) and np.all(scores[:, 1] < 0.01)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"word_ngrams": [2, 1]}, "word_ngrams"),
        ({"char_ngrams": [0, 3]}, "char_ngrams"),
        ({"C": 0}, "C"),
        ({"class_weight": "weird"}, "class_weight"),
    ],
)
def test_tfidf_linear_bad_values_raise_at_fit(tiny_prepared, fit_context, params, field):
    model = create_model("tfidf-linear", params)  # stored, not validated yet
    with pytest.raises(ConfigError, match=field):
        model.fit(list(tiny_prepared.texts), tiny_prepared.Y, fit_context)


def test_unknown_backend_lists_the_registered_ones():
    with pytest.raises(ConfigError) as info:
        backend_class("no-such-model")
    for name in BACKENDS:
        assert name in str(info.value)
