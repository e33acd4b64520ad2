"""Problem details helpers and the feedback tag check (pure functions)."""

from __future__ import annotations

import pytest

from tagwise.feedback import InvalidTagsError, canonical_tags
from tagwise.serving.problems import field_name


@pytest.mark.parametrize(
    ("loc", "expected"),
    [
        (("body", "title"), "title"),
        (("body", "items", 3, "title"), "items[3].title"),
        (("path", "tag"), "tag"),
        (("body",), "body"),
        (("query", "force"), "force"),
    ],
)
def test_field_name(loc, expected):
    assert field_name(loc) == expected


def test_canonical_tags_maps_aliases_and_deduplicates(toy_taxonomy):
    out = canonical_tags(toy_taxonomy, {"accepted": ["nlp", "natural-language-processing", "CV"]})
    assert out["accepted"] == ("natural-language-processing", "computer-vision")


def test_canonical_tags_reports_every_unknown_tag(toy_taxonomy):
    with pytest.raises(InvalidTagsError) as err:
        canonical_tags(toy_taxonomy, {"accepted": ["nlp", "nope"], "added": ["zz"]})
    assert [f for f, _ in err.value.errors] == ["accepted[1]", "added[0]"]
    assert err.value.http_status == 422


def test_without_a_vocabulary_the_label_space_is_used(toy_taxonomy):
    from tagwise.taxonomy import Taxonomy

    empty = Taxonomy.from_records([])
    assert canonical_tags(empty, {"added": ["cats"]}, fallback=["cats", "dogs"]) == {
        "added": ("cats",)
    }
    with pytest.raises(InvalidTagsError):
        canonical_tags(empty, {"added": ["birds"]}, fallback=["cats"])
