"""Long-tail tags: zero-shot prototypes from the vocabulary, few-shot from examples."""

from __future__ import annotations

import numpy as np
import pytest

from tagwise.errors import ConfigError, NotTrainedError
from tagwise.models.zeroshot import TailScorer, tag_description, tail_recall_at_k
from tagwise.taxonomy import Taxonomy

HASH = {"encoder": "hashing", "min_similarity": 0.0}


@pytest.fixture(scope="module")
def vocab() -> Taxonomy:
    return Taxonomy.from_records(
        [
            {"tag": "deep-learning"},
            {"tag": "protein-folding", "aliases": ["alphafold"], "parents": ["biology"]},
            {"tag": "biology"},
            {"tag": "speech-recognition", "aliases": ["asr"]},
        ]
    )


def test_description_uses_name_aliases_and_parents(vocab):
    text = tag_description(vocab, "protein-folding")
    assert text == "protein folding. also: alphafold. a kind of biology"


def test_a_tag_without_examples_is_suggested_for_a_matching_text(vocab):
    scorer = TailScorer(**HASH).fit(vocab, exclude=["deep-learning"])
    assert "deep-learning" not in scorer.tags_
    best = scorer.suggest(["predicting protein folding with alphafold"], k=1)[0][0]
    assert best.tag == "protein-folding"
    assert best.source == "zero-shot"
    assert 0 < best.score <= scorer.params["max_confidence"]


def test_confidence_is_capped_and_monotone():
    scorer = TailScorer(encoder="hashing", max_confidence=0.4)
    conf = scorer.confidence(np.array([-1.0, 0.2, 0.5, 1.0]))
    assert np.all(np.diff(conf) > 0) and conf.max() <= 0.4


def test_few_shot_examples_are_marked_and_move_the_prototype(vocab):
    zero = TailScorer(**HASH).fit(vocab, exclude=[])
    few = TailScorer(**HASH).fit(
        vocab, exclude=[], texts=["wav2vec transcribes audio"], tag_sets=[{"speech-recognition"}]
    )
    j = few.tags_.index("speech-recognition")
    assert few.shots_[j] == 1 and zero.shots_[j] == 0
    query = ["wav2vec transcribes audio clips"]
    assert few.similarities(query)[0, j] > zero.similarities(query)[0, j]
    assert few.suggest(query, k=1)[0][0].source == "few-shot"


def test_min_similarity_filters(vocab):
    scorer = TailScorer(encoder="hashing", min_similarity=0.99).fit(vocab, exclude=[])
    assert scorer.suggest(["nothing that matches"], k=3) == [[]]


def test_tags_added_later_get_prototypes(vocab):
    scorer = TailScorer(**HASH).fit(Taxonomy.from_records([{"tag": "biology"}]), exclude=[])
    scorer.with_tags(vocab, exclude=["deep-learning"])
    assert set(scorer.tags_) == {"biology", "protein-folding", "speech-recognition"}


def test_save_load_round_trip(vocab, tmp_path):
    scorer = TailScorer(**HASH).fit(vocab, exclude=[])
    scorer.save(tmp_path / "tail")
    loaded = TailScorer.load(tmp_path / "tail")
    assert loaded.tags_ == scorer.tags_
    q = ["protein structure"]
    np.testing.assert_array_equal(loaded.similarities(q), scorer.similarities(q))


def test_recall_at_k(vocab):
    scorer = TailScorer(**HASH).fit(vocab, exclude=[])
    texts = ["alphafold protein folding", "an asr speech recognition system", "no tail tag"]
    sets = [{"protein-folding"}, {"speech-recognition"}, set()]
    r = tail_recall_at_k(scorer, texts, sets, k=1)
    assert r["tail_recall_at_1"] == 1.0 and r["tail_docs"] == 2


def test_errors():
    with pytest.raises(ConfigError, match="valid"):
        TailScorer(nope=1)
    with pytest.raises(NotTrainedError):
        TailScorer(**HASH).similarities(["x"])
    with pytest.raises(ConfigError, match="tag sets"):
        TailScorer(**HASH).fit(Taxonomy.from_records([]), exclude=[], texts=["a"], tag_sets=[])


