"""The real MiniLM encoder on a handful of texts (skipped without the embeddings extra)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from tagwise.errors import IntegrityError
from tagwise.models.base import FitContext
from tagwise.models.embedding import Encoder, check_encoder_available
from tagwise.models.registry import create_model
from tagwise.models.zeroshot import TailScorer
from tagwise.taxonomy import LabelSpace, Taxonomy

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


def test_a_model_with_embeddings_gets_a_minilm_long_tail_sharing_its_cache(
    tiny_prepared, taxonomy, tmp_path
):
    """``policy.long_tail.encoder: auto`` reuses the model's MiniLM; a served newer
    vocabulary adds a tag zero-shot, and the bundle round trip keeps the answer."""
    from tagwise.bundle import ModelBundle
    from tagwise.config import load_settings
    from tagwise.models.base import FitContext
    from tagwise.models.registry import create_model
    from tagwise.pipeline import fit_tail
    from tagwise.policy import DecisionPolicy
    from tagwise.split import iterative_split

    split = iterative_split(tiny_prepared.Y, val_size=0.15, test_size=0.15, seed=42)
    X, Y = tiny_prepared.subset(split.train)
    context = FitContext(labels=tiny_prepared.labels, taxonomy=taxonomy)
    model = create_model("embedding", {}).fit(X, Y, context)
    bundle = ModelBundle(model=model, policy=DecisionPolicy(threshold=0.3), taxonomy=taxonomy)
    bundle.tail = fit_tail(bundle, tiny_prepared, split, taxonomy, load_settings())
    assert bundle.tail.params["encoder"] == "all-MiniLM-L6-v2"
    assert bundle.tail.encoder is model.encoder  # one encoder, one embedding cache

    snn = {"tag": "spiking-neural-networks", "aliases": ["snn"], "parents": ["deep-learning"]}
    served = bundle.with_vocabulary(Taxonomy.from_records([*taxonomy.to_records(), snn]))
    project = [("Spiking neural networks", "Training an SNN on neuromorphic hardware.")]
    tail = served.suggest_all(project).long_tail[0]
    assert tail and tail[0].tag == "spiking-neural-networks" and tail[0].source == "zero-shot"

    loaded = ModelBundle.load(bundle.save(tmp_path / "model"))
    assert loaded.suggest_all(project).long_tail == bundle.suggest_all(project).long_tail


@pytest.fixture(scope="module")
def int8() -> Encoder:
    return Encoder(name="all-MiniLM-L6-v2", quantization="int8")


def test_int8_embeddings_are_close_to_the_float_ones(encoder, int8):
    from tagwise.models.quantize import Int8Linear

    exact, fast = encoder.encode(TEXTS), int8.encode(TEXTS)
    np.testing.assert_allclose(np.linalg.norm(fast, axis=1), 1.0, rtol=1e-5)
    assert np.min(np.sum(exact * fast, axis=1)) > 0.98
    layers = [m for m in int8._load().modules() if isinstance(m, Int8Linear)]
    assert len(layers) == 37  # 6 blocks × 6 + the pooler: every Linear of the transformer
    assert int8.describe()["quantization"] == "int8" and int8.describe()["int8_kernels"]


def test_int8_embeddings_do_not_depend_on_the_batch(int8):
    batch = int8.encode(TEXTS, threads=2)
    fresh = Encoder(name="all-MiniLM-L6-v2", quantization="int8")
    single = np.vstack([fresh.encode([t]) for t in TEXTS])
    np.testing.assert_array_equal(batch, single)


def test_float_and_int8_disk_caches_never_mix(tmp_path, encoder, int8):
    float_cached = Encoder(name="all-MiniLM-L6-v2", cache_dir=tmp_path)
    int8_cached = Encoder(name="all-MiniLM-L6-v2", quantization="int8", cache_dir=tmp_path)
    float_cached._model, int8_cached._model = encoder._load(), int8._load()  # no reload
    a, b = float_cached.encode(TEXTS[:1]), int8_cached.encode(TEXTS[:1])
    folders = sorted(p.parent.parent.name for p in tmp_path.rglob("*.npy"))
    assert folders == ["int8-len256", "none-len256"]
    np.testing.assert_array_equal(a, encoder.encode(TEXTS[:1]))
    np.testing.assert_array_equal(b, int8.encode(TEXTS[:1]))
    assert not np.array_equal(a, b)


def test_an_int8_model_records_its_variant_and_refuses_float_embeddings(tmp_path, toy_taxonomy):
    context = FitContext(
        labels=LabelSpace(labels=("nlp", "vision"), counts=(5, 5)), taxonomy=toy_taxonomy
    )
    Y = np.array([[1, 0], [0, 1], [0, 0], [0, 0], [0, 0]] * 2, dtype=np.int8)
    model = create_model("knn", {"quantization": "int8", "k": 3}).fit(TEXTS, Y, context)
    model.save(tmp_path)
    ref = json.loads((tmp_path / "encoder.json").read_text())
    assert ref["quantization"] == "int8"
    loaded = type(model).load(tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))
    (tmp_path / "encoder.json").write_text(json.dumps({**ref, "int8_kernels": "qnnpack/NEON"}))
    with pytest.warns(UserWarning, match="int8 embeddings were computed with qnnpack/NEON"):
        type(model).load(tmp_path)
    (tmp_path / "encoder.json").write_text(json.dumps({**ref, "quantization": "none"}))
    with warnings.catch_warnings(), pytest.raises(IntegrityError, match="quantization='none'"):
        type(model).load(tmp_path)
