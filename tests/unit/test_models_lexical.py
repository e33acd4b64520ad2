"""vocab-match: the fast n-gram look-up that names tags (and ancestors) in a text."""

from __future__ import annotations

import numpy as np
import pytest

from tagwise.models.base import FitContext
from tagwise.models.lexical import tokens
from tagwise.models.registry import create_model
from tagwise.taxonomy import LabelSpace

LABELS = (
    "bert",
    "transformers",
    "deep-learning",
    "language-modeling",
    "natural-language-processing",
    "computer-vision",
    "object-detection",
)


def _model(taxonomy, labels=LABELS, **params):
    space = LabelSpace(labels=labels, counts=tuple(1 for _ in labels))
    Y = np.eye(len(labels), dtype=np.int8)
    return create_model("vocab-match", params).fit(
        [f"doc {i}" for i in range(len(labels))], Y, FitContext(labels=space, taxonomy=taxonomy)
    )


def _scores(model, text):
    row = model.predict_proba([text])[0]
    return {t: float(s) for t, s in zip(model.labels_.labels, row, strict=True) if s > 0}


def test_tokens():
    assert tokens("object-detection with c++ and node.js.") == [
        "object",
        "detection",
        "with",
        "c++",
        "and",
        "node.js",
    ]


def test_aliases_and_parents(toy_taxonomy):
    model = _model(toy_taxonomy)
    assert _scores(model, "we fine-tune bert base on reviews") == {
        "bert": 1.0,
        "transformers": 0.9,
        "deep-learning": 0.9,
    }
    assert _scores(model, "an lm for code") == {
        "language-modeling": 1.0,
        "natural-language-processing": 0.9,
    }


@pytest.mark.parametrize(
    "text",
    [
        "object detection with yolo",
        "object-detection with yolo",
        "objectdetection with yolo",
        "a survey of object detections",
    ],
)
def test_hyphen_space_joined_and_plural(toy_taxonomy, text):
    assert _scores(_model(toy_taxonomy), text) == {"object-detection": 1.0, "computer-vision": 0.9}


@pytest.mark.parametrize("text", ["recv and nlpx", "subert", "dlx", ""])
def test_word_boundaries(toy_taxonomy, text):
    assert _scores(_model(toy_taxonomy), text) == {}


def test_agrees_with_the_rules_baseline_on_the_tiny_corpus(tiny_prepared, taxonomy):
    ctx = FitContext(labels=tiny_prepared.labels, taxonomy=taxonomy)
    texts, Y = list(tiny_prepared.texts), tiny_prepared.Y
    fast = create_model("vocab-match").fit(texts, Y, ctx).predict_proba(texts)
    slow = create_model("rules").fit(texts, Y, ctx).predict_proba(texts)
    assert (fast == slow).mean() > 0.98