def test_description_is_part_of_the_prototype_text():
    tax = Taxonomy.from_records(
        [{"tag": "spiking-neural-networks", "aliases": ["snn"], "description": "Neuromorphic."}]
    )
    assert tag_description(tax, "spiking-neural-networks") == (
        "spiking neural networks. also: snn. neuromorphic."
    )


def _corpus(n: int = 60) -> tuple[list[str], list[set[str]]]:
    """Texts about biology or speech (with their tags) and unrelated ones (none)."""
    texts, sets = [], []
    for i in range(n):
        kind = i % 3
        if kind == 0:
            texts.append(f"protein folding structure prediction run {i}")
            sets.append({"protein-folding", "biology"})
        elif kind == 1:
            texts.append(f"asr speech recognition of audio clips batch {i}")
            sets.append({"speech-recognition"})
        else:
            texts.append(f"gradient boosting on tabular sales data {i}")
            sets.append(set())
    return texts, sets


def test_floors_are_calibrated_on_unrelated_pairs(vocab):
    texts, sets = _corpus()
    scorer = TailScorer(encoder="hashing", false_alarm_rate=0.05, min_similarity=-1.0)
    scorer.fit(vocab, exclude=["deep-learning"], texts=texts, tag_sets=sets)
    assert set(scorer.floors_) == {"zero-shot", "few-shot"}
    assert all(f is not None for f in scorer.floors_.values())
    floors = scorer.floors()
    sims = scorer.similarities(texts)
    carried = np.array([[t in s for t in scorer.tags_] for s in sets])
    # about the requested share of unrelated pairs passes; related ones mostly do
    passing = sims >= floors
    assert np.mean(passing[~carried]) <= 0.06
    assert np.mean(passing[carried]) > 0.5
    # a tag exactly at its floor scores half of the cap
    np.testing.assert_allclose(
        scorer.confidence(floors[None, :]), scorer.params["max_confidence"] / 2
    )


def test_min_similarity_bounds_a_calibrated_floor(vocab):
    texts, sets = _corpus()
    scorer = TailScorer(encoder="hashing", false_alarm_rate=0.05, min_similarity=0.99)
    scorer.fit(vocab, exclude=[], texts=texts, tag_sets=sets)
    assert np.all(scorer.floors() == 0.99)


def test_too_few_negatives_leave_the_floor_uncalibrated(vocab):
    scorer = TailScorer(encoder="hashing", min_similarity=0.2)  # rate 0.001 needs 1000
    scorer.fit(vocab, exclude=[], texts=["asr audio"], tag_sets=[{"speech-recognition"}])
    assert scorer.floors_ == {"zero-shot": None, "few-shot": None}
    assert np.all(scorer.floors() == 0.2)
    off = TailScorer(encoder="hashing", false_alarm_rate=None).fit(
        vocab, exclude=[], texts=["asr audio"], tag_sets=[{"speech-recognition"}]
    )
    assert off.floors_ is None


def test_k_and_exclude(vocab):
    scorer = TailScorer(**HASH, k=2).fit(vocab, exclude=[])
    text = ["protein folding biology speech"]
    assert len(scorer.suggest(text)[0]) == 2
    assert len(scorer.suggest(text, k=1)[0]) == 1
    best = scorer.suggest(text, k=1)[0][0].tag
    again = scorer.suggest(text, k=1, exclude=[[best]])[0]
    assert again and again[0].tag != best  # the next one, not one fewer


