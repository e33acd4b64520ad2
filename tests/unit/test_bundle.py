"""Model bundles: atomic save, verified load, identical predictions, refused tampering."""

from __future__ import annotations

import hashlib
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from tagwise import __version__
from tagwise.bundle import MANIFEST, ModelBundle
from tagwise.errors import IntegrityError, UnknownModelError
from tagwise.models.base import FitContext
from tagwise.models.registry import create_model
from tagwise.policy import DecisionPolicy, label_parents

PROJECTS = [
    ("Fine-tuning BERT", "Hugging Face transformers for sentiment analysis of reviews."),
    ("YOLO on a webcam", "Real-time object detection with OpenCV."),
    ("DQN for Atari", "Deep Q-learning agent with experience replay."),
    ("", ""),
]


@pytest.fixture(scope="module")
def bundle(tiny_prepared, taxonomy) -> ModelBundle:
    context = FitContext(labels=tiny_prepared.labels, taxonomy=taxonomy)
    model = create_model("tfidf-linear", {"min_df": 1}).fit(
        list(tiny_prepared.texts), tiny_prepared.Y, context
    )
    policy = DecisionPolicy(
        threshold=0.3, top_k=3, parents=label_parents(tiny_prepared.labels, taxonomy)
    )
    return ModelBundle(
        model=model,
        policy=policy,
        taxonomy=taxonomy,
        info={"config_hash": "abc123", "run_id": "r1"},
    )


@pytest.fixture
def saved(bundle, tmp_path) -> Path:
    return bundle.save(tmp_path / "model")


def _rewrite_manifest_checksum(directory: Path, name: str) -> None:
    """What an attacker who can write the directory would do: make the checksum match."""
    manifest = json.loads((directory / MANIFEST).read_text())
    manifest["files"][name] = hashlib.sha256((directory / name).read_bytes()).hexdigest()
    (directory / MANIFEST).write_text(json.dumps(manifest))


def test_round_trip_gives_identical_predictions(bundle, saved):
    loaded = ModelBundle.load(saved)
    texts = [*bundle.model.labels_.labels, "a project about nothing", ""]
    np.testing.assert_array_equal(loaded.scores(texts), bundle.scores(texts))
    assert loaded.suggest(PROJECTS) == bundle.suggest(PROJECTS)
    assert loaded.suggest(PROJECTS, k=1, min_score=0.5) == bundle.suggest(
        PROJECTS, k=1, min_score=0.5
    )
    assert loaded.policy == bundle.policy
    assert loaded.labels == bundle.labels
    assert loaded.taxonomy.tags == bundle.taxonomy.tags


def test_manifest_records_provenance_and_every_file(bundle, saved):
    manifest = json.loads((saved / MANIFEST).read_text())
    assert manifest["tagwise_version"] == __version__
    assert manifest["backend"] == "tfidf-linear"
    assert manifest["labels"] == list(bundle.labels.labels)
    assert manifest["config_hash"] == "abc123"
    files = {str(p.relative_to(saved)) for p in saved.rglob("*") if p.is_file()} - {MANIFEST}
    assert set(manifest["files"]) == files
    assert {"policy.json", "taxonomy.json", "model/params.json"} <= files
    loaded = ModelBundle.load(saved)
    assert loaded.info["run_id"] == "r1"
    assert "files" not in loaded.info


def test_suggestions_are_best_first_and_follow_the_policy(bundle):
    rows = bundle.suggest(PROJECTS)
    assert len(rows) == len(PROJECTS)
    for row in rows:
        assert len(row) <= 3
        scores = [s.score for s in row]
        assert scores == sorted(scores, reverse=True)
        assert all(s >= 0.3 for s in scores)
        assert all(s.tag in bundle.labels.labels for s in row)
    assert bundle.suggest([]) == []


def test_save_replaces_an_existing_bundle_atomically(bundle, tmp_path):
    target = tmp_path / "model"
    bundle.save(target)
    (target / "stale.txt").write_text("old")
    bundle.save(target)
    assert not (target / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["model"]  # no temporary leftovers
    ModelBundle.load(target)


def test_tampered_file_is_refused(saved):
    coef = saved / "model" / "coef.npy"
    data = bytearray(coef.read_bytes())
    data[-1] ^= 0xFF
    coef.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"coef\.npy does not match its checksum"):
        ModelBundle.load(saved)


def test_tampered_policy_is_refused(saved):
    policy = json.loads((saved / "policy.json").read_text())
    policy["threshold"] = 0.0
    (saved / "policy.json").write_text(json.dumps(policy))
    with pytest.raises(IntegrityError, match=r"policy\.json"):
        ModelBundle.load(saved)


def test_extra_file_is_refused(saved):
    (saved / "model" / "evil.py").write_text("import os")
    with pytest.raises(IntegrityError, match="not in the manifest"):
        ModelBundle.load(saved)


def test_missing_file_is_refused(saved):
    (saved / "taxonomy.json").unlink()
    with pytest.raises(IntegrityError, match=r"taxonomy\.json is missing"):
        ModelBundle.load(saved)


