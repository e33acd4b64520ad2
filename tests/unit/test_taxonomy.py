"""Taxonomy: aliases, transitive parents, vocabulary problems, label space, P1 closure."""

from __future__ import annotations

import json

import pytest

from tagwise.errors import DataFormatError, UnknownTagError
from tagwise.taxonomy import (
    LabelSpace,
    Taxonomy,
    build_label_space,
    clean_tag,
    single_label_space,
)


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("  Machine Learning ", "machine-learning"),
        ("natural_language_processing", "natural-language-processing"),
        ("BERT", "bert"),
        ("multi   word\ttag", "multi-word-tag"),
    ],
)
def test_clean_tag(raw, clean):
    assert clean_tag(raw) == clean


# --- aliases and parents ----------------------------------------------------------


def test_alias_maps_to_canonical(toy_taxonomy):
    assert toy_taxonomy.canonical("lm") == "language-modeling"
    assert toy_taxonomy.canonical("NLP") == "natural-language-processing"
    assert toy_taxonomy.canonical("Bert Base") == "bert"
    assert toy_taxonomy.canonical("bert") == "bert"
    assert toy_taxonomy.canonical("not-a-tag") is None
    assert toy_taxonomy.info("cv").tag == "computer-vision"
    assert toy_taxonomy.aliases_of("transformers") == ("transformer",)


def test_unknown_tag_info_raises(toy_taxonomy):
    with pytest.raises(UnknownTagError, match="nope"):
        toy_taxonomy.info("nope")


def test_ancestors_are_transitive_and_exclude_self(toy_taxonomy):
    assert toy_taxonomy.ancestors("bert") == {"transformers", "deep-learning"}
    assert toy_taxonomy.ancestors("transformers") == {"deep-learning"}
    assert toy_taxonomy.ancestors("deep-learning") == frozenset()
    assert toy_taxonomy.ancestors("unknown") == frozenset()


def test_closure_canonicalises_drops_unknown_and_adds_ancestors(toy_taxonomy):
    assert toy_taxonomy.closure(["bert-base", "LM", "pytorch", "code"]) == {
        "bert",
        "transformers",
        "deep-learning",
        "language-modeling",
        "natural-language-processing",
    }
    assert toy_taxonomy.closure([]) == set()
    assert toy_taxonomy.closure(["unknown"]) == set()


def test_a_clean_vocabulary_has_no_problems(toy_taxonomy):
    assert toy_taxonomy.problems == ()


def test_cycle_is_reported_and_closure_terminates():
    tax = Taxonomy.from_records(
        [
            {"tag": "a", "parents": ["b"]},
            {"tag": "b", "parents": ["c"]},
            {"tag": "c", "parents": ["a"]},
            {"tag": "d", "parents": ["a"]},
            {"tag": "self", "parents": ["self"]},
        ]
    )
    assert tax.ancestors("a") == {"b", "c"}
    assert tax.ancestors("d") == {"a", "b", "c"}
    assert tax.ancestors("self") == frozenset()
    assert tax.closure(["d"]) == {"a", "b", "c", "d"}
    cycles = [p for p in tax.problems if "cycle" in p]
    assert any(all(t in p for t in ("'a'", "'b'", "'c'")) for p in cycles)
    assert any("'self'" in p for p in cycles)


def test_unknown_parent_is_reported_and_ignored():
    tax = Taxonomy.from_records([{"tag": "child", "parents": ["ghost", "real"]}, {"tag": "real"}])
    assert tax.ancestors("child") == {"real"}
    assert len(tax.problems) == 1
    assert "'ghost'" in tax.problems[0] and "'child'" in tax.problems[0]


def test_alias_collision_is_reported_and_first_wins():
    tax = Taxonomy.from_records(
        [
            {"tag": "reinforcement-learning", "aliases": ["rl"]},
            {"tag": "representation-learning", "aliases": ["rl"]},
        ]
    )
    assert tax.canonical("rl") == "reinforcement-learning"
    assert len(tax.problems) == 1
    assert "'rl'" in tax.problems[0] and "representation-learning" in tax.problems[0]


def test_alias_may_not_hijack_a_canonical_tag():
    tax = Taxonomy.from_records(
        [{"tag": "vision"}, {"tag": "computer-vision", "aliases": ["vision"]}]
    )
    assert tax.canonical("vision") == "vision"
    assert any("'vision'" in p for p in tax.problems)


