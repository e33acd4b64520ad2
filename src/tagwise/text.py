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


def _strip_controls(text: str) -> str:
    """Drop control/format characters (zero-width joiners, BOMs, RTL marks) but keep spaces."""
    return "".join(
        ch if (ch.isspace() or unicodedata.category(ch) not in _CONTROL_CATEGORIES) else " "
        for ch in text
    )


def normalize_text(text: str | None, *, max_chars: int = MAX_CHARS) -> str:
    """Return a canonical, lower-cased form of ``text`` for feature extraction.

    Steps, in order: cut to ``max_chars`` (bounded cost), unescape HTML entities, drop
    HTML tags, replace URLs with a ``url`` token (their paths are noise but their
    presence is a signal), NFKC-fold unicode (full-width letters, ligatures), remove
    control and bidi-format characters, case-fold, collapse whitespace. Emoji and
    non-Latin scripts are kept: they are content.
    """
    if not text:
        return ""
    text = text[: max_chars * 2]
    text = html.unescape(text)
    text = _TAG.sub(" ", text)
    text = _URL.sub(" url ", text)
    text = unicodedata.normalize("NFKC", text)
    text = _strip_controls(text)
    text = text.casefold()
    text = _WS.sub(" ", text).strip()
    return text[:max_chars]


def project_text(title: str | None, description: str | None) -> str:
    """Join title and description the one way every model expects (title first)."""
    return normalize_text(f"{title or ''}. {description or ''}".strip(" ."))