@pytest.mark.parametrize("make", ["missing", "empty", "file"])
def test_not_a_model_directory(tmp_path, make):
    target = tmp_path / "thing"
    if make == "empty":
        target.mkdir()
    elif make == "file":
        target.write_text("hello")
    with pytest.raises(UnknownModelError, match="not a tagwise model directory"):
        ModelBundle.load(target)


def test_other_format_version_is_refused(saved):
    manifest = json.loads((saved / MANIFEST).read_text())
    manifest["format_version"] = 999
    (saved / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(IntegrityError, match="format 999"):
        ModelBundle.load(saved)


def test_other_tagwise_version_warns_but_loads(saved):
    manifest = json.loads((saved / MANIFEST).read_text())
    manifest["tagwise_version"] = "0.0.0-old"
    (saved / MANIFEST).write_text(json.dumps(manifest))
    with pytest.warns(UserWarning, match="0.0.0-old"):
        ModelBundle.load(saved)


def test_current_version_loads_without_warning(saved):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the load
        loaded = ModelBundle.load(saved)
    manifest = json.loads((saved / MANIFEST).read_text())
    assert list(loaded.labels.labels) == manifest["labels"]


def test_vectorizer_with_an_unsafe_parameter_is_refused(saved):
    """A callable-bearing parameter smuggled into vectorizer.json with a fixed checksum."""
    name = "model/vectorizer.json"
    parts = json.loads((saved / name).read_text())
    parts[0]["params"]["tokenizer"] = "os.system"
    parts[0]["params"]["preprocessor"] = "builtins.eval"
    (saved / name).write_text(json.dumps(parts))
    _rewrite_manifest_checksum(saved, name)
    with pytest.raises(IntegrityError, match="tokenizer"):
        ModelBundle.load(saved)


@pytest.mark.parametrize("name", ["model/coef.npy", "model/idf_word.npy"])
def test_pickled_array_is_refused(saved, name):
    """An object array needs pickle to load: refused even with a matching checksum."""
    np.save(saved / name, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    _rewrite_manifest_checksum(saved, name)
    with pytest.raises(IntegrityError):
        ModelBundle.load(saved)


def test_unknown_backend_in_manifest_is_refused(saved):
    from tagwise.errors import ConfigError

    manifest = json.loads((saved / MANIFEST).read_text())
    manifest["backend"] = "no-such-backend"
    (saved / MANIFEST).write_text(json.dumps(manifest))
    with pytest.raises(ConfigError, match="no-such-backend"):
        ModelBundle.load(saved)


# ---- the long-tail scorer inside a bundle ---------------------------------------------

TAIL_PROJECTS = [
    ("Quantum machine learning", "Variational quantum circuits for quantum machine learning."),
    *PROJECTS,
]


@pytest.fixture(scope="module")
def tailed(bundle, tiny_prepared, taxonomy) -> ModelBundle:
    from dataclasses import replace

    from tagwise.models.zeroshot import TailScorer

    head = set(tiny_prepared.labels.labels)
    tail = TailScorer(encoder="hashing").fit(
        taxonomy,
        head,
        list(tiny_prepared.texts),
        [s - head for s in tiny_prepared.tag_sets],
    )
    return replace(bundle, tail=tail)


def test_tail_round_trip_gives_identical_long_tail(tailed, tmp_path):
    saved = tailed.save(tmp_path / "model")
    manifest = json.loads((saved / MANIFEST).read_text())
    tail_files = {"tail/tail.json", "tail/encoder.json", "tail/prototypes.npy", "tail/shots.npy"}
    assert tail_files <= set(manifest["files"])
    loaded = ModelBundle.load(saved)
    assert loaded.tail is not None and loaded.tail.tags_ == tailed.tail.tags_
    assert loaded.tail.floors_ == tailed.tail.floors_
    first, again = tailed.suggest_all(TAIL_PROJECTS), loaded.suggest_all(TAIL_PROJECTS)
    assert again.tags == first.tags and again.long_tail == first.long_tail
    assert "quantum-machine-learning" in {s.tag for s in first.long_tail[0]}


def test_long_tail_is_low_confidence_and_never_a_head_tag(tailed):
    answer = tailed.suggest_all(TAIL_PROJECTS)
    assert answer.tags == tailed.suggest(TAIL_PROJECTS)  # the head tags are unchanged
    cap = tailed.tail.params["max_confidence"]
    for head, tail in zip(answer.tags, answer.long_tail, strict=True):
        assert len(tail) <= tailed.tail.params["k"]
        assert {s.tag for s in tail}.isdisjoint({s.tag for s in head})
        assert {s.tag for s in tail}.isdisjoint(tailed.labels.labels)
        assert all(0 < s.score <= cap and s.source in ("zero-shot", "few-shot") for s in tail)
    assert tailed.suggest_all(TAIL_PROJECTS, long_tail=False).long_tail == [[]] * len(TAIL_PROJECTS)
    high = tailed.suggest_all(TAIL_PROJECTS, min_score=0.6)
    assert high.long_tail == [[]] * len(TAIL_PROJECTS)  # min_score applies to both lists


def test_head_tags_are_excluded_from_the_long_tail(tailed):
    """Even a tail scorer that knows a head tag (a vocabulary edit) never repeats it."""
    from dataclasses import replace

    from tagwise.models.zeroshot import TailScorer

    everything = TailScorer(encoder="hashing", min_similarity=-1.0, k=50)
    everything.fit(tailed.taxonomy, exclude=[])
    answer = replace(tailed, tail=everything).suggest_all(PROJECTS)
    assert any(answer.tags)
    for head, tail in zip(answer.tags, answer.long_tail, strict=True):
        assert {s.tag for s in tail}.isdisjoint({s.tag for s in head})
        assert len(tail) == 50  # skipped, not cut: the next tags fill the list


def test_a_bundle_without_a_tail_loads_and_suggests_no_long_tail(bundle, saved):
    assert not (saved / "tail").exists()
    loaded = ModelBundle.load(saved)
    assert loaded.tail is None
    answer = loaded.suggest_all(PROJECTS)
    assert answer.long_tail == [[] for _ in PROJECTS]
    assert answer.tags == bundle.suggest(PROJECTS)


def test_tampered_tail_is_refused(tailed, tmp_path):
    saved = tailed.save(tmp_path / "model")
    proto = saved / "tail" / "prototypes.npy"
    data = bytearray(proto.read_bytes())
    data[-1] ^= 0xFF
    proto.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=r"tail/prototypes\.npy does not match"):
        ModelBundle.load(saved)


def test_a_newer_vocabulary_adds_tags_zero_shot(tailed, taxonomy):
    from tagwise.taxonomy import Taxonomy

    snn = {
        "tag": "spiking-neural-networks",
        "aliases": ["snn"],
        "description": "Neural networks of spiking neurons on neuromorphic hardware",
    }
    served = tailed.with_vocabulary(Taxonomy.from_records([*taxonomy.to_records(), snn]))
    assert "spiking-neural-networks" not in tailed.tail.tags_  # the original is unchanged
    assert tailed.taxonomy is taxonomy
    assert served.taxonomy.canonical("snn") == "spiking-neural-networks"
    text = [("Spiking neural networks", "An SNN of spiking neurons for neuromorphic chips.")]
    best = served.suggest_all(text).long_tail[0][0]
    assert (best.tag, best.source) == ("spiking-neural-networks", "zero-shot")
    assert served.suggest_all(PROJECTS).tags == tailed.suggest_all(PROJECTS).tags


def test_use_threads_reaches_every_encoder_and_keeps_the_suggestions(tailed, bundle):
    before = tailed.suggest_all(TAIL_PROJECTS)
    assert tailed.tail.params["threads"] == 1
    assert tailed.use_threads(2) == 1  # the tail's encoder; TF-IDF has none
    assert tailed.tail.params["threads"] == 2
    after = tailed.suggest_all(TAIL_PROJECTS)
    assert after.tags == before.tags and after.long_tail == before.long_tail
    assert bundle.use_threads(2) == 0
    with pytest.raises(ValueError, match="threads"):
        bundle.use_threads(0)
    tailed.use_threads(1)


def test_use_threads_walks_ensemble_members(tiny_prepared, taxonomy):
    context = FitContext(labels=tiny_prepared.labels, taxonomy=taxonomy)
    params = {
        "members": [
            {"backend": "tfidf-linear", "params": {"min_df": 1}},
            {"backend": "embedding", "params": {"encoder": "hashing"}},
            {"backend": "knn", "params": {"encoder": "hashing", "k": 3}},
        ],
        "combiner": "mean",
        "cv_folds": 2,
    }
    model = create_model("ensemble", params).fit(
        list(tiny_prepared.texts), tiny_prepared.Y, context
    )
    policy = DecisionPolicy(threshold=0.3, top_k=3)
    ensemble = ModelBundle(model=model, policy=policy, taxonomy=taxonomy)
    assert ensemble.use_threads(2) == 2
    assert [m.params.get("threads") for m in model.members_] == [None, 2, 2]


def test_save_refuses_a_directory_that_is_not_a_bundle(bundle, tmp_path):
    from tagwise.errors import ConfigError

    precious = tmp_path / "precious"
    (precious / "sub").mkdir(parents=True)
    (precious / "notes.txt").write_text("important")
    with pytest.raises(ConfigError, match="holds no tagwise model"):
        bundle.save(precious)
    assert (precious / "notes.txt").read_text() == "important" and (precious / "sub").is_dir()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious"]  # nothing half-written
    empty = tmp_path / "empty"
    empty.mkdir()
    bundle.save(empty)
    assert (empty / "manifest.json").is_file()
    assert (empty.stat().st_mode & 0o777) == 0o755  # readable by others, like any export