def test_records_round_trip(toy_taxonomy):
    again = Taxonomy.from_records(toy_taxonomy.to_records())
    assert again.tags == toy_taxonomy.tags
    assert again.entries == toy_taxonomy.entries
    assert all(again.ancestors(t) == toy_taxonomy.ancestors(t) for t in again.tags)


# --- the bundled vocabulary (P1) --------------------------------------------------


def test_bundled_vocabulary_loads_cleanly(taxonomy, tags_path):
    records = json.loads(tags_path.read_text(encoding="utf-8"))
    assert taxonomy.tags == tuple(r["tag"] for r in records)
    assert taxonomy.problems == ()


def test_p1_closure_on_bundled_vocabulary(taxonomy):
    # "bert" is not in tags.json (dropped); "lm" is the alias of language-modeling,
    # whose parent is natural-language-processing; "transformers" is a root.
    assert taxonomy.closure(["natural-language-processing", "transformers", "bert", "lm"]) == {
        "natural-language-processing",
        "transformers",
        "language-modeling",
    }
    assert taxonomy.closure(["q-learning"]) == {"q-learning", "reinforcement-learning"}
    assert taxonomy.closure(["semantic-segmentation"]) == {
        "semantic-segmentation",
        "segmentation",
        "computer-vision",
    }
    assert taxonomy.closure(["code", "paper", "tutorial"]) == set()


def test_every_ancestor_in_bundled_vocabulary_is_a_tag(taxonomy):
    tags = set(taxonomy.tags)
    for t in taxonomy.tags:
        assert taxonomy.ancestors(t) <= tags
        assert t not in taxonomy.ancestors(t)


# --- from_file errors -------------------------------------------------------------


def test_from_file_bad_json_names_the_line(tmp_path):
    path = tmp_path / "tags.json"
    path.write_text('[\n  {"tag": "a"},\n  {"tag": "b",,}\n]\n', encoding="utf-8")
    with pytest.raises(DataFormatError) as info:
        Taxonomy.from_file(path)
    assert info.value.line == 3
    assert f"{path}:3" in str(info.value)


def test_from_file_missing_file(tmp_path):
    with pytest.raises(DataFormatError, match=r"missing\.json"):
        Taxonomy.from_file(tmp_path / "missing.json")


@pytest.mark.parametrize("content", ['{"tag": "a"}', '[{"aliases": []}]', '["a"]', '[{"tag": 3}]'])
def test_from_file_wrong_shape(tmp_path, content):
    path = tmp_path / "tags.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match="expected a list"):
        Taxonomy.from_file(path)


# --- label space ------------------------------------------------------------------


def test_label_space_min_freq_and_deterministic_order():
    sets = [{"b", "a"}, {"a", "c"}, {"a", "b"}, {"c", "b"}, {"d"}]
    space = build_label_space(sets, min_freq=2)
    # a, b: 3 each (ties by name); c: 2; d: 1 (dropped)
    assert space.labels == ("a", "b", "c")
    assert space.counts == (3, 3, 2)
    assert build_label_space(list(reversed(sets)), min_freq=2) == space


def test_label_space_counts_a_tag_once_per_project():
    space = build_label_space([["a", "a", "a"], ["b"]], min_freq=2)
    assert space.labels == ()


def test_label_space_exclude():
    sets = [{"a", "b"}, {"a", "b"}]
    assert build_label_space(sets, min_freq=1, exclude=["a"]).labels == ("b",)


def test_label_space_index_and_round_trip():
    space = LabelSpace(labels=("x", "y"), counts=(5, 3))
    assert space.index("y") == 1
    assert len(space) == 2
    with pytest.raises(UnknownTagError, match="'z'"):
        space.index("z")
    assert LabelSpace.from_dict(json.loads(json.dumps(space.to_dict()))) == space


def test_single_label_space_keeps_every_class_by_frequency():
    space = single_label_space(["cv", "nlp", "cv", "mlops", "nlp", "cv"])
    assert space.labels == ("cv", "nlp", "mlops")
    assert space.counts == (3, 2, 1)


def test_tiny_corpus_label_space(tiny_prepared):
    assert tiny_prepared.labels.labels == (
        "computer-vision",
        "graph-neural-networks",
        "natural-language-processing",
        "reinforcement-learning",
        "object-detection",
        "transformers",
    )
    assert all(c >= 5 for c in tiny_prepared.labels.counts)
