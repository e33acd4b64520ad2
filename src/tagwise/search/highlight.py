"""HTML-safe highlights from FTS5 ``highlight()``/``snippet()``.

FTS5 inserts markers around matched tokens but knows nothing of HTML. So it is asked
for two private-use characters as markers, the whole string is then HTML-escaped, and
only then are the markers turned into ``<mark>``/``</mark>``. Stored text never
contains the markers (they are removed at index time), so a title like
``<script>`` comes back as ``&lt;script&gt;`` and cannot inject markup.
"""

from __future__ import annotations

import html

OPEN = "\ue000"
CLOSE = "\ue001"
ELLIPSIS = "…"
SNIPPET_TOKENS = 24
PLAIN_DESCRIPTION_CHARS = 200


def strip_markers(text: str) -> str:
    """Remove the marker characters from text before it is stored."""
    return text.replace(OPEN, "").replace(CLOSE, "")


def to_html(marked: str) -> str:
    """Escape everything, then turn the markers into ``<mark>`` elements."""
    return html.escape(marked, quote=True).replace(OPEN, "<mark>").replace(CLOSE, "</mark>")


def plain(text: str, max_chars: int | None = None) -> str:
    """Escaped text without highlights (a project found by its tags only)."""
    if max_chars is not None and len(text) > max_chars:
        text = text[:max_chars].rsplit(" ", 1)[0] + ELLIPSIS
    return html.escape(text, quote=True)
