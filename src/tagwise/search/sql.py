"""SQL pieces shared by the index: the evidence expression and the date format.

The evidence of a posting is computed in SQL for ``related`` and when the tag cache is
loaded, and in Python when the cache is patched; both follow ``weights``.
"""

from __future__ import annotations

from datetime import datetime

from tagwise.search.weights import RankingWeights

DATE_FORMAT = "%Y-%m-%d %H:%M:%S"


def format_date(value: datetime) -> str:
    """``YYYY-MM-DD HH:MM:SS`` with a four-digit year (``strftime("%Y")`` gives ``31`` for
    the year 31 on glibc, which then does not parse back)."""
    return value.isoformat(sep=" ", timespec="seconds")


def parse_date(text: str) -> datetime:
    """The inverse of :func:`format_date`."""
    return datetime.fromisoformat(text)


def evidence_sql(alias: str = "pt") -> str:
    """One posting's evidence for its tag (see ``weights``), as an SQL expression."""
    return (
        f"(CASE {alias}.source WHEN 'author' THEN :w_author "
        f"ELSE :w_suggested * {alias}.weight END) "
        f"* (CASE {alias}.direct WHEN 1 THEN 1.0 ELSE :w_ancestor END)"
    )


def weight_params(w: RankingWeights) -> dict[str, float]:
    """Named parameters used by :func:`evidence_sql` and the score expression."""
    return {
        "w_author": w.author,
        "w_suggested": w.suggested,
        "w_ancestor": w.ancestor,
        "w_text": w.text,
        "w_tag": w.tag,
        "w_inferred": w.inferred,
        "title_boost": w.title_boost,
        "bm25_half": w.bm25_half,
    }
