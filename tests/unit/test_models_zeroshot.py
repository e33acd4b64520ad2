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
