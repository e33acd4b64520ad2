"""normalize_text: the one normalisation every model, the CLI and the API share."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tagwise.text import MAX_CHARS, normalize_text, project_text


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("See https://github.com/x/y?tab=1 now", "see url now"),
        ("docs at www.example.org/path.", "docs at url"),
        ("HTTP://EXAMPLE.COM", "url"),
        ("<p>Fine-tuning <b>BERT</b></p>", "fine-tuning bert"),
        ("R&amp;D &gt; research", "r&d > research"),
        ("&lt;script&gt;alert(1)&lt;/script&gt; hi", "alert(1) hi"),
        ("Ｆｕｌｌ－ｗｉｄｔｈ ＢＥＲＴ", "full-width bert"),
        ("ﬁne-tuning", "fine-tuning"),
        ("  many \t\n  spaces\u00a0here  ", "many spaces here"),
    ],
)
def test_normalize_examples(raw, expected):
    assert normalize_text(raw) == expected


def test_zero_width_and_bidi_marks_are_removed():
    text = "ma\u200bchine\u200d lear\u00adning \u200fمرحبا\u202e \ufeffbert"
    out = normalize_text(text)
    assert out == "machine learning مرحبا bert"
    for mark in "\u200b\u200d\u00ad\u200f\u202e\ufeff":
        assert mark not in out


def test_other_control_characters_separate_words():
    assert normalize_text("a\x00b\x07c") == "a b c"


def test_emoji_and_non_latin_scripts_are_kept():
    text = "🤗 Transformers для NLP — نماذج اللغة ומודלים 中文"
    assert normalize_text(text) == "🤗 transformers для nlp — نماذج اللغة ומודלים 中文"


@pytest.mark.parametrize("empty", [None, "", "   ", "\u200b\u200b", "<br/>"])
def test_empty_input_gives_empty_string(empty):
    assert normalize_text(empty) == ""


def test_project_text_joins_title_first_and_tolerates_missing_parts():
    assert project_text("BERT", "A Transformer encoder") == "bert. a transformer encoder"
    assert project_text("BERT", None) == "bert"
    assert project_text("BERT", "") == "bert"
    assert project_text(None, "Only a description") == "only a description"
    assert project_text(None, None) == ""
    assert project_text(".NET image classifier", "") == ".net image classifier"


def test_fifty_kilobytes_are_bounded_and_fast():
    huge = ("Graph neural networks <b>rock</b> https://x.org/y " * 1000)[:50_000]
    start = time.perf_counter()
    out = normalize_text(huge)
    elapsed = time.perf_counter() - start
    assert len(out) <= MAX_CHARS
    assert len(out) > MAX_CHARS // 2  # cut, not emptied
    assert elapsed < 0.5
    assert normalize_text(huge, max_chars=100) == out[:100].rstrip()


def test_cut_never_leaves_trailing_space():
    out = normalize_text("a " * 30_000)
    assert len(out) <= MAX_CHARS
    assert out == out.strip()
    assert normalize_text(out) == out


@pytest.mark.parametrize(
    "raw",
    [
        "&amp;lt;b&amp;gt;double escaped",  # scraped HTML is often escaped twice
        "&amp;amp; co",
        "&AMP;ALPHA; caps",  # becomes an entity only after case-folding
        "ｈｔｔｐｓ://example.com full-width url",  # a URL only after NFKC
        "＜b＞full-width tag＜/b＞",
        "ht\u200btps://example.com hidden url",  # a URL only after the mark is removed
        "&#65313;&#8203;b",  # an entity that decodes to full-width / zero-width
    ],
)
def test_idempotent_on_tricky_inputs(raw):
    once = normalize_text(raw)
    assert normalize_text(once) == once
    assert "http" not in once
    assert "<" not in once


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_raises_and_is_idempotent(text):
    once = normalize_text(text)
    assert isinstance(once, str)
    assert len(once) <= MAX_CHARS
    assert once == once.strip()
    assert "  " not in once
    assert normalize_text(once) == once


_HTMLISH = st.lists(
    st.sampled_from(
        [*"aB &;<>/#x0123456789lgtmpAMPhs:w.", "&amp;", "&lt;", "&gt;", "http://", "\u200b"]
    ),
    max_size=40,
).map("".join)


@settings(max_examples=300, deadline=None)
@given(_HTMLISH)
def test_idempotent_on_html_and_url_fragments(text):
    once = normalize_text(text)
    assert normalize_text(once) == once


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=200), st.integers(min_value=1, max_value=50))
def test_max_chars_is_respected(text, max_chars):
    assert len(normalize_text(text, max_chars=max_chars)) <= max_chars
