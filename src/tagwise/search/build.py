"""From a data set (and optionally a model) to the projects the index stores.

Kept separate from the index so the index never imports a model: the shell decides
which bundle suggests the tags (the served champion, or none).
"""

from __future__ import annotations

from collections.abc import Sequence

from tagwise.search.types import IndexedProject

BATCH = 512


def indexed_projects(
    projects: Sequence, bundle=None, *, with_author_tags: bool = True
) -> list[IndexedProject]:
    """Validated ``Project`` rows → :class:`IndexedProject`, suggestions attached.

    ``bundle`` is a :class:`tagwise.bundle.ModelBundle` (anything with ``suggest``);
    without it the projects carry no suggested tags.
    """
    out: list[IndexedProject] = []
    for start in range(0, len(projects), BATCH):
        chunk = projects[start : start + BATCH]
        suggested = (
            bundle.suggest([(p.title, p.description) for p in chunk])
            if bundle is not None
            else [()] * len(chunk)
        )
        for p, s in zip(chunk, suggested, strict=True):
            item = IndexedProject.from_project(p, s)
            if not with_author_tags:
                item = IndexedProject(
                    item.id, item.created_on, item.title, item.description, (), item.suggested
                )
            out.append(item)
    return out
