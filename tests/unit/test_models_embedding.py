"""Encoder wrapper, embedding linear head and kNN — with the tiny ``hashing`` encoder."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tagwise.errors import ConfigError, IntegrityError
from tagwise.models.base import FitContext
from tagwise.models.embedding import Encoder, get_encoder, text_key
from tagwise.models.knn import knn_votes
from tagwise.models.registry import create_model
from tagwise.taxonomy import LabelSpace

FRUIT = [f"apple banana cherry smoothie recipe number {i}" for i in range(10)]
CARS = [f"car engine gearbox wheel repair number {i}" for i in range(10)]
TEXTS = FRUIT + CARS
Y = np.array([[1, 0]] * 10 + [[0, 1]] * 10, dtype=np.int8)
SPACE = LabelSpace(labels=("fruit", "cars"), counts=(10, 10))
HASH = {"encoder": "hashing"}


@pytest.fixture
def context(toy_taxonomy) -> FitContext:
    return FitContext(labels=SPACE, taxonomy=toy_taxonomy)


def test_hashing_encoder_is_deterministic_and_unit_norm():
    enc = Encoder(name="hashing")
    a = enc.encode(["hello world", "", "hello world"])
    assert a.shape == (3, enc.dim) and a.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(a[0]), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(a[0], a[2])
    np.testing.assert_array_equal(a[1], 0.0)  # nothing to hash
    np.testing.assert_array_equal(Encoder(name="hashing").encode(["hello world"])[0], a[0])


def test_encoder_memory_cache_encodes_each_text_once(monkeypatch):
    enc = Encoder(name="hashing")
    calls: list[list[str]] = []
    real = enc._encode

    def spy(texts, threads, batch_size):
        calls.append(list(texts))
        return real(texts, threads, batch_size)

    monkeypatch.setattr(enc, "_encode", spy)
    enc.encode(["a b", "c d", "a b"])
    enc.encode(["c d", "e f"])
    assert calls == [["a b", "c d"], ["e f"]]


def test_encoder_memory_cache_is_bounded():
    enc = Encoder(name="hashing", max_cached=2)
    enc.encode(["one", "two", "three"])
    assert len(enc._memory) == 2 and text_key("one") not in enc._memory


def test_encoder_disk_cache_survives_a_new_process(tmp_path, monkeypatch):
    first = Encoder(name="hashing", cache_dir=tmp_path)
    vecs = first.encode(["cached text"])
    files = list((tmp_path / "hashing").rglob("*.npy"))
    assert [f.stem for f in files] == [text_key("cached text")]
    second = Encoder(name="hashing", cache_dir=tmp_path)
    monkeypatch.setattr(second, "_encode", lambda *a: pytest.fail("should read the disk cache"))
    np.testing.assert_array_equal(second.encode(["cached text"]), vecs)


def test_get_encoder_is_shared_per_process():
    assert get_encoder("hashing") is get_encoder("hashing")


def test_unknown_encoder_lists_the_valid_ones(context):
    with pytest.raises(ConfigError, match="all-MiniLM-L6-v2"):
        create_model("embedding", {"encoder": "nope"}).fit(TEXTS, Y, context)
    with pytest.raises(ConfigError, match="hashing"):
        Encoder(name="nope")


@pytest.mark.parametrize(
    ("backend", "params", "field"),
    [
        ("embedding", {"C": 0}, "C"),
        ("embedding", {"class_weight": "odd"}, "class_weight"),
        ("embedding", {"threads": 0}, "threads"),
        ("knn", {"k": 0}, "k"),
        ("knn", {"temperature": 0}, "temperature"),
    ],
)
def test_bad_values_raise_at_fit(context, backend, params, field):
    model = create_model(backend, {**HASH, **params})
    with pytest.raises(ConfigError, match=field):
        model.fit(TEXTS, Y, context)


@pytest.mark.parametrize("backend", ["embedding", "knn"])
def test_learns_a_separable_problem_and_round_trips(backend, context, tmp_path):
    model = create_model(backend, {**HASH, "k": 5} if backend == "knn" else HASH)
    model.fit(TEXTS, Y, context)
    scores = model.predict_proba(["banana apple smoothie", "gearbox and engine repair"])
    assert scores[0, 0] > 0.5 > scores[0, 1]
    assert scores[1, 1] > 0.5 > scores[1, 0]
    model.save(tmp_path)
    assert json.loads((tmp_path / "encoder.json").read_text())["name"] == "hashing"
    loaded = type(model).load(tmp_path)
    np.testing.assert_array_equal(loaded.predict_proba(TEXTS), model.predict_proba(TEXTS))


def test_loading_with_another_encoder_is_refused(context, tmp_path):
    model = create_model("embedding", HASH).fit(TEXTS, Y, context)
    model.save(tmp_path)
    ref = json.loads((tmp_path / "encoder.json").read_text())
    (tmp_path / "encoder.json").write_text(json.dumps({**ref, "dim": 999}))
    with pytest.raises(IntegrityError, match="dim"):
        type(model).load(tmp_path)


def test_knn_votes_are_similarity_weighted_shares():
    keys = np.array([[1.0, 0.0], [0.0, 1.0], [0.6, 0.8]], dtype=np.float32)
    labels = np.array([[1, 0], [0, 1], [1, 1]], dtype=np.int8)
    q = np.array([[1.0, 0.0]], dtype=np.float32)
    one = knn_votes(q, keys, labels, k=1, temperature=0.1)
    np.testing.assert_allclose(one, [[1.0, 0.0]])
    two = knn_votes(q, keys, labels, k=2, temperature=0.1)  # neighbours: key 0 (1.0), key 2 (0.6)
    w = np.exp(np.array([1.0, 0.6]) / 0.1)
    w /= w.sum()
    np.testing.assert_allclose(two, [[1.0, w[1]]], rtol=1e-5)
    assert knn_votes(q, keys[:0], labels[:0], k=3, temperature=0.1).shape == (1, 2)
    # k larger than the keys uses them all
    wide = knn_votes(q, keys, labels, k=10, temperature=1e3)
    np.testing.assert_allclose(wide, [[2 / 3, 2 / 3]], rtol=1e-3)


def test_quantization_is_validated(context):
    with pytest.raises(ConfigError, match=r"quantization.*\['none', 'int8'\]"):
        Encoder(name="hashing", quantization="fp8")
    with pytest.raises(ConfigError, match="not a neural network"):
        create_model("embedding", {**HASH, "quantization": "int8"}).fit(TEXTS, Y, context)


def test_disk_cache_is_kept_per_variant(tmp_path, monkeypatch):
    first = Encoder(name="hashing", cache_dir=tmp_path)
    first.encode(["cached text"])
    assert first.variant == "none-len256"
    assert [p.relative_to(tmp_path).parts[:2] for p in tmp_path.rglob("*.npy")] == [
        ("hashing", "none-len256")
    ]
    other = Encoder(name="hashing", max_seq_length=64, cache_dir=tmp_path)
    calls: list[list[str]] = []
    monkeypatch.setattr(
        other, "_encode", lambda texts, *a: calls.append(texts) or first.encode(texts)
    )
    other.encode(["cached text"])
    assert calls == [["cached text"]]  # another variant's vectors are never read


def test_encoder_reference_records_the_variant_and_is_checked(context, tmp_path):
    model = create_model("embedding", HASH).fit(TEXTS, Y, context)
    model.save(tmp_path)
    ref = json.loads((tmp_path / "encoder.json").read_text())
    assert (ref["quantization"], ref["max_seq_length"]) == ("none", 256)
    for key, value in (("quantization", "int8"), ("max_seq_length", 128)):
        (tmp_path / "encoder.json").write_text(json.dumps({**ref, key: value}))
        with pytest.raises(IntegrityError, match=key):
            type(model).load(tmp_path)
    # a reference written before quantization existed is float
    old = {k: v for k, v in ref.items() if k != "quantization"}
    (tmp_path / "encoder.json").write_text(json.dumps(old))
    np.testing.assert_array_equal(
        type(model).load(tmp_path).predict_proba(TEXTS[:2]), model.predict_proba(TEXTS[:2])
    )
