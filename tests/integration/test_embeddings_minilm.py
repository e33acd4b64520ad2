"""The real MiniLM encoder on a handful of texts (skipped without the embeddings extra)."""

from __future__ import annotations

import numpy as np
import pytest

from tagwise.models.embedding import Encoder, check_encoder_available
from tagwise.models.zeroshot import TailScorer
from tagwise.taxonomy import Taxonomy

try:
    check_encoder_available("all-MiniLM-L6-v2")
except Exception as exc:  # NotSupportedError: the extra is not installed
    pytest.skip(str(exc), allow_module_level=True)

TEXTS = [
    "fine-tuning bert for sentiment analysis of movie reviews",
    "yolo real-time object detection on a webcam",
    "deep q-learning agent that plays atari games",
    "graph neural networks for molecule property prediction",
    "a tutorial on gradient boosting with xgboost",
    "speech recognition with wav2vec 2.0",
    "gans that generate anime faces",
    "monitoring machine learning models in production",
    "image segmentation of satellite photos with u-net",
    "explaining model predictions with shap values",
]


@pytest.fixture(scope="module")
def encoder() -> Encoder:
    return Encoder(name="all-MiniLM-L6-v2")


def test_embeddings_are_unit_vectors_and_batch_independent(encoder):
    batch = encoder.encode(TEXTS, threads=1)
    assert batch.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, rtol=1e-5)
    fresh = Encoder(name="all-MiniLM-L6-v2")
    single = np.vstack([fresh.encode([t], threads=1) for t in TEXTS])
    np.testing.assert_allclose(batch, single, atol=1e-5)


def test_similar_texts_are_closer(encoder):
    a, b, c = encoder.encode(
        [
            "object detection with yolo",
            "detecting objects in images using yolov5",
            "reinforcement learning for robotics",
        ]
    )
    assert a @ b > a @ c + 0.2


def test_a_new_vocabulary_tag_without_examples_is_suggested(taxonomy):
    records = [*taxonomy.to_records(), {"tag": "protein-folding", "aliases": ["alphafold"]}]
    vocab = Taxonomy.from_records(records)
    head = [t for t in vocab.tags if t != "protein-folding"][:40]
    scorer = TailScorer().fit(vocab, exclude=head)
    suggested = scorer.suggest(
        ["predicting 3d protein structures from amino acid sequences, like alphafold"], k=3
    )[0]
    assert suggested[0].tag == "protein-folding"
    assert suggested[0].source == "zero-shot"
    assert suggested[0].score <= 0.5  # clearly marked as lower confidence
