"""The one text normalisation shared by training, batch prediction, the API and the UI.

Every model sees text through :func:`normalize_text`, so a project typed into the web
page is seen exactly as the same project was seen in training.
"""

from __future__ import annotations

import html
import re
import unicodedata

MAX_CHARS = 20_000
"""Longer inputs are cut: tag evidence sits in the first paragraphs, and cost grows with size."""

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_TAG = re.compile(r"<[^>]{0,200}>")
_WS = re.compile(r"\s+")
_CONTROL_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})


_UNFOLD_ROUNDS = 4
"""Entity decoding repeats (``&amp;lt;`` → ``&lt;`` → ``<``) at most this many times."""


def _strip_controls(text: str) -> str:
    """Remove format characters (zero-width spaces and joiners, soft hyphens, BOMs, bidi
    marks) so they cannot split a word; other control characters become a space."""
    if text.isprintable():
        return text
    return "".join(
        ch
        if ch.isspace() or unicodedata.category(ch) not in _CONTROL_CATEGORIES
        else ("" if unicodedata.category(ch) == "Cf" else " ")
        for ch in text
    )


def _unfold(text: str) -> str:
    """Decode entities, NFKC-fold, remove controls and case-fold until nothing changes.

    Each step can expose work for another (a full-width ``＆amp;``, an entity that only
    exists after case-folding, a mark hiding inside an entity), so they run together to
    a fixed point, which is what makes :func:`normalize_text` idempotent.
    """
    for _ in range(_UNFOLD_ROUNDS):
        folded = _strip_controls(unicodedata.normalize("NFKC", html.unescape(text))).casefold()
        if folded == text:
            break
        text = folded
    return text


def normalize_text(text: str | None, *, max_chars: int = MAX_CHARS) -> str:
    """Return a canonical, lower-cased form of ``text`` for feature extraction.

    Steps, in order: cut to ``max_chars`` (bounded cost); unescape HTML entities,
    NFKC-fold unicode (full-width letters, ligatures), remove control and bidi-format
    characters and case-fold, repeated until stable; drop HTML tags; replace URLs with a
    ``url`` token (their paths are noise but their presence is a signal); collapse
    whitespace. Emoji and non-Latin scripts are kept: they are content. The result is a
    fixed point: ``normalize_text(normalize_text(x)) == normalize_text(x)``.
    """
    if not text:
        return ""
    text = _unfold(text[: max_chars * 2])
    text = _TAG.sub(" ", text)
    text = _URL.sub(" url ", text)
    text = _WS.sub(" ", text).strip()
    return text[:max_chars].rstrip()


def project_text(title: str | None, description: str | None) -> str:
    """Join title and description the one way every model expects (title first).

    Only the separator is added: a title such as ``.NET`` keeps its dot.
    """
    parts = [p.strip() for p in (title, description) if p and p.strip()]
    return normalize_text(". ".join(parts))
