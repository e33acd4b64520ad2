"""CatalogueIndex behaviour on the tiny corpus: tags through the taxonomy, writes, reads."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pytest

from tagwise.errors import InvalidQueryError, UnknownProjectError, UnknownTagError
from tagwise.search import (
    CatalogueIndex,
    IndexedProject,
    NumpyVectorIndex,
    SearchQuery,
    SuggestedTag,
    indexed_projects,
)


@pytest.fixture
def index(tiny_projects, taxonomy):
    idx = CatalogueIndex.open(":memory:", taxonomy)
    idx.upsert(indexed_projects(tiny_projects))
    yield idx
    idx.close()


def _ids(result) -> set[int]:
    return {h.id for h in result.hits}


def _project(pid: int, title: str, tags=(), suggested=(), when="2021-01-01 00:00:00"):
    return IndexedProject(
        id=pid,
        created_on=datetime.fromisoformat(when),
        title=title,
        description=f"{title} description",
        author_tags=tuple(tags),
        suggested=tuple(SuggestedTag(t, s) for t, s in suggested),
    )


def test_parent_matching_finds_children(index, tiny_projects):
    # q-learning's parent is reinforcement-learning: 102 is tagged q-learning, never "rl"
    result = index.search(SearchQuery(tags=["reinforcement-learning"], limit=100))
    expected = {
        p.id for p in tiny_projects if {"reinforcement-learning", "rl", "q-learning"} & set(p.tags)
    }
    assert _ids(result) == expected
    assert 102 in _ids(result)
    # the direct tag outranks the ancestor-derived one
    index.upsert([_project(9000, "Only child", ["q-learning"])])
    scores = {h.id: h.score for h in index.search(SearchQuery(tags=["rl"], limit=100)).hits}
    assert scores[9000] < scores[134]  # 134 is tagged reinforcement-learning directly


def test_parent_matching_toy_bert_finds_transformers(toy_taxonomy):
    idx = CatalogueIndex.open(":memory:", toy_taxonomy)
    idx.upsert([_project(1, "Sentiment", ["bert-base"]), _project(2, "Vision", ["cv"])])
    assert _ids(idx.search(SearchQuery(tags=["transformers"]))) == {1}
    assert _ids(idx.search(SearchQuery(tags=["deep-learning"]))) == {1}
    assert _ids(idx.search(SearchQuery(tags=["computer-vision"]))) == {2}


def test_alias_works_like_canonical_at_query_and_index_time(index):
    by_alias = index.search(SearchQuery(tags=["nlp"], limit=100))
    by_name = index.search(SearchQuery(tags=["natural-language-processing"], limit=100))
    assert _ids(by_alias) == _ids(by_name)
    assert 112 in _ids(by_alias)  # tagged "nlp" by its author
    assert 100 in _ids(by_alias)  # tagged "natural-language-processing"


def test_text_naming_a_tag_finds_tagged_projects(index):
    result = index.search(SearchQuery(q="rl", limit=100))
    assert "reinforcement-learning" in result.interpreted_tags
    assert 118 in _ids(result)  # "AlphaZero" never says "rl" in its text


def test_all_of_versus_any_of(index):
    both = index.search(SearchQuery(tags=["computer-vision", "graph-neural-networks"]))
    either = index.search(
        SearchQuery(tags=["computer-vision", "graph-neural-networks"], mode="any", limit=100)
    )
    assert _ids(both) == {159}
    assert either.total == 16 + 15 - 1
    assert either.hits[0].id == 159  # carrying both tags ranks first


def test_text_and_tags_combine(index):
    result = index.search(SearchQuery(q="bert", tags=["nlp"]))
    assert _ids(result) == {100, 112, 124, 136, 152}
    assert all("<mark>" in (h.highlights.title + h.highlights.description) for h in result.hits)
    wide = index.search(
        SearchQuery(q="bert", tags=["reinforcement-learning"], combine="or", limit=100)
    )
    assert 100 in _ids(wide) and wide.total > 5


def test_excluded_words_and_tags_drop_projects(taxonomy):
    idx = CatalogueIndex.open(":memory:", taxonomy)
    idx.upsert(
        [
            _project(1, "GAN image synthesis", ["generative-adversarial-networks"]),
            _project(2, "Image classification", ["computer-vision"]),
            _project(3, "Image captioning", ["natural-language-processing"]),
            _project(4, "Sentiment", [], suggested=[("natural-language-processing", 0.9)]),
        ]
    )
    assert _ids(idx.search(SearchQuery(q="image"))) == {1, 2, 3}
    assert _ids(idx.search(SearchQuery(q="image -gan"))) == {2, 3}
    assert _ids(idx.search(SearchQuery(q="image -nlp"))) == {1, 2}  # by the tag, not a word
    only = idx.search(SearchQuery(q="-nlp -gan"))  # nothing wanted: browse what is left
    assert _ids(only) == {2, 4} and only.total == 2
    # project 4 is NLP only by a model suggestion: that does not exclude it
    assert _ids(idx.search(SearchQuery(q="-captioning", tags=["nlp"]))) == {4}
    assert 4 in _ids(idx.search(SearchQuery(q="-nlp")))
    idx.close()


def test_date_range_is_inclusive(index):
    result = index.search(
        SearchQuery(
            tags=["reinforcement-learning"],
            date_from=datetime(2020, 6, 1),
            date_to=datetime(2020, 6, 16, 9, 56, 2),
            limit=100,
        )
    )
    assert _ids(result) == {150, 154, 158}
    browse = index.search(SearchQuery(date_from=datetime(2020, 6, 13), limit=100))
    assert _ids(browse) == {156, 157, 158, 159}
    # 158 was created at 09:56:02 (stored to the second): half a second later excludes it
    late = SearchQuery(
        tags=["reinforcement-learning"],
        date_from=datetime(2020, 6, 16, 9, 56, 2, 500_000),
        limit=100,
    )
    assert 158 not in _ids(index.search(late))
    at = SearchQuery(
        tags=["reinforcement-learning"], date_from=datetime(2020, 6, 16, 9, 56, 2), limit=100
    )
    assert 158 in _ids(index.search(at))


def test_facets_count_the_whole_result_set(index):
    result = index.search(SearchQuery(tags=["graph-neural-networks"], limit=1))
    facets = {f.tag: f.count for f in result.facets}
    assert result.total == 15 and len(result.hits) == 1
    assert facets["graph-neural-networks"] == 15
    assert facets["computer-vision"] == 1
    assert facets["fraud-detection"] == 1 and facets["anomaly-detection"] == 1  # closure


def test_highlights_are_escaped():
    from tagwise.taxonomy import Taxonomy

    idx = CatalogueIndex.open(":memory:", Taxonomy.from_records([]))
    idx.upsert([_project(1, 'Detect <script>alert("x")</script> attacks \ue000')])
    hit = idx.search(SearchQuery(q="script")).hits[0]
    assert "<script>" not in hit.highlights.title
    assert hit.highlights.title.startswith("Detect &lt;<mark>script</mark>&gt;alert(&quot;x&quot;)")
    assert "\ue000" not in hit.highlights.title
    tag_only = idx.search(SearchQuery()).hits[0]
    assert "&lt;script&gt;" in tag_only.highlights.title


def test_upsert_is_visible_at_once_and_edit_replaces_tags(index):
    before = index.count()
    index.upsert([_project(9001, "Quantum widgets", ["nlp"])])
    assert index.count() == before + 1
    assert 9001 in _ids(index.search(SearchQuery(q="quantum")))
    assert 9001 in _ids(index.search(SearchQuery(tags=["nlp"], limit=100)))
    index.upsert([_project(9001, "Quantum gadgets", ["cv"])])
    assert index.count() == before + 1
    assert 9001 not in _ids(index.search(SearchQuery(tags=["nlp"], limit=100)))
    assert 9001 in _ids(index.search(SearchQuery(tags=["computer-vision"], limit=100)))
    assert not index.search(SearchQuery(q="widgets")).hits
    assert index.get(9001).title == "Quantum gadgets"
    assert index.delete(9001) and not index.delete(9001)
    assert index.get(9001) is None
    assert not index.search(SearchQuery(q="gadgets")).hits


def test_suggested_tags_make_a_project_findable_but_rank_below_author_tags(taxonomy):
    idx = CatalogueIndex.open(":memory:", taxonomy)
    idx.upsert(
        [
            _project(1, "Alpha", ["reinforcement-learning"]),
            _project(2, "Beta", suggested=[("rl", 0.9)]),
            _project(3, "Gamma", suggested=[("reinforcement-learning", 0.4)]),
        ]
    )
    result = idx.search(SearchQuery(tags=["reinforcement-learning"]))
    assert [h.id for h in result.hits] == [1, 2, 3]
    assert result.hits[1].suggested_tags == (SuggestedTag("reinforcement-learning", 0.9),)


def test_persistence_across_reopen_and_rebuild(tmp_path, tiny_projects, taxonomy):
    path = tmp_path / "search.db"
    idx = CatalogueIndex.open(path, taxonomy)
    idx.upsert(indexed_projects(tiny_projects))
    idx.upsert([_project(9002, "Persistent thing", ["rl"])])
    idx.close()
    again = CatalogueIndex.open(path, taxonomy)
    assert again.count() == len(tiny_projects) + 1
    assert 9002 in _ids(again.search(SearchQuery(tags=["reinforcement-learning"], limit=100)))
    assert again.rebuild([_project(5, "Only one", ["cv"])]) == 1
    assert again.count() == 1
    assert _ids(again.search(SearchQuery(q="one"))) == {5}
    assert not again.search(SearchQuery(q="persistent")).hits
    again.close()


def test_changed_vocabulary_re_derives_postings(tmp_path, toy_taxonomy):
    from tagwise.taxonomy import Taxonomy

    path = tmp_path / "search.db"
    with CatalogueIndex.open(path, Taxonomy.from_records([{"tag": "bert"}])) as idx:
        idx.upsert([_project(1, "Sentiment", ["bert"])])
        with pytest.raises(UnknownTagError):
            idx.search(SearchQuery(tags=["transformers"]))
    with CatalogueIndex.open(path, toy_taxonomy) as idx:
        assert _ids(idx.search(SearchQuery(tags=["transformers"]))) == {1}


@pytest.mark.parametrize(
    "kwargs",
    [
        {"limit": -1},
        {"limit": 0},
        {"limit": 101},
        {"offset": -1},
        {"offset": 10_001},
        {"mode": "some"},
        {"date_from": datetime(2021, 1, 2), "date_to": datetime(2021, 1, 1)},
        {"q": "x" * 501},
    ],
)
def test_bad_queries_raise_invalid_query(kwargs):
    with pytest.raises(InvalidQueryError) as err:
        SearchQuery(**kwargs)
    assert err.value.http_status == 422


def test_unknown_tag_is_named(index):
    with pytest.raises(UnknownTagError, match="no-such-tag"):
        index.search(SearchQuery(tags=["nlp", "no-such-tag"]))


@pytest.mark.parametrize("q", ['"', "NEAR(a b)", "title:foo", "a OR", "OR", "*", "()", "- ^"])
def test_fts_syntax_in_text_is_harmless(index, q):
    """Operators are read as the plain words they contain (or as no word at all)."""
    from tagwise.search.querytext import words_of

    words = " ".join(w for w in words_of(q) if w != "or")
    expected = index.search(SearchQuery(q=words)).total if words else 0
    assert index.search(SearchQuery(q=q)).total == expected


def test_related_projects_share_tags_and_words(index):
    related = index.related(103, limit=5)  # Graph Convolutional Networks
    assert len(related) == 5 and 103 not in {h.id for h in related}
    assert all("graph-neural-networks" in h.author_tags for h in related)
    with pytest.raises(UnknownProjectError):
        index.related(424242)
    with pytest.raises(InvalidQueryError):
        index.related(103, limit=0)


class _BagOfWords:
    """A deterministic toy embedder: hashed word counts."""

    def encode(self, texts):
        out = np.zeros((len(texts), 64), dtype=np.float32)
        for i, t in enumerate(texts):
            for w in t.lower().split():
                out[i, sum(map(ord, w)) % 64] += 1
        return out


def test_vectors_are_kept_in_step_and_persisted(tmp_path, tiny_projects, taxonomy):
    path = tmp_path / "search.db"
    with CatalogueIndex.open(path, taxonomy, embedder=_BagOfWords()) as idx:
        idx.upsert(indexed_projects(tiny_projects))
        assert idx.vectors.ids() == {p.id for p in tiny_projects}
        idx.delete(100)
        hits = idx.search(SearchQuery(q="graph")).hits
        assert hits
    loaded = NumpyVectorIndex.load(path)
    assert loaded.ids() == {p.id for p in tiny_projects} - {100}
    best = loaded.search(_BagOfWords().encode(["graph neural networks"])[0], 3)
    assert len(best) == 3 and best[0][1] >= best[-1][1]


def test_a_second_connection_sees_writes_through_the_cache(tmp_path, taxonomy):
    path = tmp_path / "search.db"
    writer, reader = CatalogueIndex.open(path, taxonomy), CatalogueIndex.open(path, taxonomy)
    writer.upsert([_project(1, "First", ["rl"])])
    assert _ids(reader.search(SearchQuery(tags=["reinforcement-learning"]))) == {1}
    writer.upsert([_project(2, "Second", ["q-learning"])])
    writer.delete(1)
    assert _ids(reader.search(SearchQuery(tags=["reinforcement-learning"]))) == {2}
    writer.close()
    reader.close()


def test_prefix_finds_words_still_being_typed_and_highlights_them():
    from tagwise.taxonomy import Taxonomy

    idx = CatalogueIndex.open(":memory:", Taxonomy.from_records([]))
    idx.upsert([_project(1, "Reinforcement learning agents"), _project(2, "Graph databases")])
    try:
        assert idx.search(SearchQuery(q="learnin")).total == 0  # whole words by default
        typed = idx.search(SearchQuery(q="learnin", prefix=True))
        assert _ids(typed) == {1}
        assert "<mark>learning</mark>" in typed.hits[0].highlights.title.lower()
        assert _ids(idx.search(SearchQuery(q="reinforc", prefix=True))) == {1}
        assert _ids(idx.search(SearchQuery(q="grap", prefix=True))) == {2}
    finally:
        idx.close()


def test_a_typed_prefix_finds_its_stems_but_not_shorter_words():
    from tagwise.taxonomy import Taxonomy

    idx = CatalogueIndex.open(":memory:", Taxonomy.from_records([]))
    idx.upsert(
        [
            _project(1, "Computer vision"),
            _project(2, "Compare optimisers"),
            _project(3, "Detecting cars"),
            _project(4, "Image classification"),
            _project(5, "A classifier"),
            _project(6, "Learning to rank"),
            _project(7, "learnin typo"),
        ]
    )
    try:
        assert _ids(idx.search(SearchQuery(q="comput", prefix=True))) == {1}  # not "compare"
        assert _ids(idx.search(SearchQuery(q="detectin", prefix=True))) == {3}
        assert _ids(idx.search(SearchQuery(q="classifi", prefix=True))) == {4, 5}
        assert _ids(idx.search(SearchQuery(q="learnin", prefix=True))) == {6, 7}  # typo or not
    finally:
        idx.close()


def test_words_a_prefix_may_be_heading_for_find_but_never_outrank():
    from tagwise.taxonomy import Taxonomy

    idx = CatalogueIndex.open(":memory:", Taxonomy.from_records([]))
    idx.upsert(
        [
            _project(1, "Shadow mode"),  # "mode": a whole word one letter shorter than "model"
            _project(2, "A model garden"),
            _project(3, "Image generation"),  # stored stem "gener"
            _project(4, "Hyperparameter optimization"),  # stored stem "optim"
        ]
    )
    try:
        typed = idx.search(SearchQuery(q="model", prefix=True))
        assert [h.id for h in typed.hits] == [2, 1]  # the typed word's own match first
        assert _ids(idx.search(SearchQuery(q="generati", prefix=True))) == {3}
        assert _ids(idx.search(SearchQuery(q="optimiza", prefix=True))) == {4}
    finally:
        idx.close()


def test_text_with_no_searchable_word_finds_nothing(index):
    assert index.search(SearchQuery(q="")).total > 0  # no text: browse
    for q in ("!!!", "OR", "\U0001f600"):
        assert index.search(SearchQuery(q=q)).total == 0, q
    tagged = index.search(SearchQuery(tags=["nlp"])).total
    assert index.search(SearchQuery(q="!!!", tags=["nlp"])).total == 0
    assert index.search(SearchQuery(q="!!!", tags=["nlp"], combine="or")).total == tagged
    assert (
        index.search(SearchQuery(q="ＢＥＲＴ")).total == index.search(SearchQuery(q="bert")).total
    )


def test_a_reader_never_re_derives_the_postings(tmp_path, tiny_projects, taxonomy):
    path = tmp_path / "search.db"
    with CatalogueIndex.open(path, taxonomy) as idx:
        idx.upsert(indexed_projects(tiny_projects))
        want = _ids(idx.search(SearchQuery(tags=["nlp"], limit=100)))
        idx._conn.execute("DELETE FROM meta WHERE key = 'taxonomy_records'")  # an older index
    with CatalogueIndex.open(path, None) as reader:  # no stored vocabulary, no fallback
        n_postings = reader._conn.execute("SELECT count(*) FROM project_tags").fetchone()[0]
        assert n_postings > 0
    with CatalogueIndex.open(path, None, fallback=lambda: taxonomy) as reader:
        assert _ids(reader.search(SearchQuery(tags=["nlp"], limit=100))) == want
    with CatalogueIndex.open(path, taxonomy) as writer:  # a writer stores it again
        stored = writer._conn.execute("SELECT value FROM meta WHERE key = 'taxonomy_records'")
        assert stored.fetchone() is not None
    with CatalogueIndex.open(path, None) as reader:
        assert _ids(reader.search(SearchQuery(tags=["nlp"], limit=100))) == want


def test_a_query_never_depends_on_a_readable_vocabulary_file(tmp_path, tiny_projects, taxonomy):
    from tagwise.catalogue import open_existing_index
    from tagwise.config import load_settings

    bad = tmp_path / "tags.json"
    bad.write_bytes(b"\xff\xfe not utf-8")
    settings = load_settings(home=tmp_path, search={"tags": bad})
    with CatalogueIndex.open(tmp_path / "search.db", taxonomy) as idx:
        idx.upsert(indexed_projects(tiny_projects))
        want = _ids(idx.search(SearchQuery(tags=["nlp"], limit=100)))
    with open_existing_index(settings) as reader:  # the index's own vocabulary: file unread
        assert _ids(reader.search(SearchQuery(tags=["nlp"], limit=100))) == want
