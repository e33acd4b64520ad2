"""Tag postings of one project: its tags through the vocabulary, with where they came from.

Pure: a project and a taxonomy in, rows out. The index stores these rows; the
discoverability benchmark reasons about them. What is stored:

* author tags: canonicalised (aliases → canonical; unknown tags dropped — they stay in
  the project's raw ``author_tags``), ``direct=1``, weight 1; every ancestor of them
  with ``direct=0``, weight 1 — exactly label protocol P1's closure, without the
  head-label cut;
* suggested tags: canonicalised, ``direct=1``, weight = the model's confidence; their
  ancestors (if not suggested themselves) with ``direct=0`` and the best confidence of
  a suggested descendant.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tagwise.search.types import IndexedProject, SuggestedTag
from tagwise.taxonomy import Taxonomy


@dataclass(frozen=True)
class Posting:
    """One (project, tag, source) row."""

    project_id: int
    tag: str
    source: str  # 'author' | 'suggested'
    weight: float
    direct: bool


def author_canonical(tags: Iterable[str], taxonomy: Taxonomy) -> tuple[str, ...]:
    """The author's tags that the vocabulary knows, canonical, first spelling order."""
    out = (taxonomy.canonical(t) for t in tags)
    return tuple(dict.fromkeys(t for t in out if t is not None))


def suggested_canonical(
    suggested: Iterable[SuggestedTag], taxonomy: Taxonomy
) -> tuple[SuggestedTag, ...]:
    """Suggestions mapped to canonical tags (best score kept), unknown ones dropped."""
    best: dict[str, float] = {}
    for s in suggested:
        tag = taxonomy.canonical(s.tag)
        if tag is not None:
            best[tag] = max(best.get(tag, 0.0), float(s.score))
    return tuple(SuggestedTag(t, round(v, 6)) for t, v in best.items())


def project_postings(project: IndexedProject, taxonomy: Taxonomy) -> list[Posting]:
    """Every posting of a project (see the module docstring)."""
    rows: list[Posting] = []
    direct = author_canonical(project.author_tags, taxonomy)
    seen = set(direct)
    rows.extend(Posting(project.id, t, "author", 1.0, True) for t in direct)
    inherited = sorted({a for t in direct for a in taxonomy.ancestors(t)} - seen)
    rows.extend(Posting(project.id, t, "author", 1.0, False) for t in inherited)

    suggested = {s.tag: s.score for s in suggested_canonical(project.suggested, taxonomy)}
    rows.extend(Posting(project.id, t, "suggested", w, True) for t, w in suggested.items())
    derived: dict[str, float] = {}
    for t, w in suggested.items():
        for a in taxonomy.ancestors(t):
            if a not in suggested:
                derived[a] = max(derived.get(a, 0.0), w)
    rows.extend(Posting(project.id, t, "suggested", w, False) for t, w in sorted(derived.items()))
    return rows