def test_for_vocabulary_adds_refreshes_and_drops_without_changing_the_original(vocab):
    scorer = TailScorer(**HASH).fit(vocab, exclude=["deep-learning"])
    newer = Taxonomy.from_records(
        [
            {"tag": "deep-learning"},
            {"tag": "protein-folding", "aliases": ["alphafold", "esmfold"]},  # changed
            {"tag": "speech-recognition", "aliases": ["asr"]},  # same; biology is gone
            {"tag": "spiking-neural-networks", "aliases": ["snn"]},  # new
        ]
    )
    served = scorer.for_vocabulary(newer, exclude=["deep-learning"])
    assert served.tags_ == ("protein-folding", "speech-recognition", "spiking-neural-networks")
    assert scorer.tags_ == ("protein-folding", "biology", "speech-recognition")  # unchanged
    assert served.suggest(["a spiking snn"], k=1)[0][0].tag == "spiking-neural-networks"
    j, j0 = served.tags_.index("protein-folding"), scorer.tags_.index("protein-folding")
    assert not np.allclose(served.prototypes_[j], scorer.prototypes_[j0])  # re-embedded
    assert served.descriptions_[j] == tag_description(newer, "protein-folding")
    k, k0 = served.tags_.index("speech-recognition"), scorer.tags_.index("speech-recognition")
    np.testing.assert_array_equal(served.prototypes_[k], scorer.prototypes_[k0])


def test_few_shot_prototypes_survive_a_vocabulary_change(vocab):
    scorer = TailScorer(**HASH).fit(
        vocab, exclude=[], texts=["wav2vec transcribes audio"], tag_sets=[{"speech-recognition"}]
    )
    newer = Taxonomy.from_records([{"tag": "speech-recognition", "aliases": ["asr", "stt"]}])
    served = scorer.for_vocabulary(newer, exclude=[])
    j = scorer.tags_.index("speech-recognition")
    np.testing.assert_array_equal(served.prototypes_[0], scorer.prototypes_[j])


def test_saved_floors_and_descriptions_round_trip_and_old_files_load(vocab, tmp_path):
    import json

    texts, sets = _corpus()
    scorer = TailScorer(encoder="hashing", false_alarm_rate=0.05).fit(
        vocab, exclude=[], texts=texts, tag_sets=sets
    )
    scorer.save(tmp_path / "tail")
    loaded = TailScorer.load(tmp_path / "tail")
    assert loaded.floors_ == scorer.floors_
    assert loaded.descriptions_ == scorer.descriptions_
    assert loaded.suggest(texts[:3]) == scorer.suggest(texts[:3])
    # a tail.json written before floors, descriptions and k existed
    meta = json.loads((tmp_path / "tail" / "tail.json").read_text())
    for key in ("floors", "descriptions"):
        meta.pop(key)
    for key in ("k", "false_alarm_rate"):
        meta["params"].pop(key)
    (tmp_path / "tail" / "tail.json").write_text(json.dumps(meta))
    old = TailScorer.load(tmp_path / "tail")
    assert old.floors_ is None and old.descriptions_ is None and old.params["k"] == 3
    assert np.all(old.floors() == old.params["min_similarity"])
    old.for_vocabulary(vocab, exclude=[])  # still works, nothing to refresh


@pytest.mark.parametrize(
    "params", [{"false_alarm_rate": 0.0}, {"false_alarm_rate": 1.5}, {"k": -1}, {"k": True}]
)
def test_policy_params_are_validated_at_fit(vocab, params):
    with pytest.raises(ConfigError, match="must be"):
        TailScorer(encoder="hashing", **params).fit(vocab, exclude=[])


def test_to_dict_marks_low_confidence(vocab):
    scorer = TailScorer(**HASH).fit(vocab, exclude=[])
    d = scorer.suggest(["alphafold protein folding"], k=1)[0][0].to_dict()
    assert d["confidence"] == "low" and d["source"] == "zero-shot"
    assert set(d) == {"tag", "score", "similarity", "source", "confidence"}


def test_each_tag_is_held_to_its_own_floor(vocab):
    scorer = TailScorer(**HASH).fit(
        vocab, exclude=[], texts=["asr speech recognition"], tag_sets=[{"speech-recognition"}]
    )
    scorer.floors_ = {"zero-shot": 0.0, "few-shot": 0.99}  # few-shot tags need a near match
    text = ["asr speech recognition of protein folding talks"]
    assert scorer.similarities(text)[0].argmax() == scorer.tags_.index("speech-recognition")
    tags = [s.tag for s in scorer.suggest(text, k=3)[0]]
    assert "speech-recognition" not in tags and "protein-folding" in tags
