"""Query text parsing: safe FTS5 expressions and tag recognition."""

from __future__ import annotations

from tagwise.search.postings import project_postings
from tagwise.search.querytext import parse_text
from tagwise.search.types import IndexedProject, SuggestedTag


def test_words_are_quoted_and_anded(taxonomy):
    parsed = parse_text('foo "bar baz" qux*', taxonomy)
    assert parsed.fts_all() == '"foo" AND "bar baz" AND "qux"'
    assert not parsed.tags


def test_or_joins_alternatives(taxonomy):
    parsed = parse_text("graph OR network images", taxonomy)
    assert parsed.fts_all() == '("graph" OR "network") AND "images"'


def test_multiword_tag_and_alias_recognised(taxonomy):
    parsed = parse_text("natural language processing tutorial", taxonomy)
    assert parsed.tags == ("natural-language-processing",)
    assert parsed.fts_plain() == '"tutorial"'
    assert parse_text('"natural language processing" OR nlp', taxonomy).tags == (
        "natural-language-processing",
    )
    assert parse_text("object detection", taxonomy).tags == ("object-detection",)
    assert parse_text("RL", taxonomy).tags == ("reinforcement-learning",)


def test_plural_fallback(toy_taxonomy):
    assert parse_text("transformer", toy_taxonomy).tags == ("transformers",)


def test_empty_and_punctuation_only(taxonomy):
    assert parse_text("", taxonomy).fts_all() is None
    assert parse_text("* ( ) - OR", taxonomy).fts_all() is None


def test_postings_closure_and_sources(toy_taxonomy):
    from datetime import datetime

    p = IndexedProject(
        1,
        datetime(2020, 1, 1),
        "t",
        author_tags=("bert-base", "unknown-tag"),
        suggested=(SuggestedTag("lm", 0.7), SuggestedTag("transformer", 0.5)),
    )
    rows = {(r.tag, r.source): (r.weight, r.direct) for r in project_postings(p, toy_taxonomy)}
    assert rows == {
        ("bert", "author"): (1.0, True),
        ("transformers", "author"): (1.0, False),
        ("deep-learning", "author"): (1.0, False),
        ("language-modeling", "suggested"): (0.7, True),
        ("transformers", "suggested"): (0.5, True),
        ("natural-language-processing", "suggested"): (0.7, False),
        ("deep-learning", "suggested"): (0.5, False),
    }


def test_prefix_applies_to_the_word_still_being_typed(taxonomy):
    assert parse_text("graph neural netw", taxonomy, prefix=True).fts_all() == (
        '"graph" AND "neural" AND "netw" *'  # "ne" would be too short to add
    )
    # the index keeps Porter stems ("learning" → learn): one or two letters shorter, as
    # whole words (not prefixes: "comp*" would find "compare")
    typed = parse_text("learnin", taxonomy, prefix=True)
    assert typed.fts_any() == '("learnin" * OR "learni" OR "learn")'
    assert typed.fts_all(scoring=True) == '"learnin" *'  # what ranks: the typed prefix
    completed = parse_text("generati", taxonomy, prefix=True).fts_all()
    assert completed == '("generati" * OR "generat" OR "genera" OR "generation")'
    assert parse_text('"learnin', taxonomy, prefix=True).clauses[-1].prefix  # unclosed quote
    assert parse_text("learnin ", taxonomy, prefix=True).fts_all() == '"learnin"'  # typed out
    assert parse_text("le", taxonomy, prefix=True).fts_all() == '"le"'  # too short
    assert parse_text("nlp", taxonomy, prefix=True).tags == ("natural-language-processing",)
    assert parse_text('"deep learn"', taxonomy, prefix=True).fts_all() == '"deep learn"'
    assert parse_text("learnin", taxonomy).fts_all() == '"learnin"'  # off by default


def test_a_leading_minus_excludes_a_word_or_phrase(taxonomy):
    parsed = parse_text('image -gan -"object detection" self-supervised', taxonomy)
    assert parsed.fts_all() == '"image" AND "self supervised"'  # an inner "-" joins a word
    assert parsed.fts_excluded() == '"gan" OR "object detection"'
    assert parsed.excluded_tags == ("generative-adversarial-networks", "object-detection")
    assert parsed.tags == ()  # an excluded tag is not an interpreted (wanted) one
    assert parse_text("-nlp", taxonomy).excluded_tags == ("natural-language-processing",)
    only_or = parse_text("bert OR -gan", taxonomy)
    assert only_or.fts_all() == '"bert"' and only_or.fts_excluded() == '"gan"'


def test_search_as_you_type_never_prefixes_an_exclusion(taxonomy):
    typing_exclusion = parse_text("image -ga", taxonomy, prefix=True)
    assert not any(c.prefix for c in typing_exclusion.clauses)
    assert typing_exclusion.fts_excluded() == '"ga"'
    typing_word = parse_text("-gan imag", taxonomy, prefix=True)
    assert typing_word.clauses[-1].prefix and typing_word.fts_excluded() == '"gan"'


def test_query_words_are_folded_like_model_text_and_kept_as_written(taxonomy):
    assert parse_text("ＢＥＲＴ", taxonomy).fts_all() == '("bert" OR "ｂｅｒｔ")'
    assert parse_text("nai\u0308ve bayes", taxonomy).fts_all() == '"naïve" AND "bayes"'
    assert parse_text("bert －ｇａｎ", taxonomy).fts_excluded() == '"gan" OR "ｇａｎ"'


def test_an_underscore_never_makes_a_shortened_form_long_enough(taxonomy):
    # the index splits "net_w" into "net" and "w": "net" is too short to stand for "netw"
    assert parse_text("net_w", taxonomy, prefix=True).fts_all() == '"net_w" *'
