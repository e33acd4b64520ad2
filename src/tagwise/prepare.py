"""From validated projects to model inputs: normalised texts and a label matrix (P1)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from tagwise.taxonomy import LabelSpace, Taxonomy, build_label_space, clean_tag, single_label_space
from tagwise.text import project_text


@dataclass(frozen=True)
class Prepared:
    """Rows kept for modelling (projects with ≥ 1 label), aligned arrays."""

    ids: tuple[int, ...]
    texts: tuple[str, ...]
    dates: tuple[datetime, ...]
    n_author_tags: tuple[int, ...]  # distinct vocabulary tags the author gave (before closure)
    Y: np.ndarray
    labels: LabelSpace
    mode: str
    n_dropped: int
    tag_sets: tuple[frozenset[str], ...] = ()  # each row's P1 tags, also those below min_freq

    def subset(self, rows: np.ndarray) -> tuple[list[str], np.ndarray]:
        """Texts and labels of some rows."""
        return [self.texts[i] for i in rows], self.Y[rows]


def label_matrix(label_sets: Sequence[set[str]], labels: LabelSpace) -> np.ndarray:
    """0/1 matrix (n_docs × n_labels) of the label sets restricted to ``labels``."""
    col = {t: j for j, t in enumerate(labels.labels)}
    Y = np.zeros((len(label_sets), len(labels)), dtype=np.int8)
    for i, tags in enumerate(label_sets):
        for t in tags:
            if t in col:
                Y[i, col[t]] = 1
    return Y


def prepare(
    projects: Sequence,
    taxonomy: Taxonomy,
    *,
    mode: str,
    min_freq: int = 30,
    exclude: Sequence[str] = (),
    labels: LabelSpace | None = None,
) -> Prepared:
    """Apply P1 (multi-label) or take the single class (single-label) for every project.

    ``labels`` fixes the label space (e.g. the trained model's) instead of deriving it.
    """
    if mode == "single":
        label_sets = [{clean_tag(p.tags[0])} for p in projects]
        labels = labels or single_label_space([next(iter(s)) for s in label_sets])
    else:
        label_sets = [taxonomy.closure(p.tags) for p in projects]
        labels = labels or build_label_space(label_sets, min_freq=min_freq, exclude=exclude)
    Y = label_matrix(label_sets, labels)
    keep = np.flatnonzero(Y.sum(axis=1) > 0)
    return Prepared(
        ids=tuple(projects[i].id for i in keep),
        texts=tuple(project_text(projects[i].title, projects[i].description) for i in keep),
        dates=tuple(projects[i].created_on for i in keep),
        n_author_tags=tuple(_n_vocabulary_tags(projects[i].tags, taxonomy, mode) for i in keep),
        Y=Y[keep],
        labels=labels,
        mode=mode,
        n_dropped=len(projects) - len(keep),
        tag_sets=tuple(frozenset(label_sets[i]) for i in keep),
    )


def _n_vocabulary_tags(tags: Sequence[str], taxonomy: Taxonomy, mode: str) -> int:
    """How many distinct vocabulary tags the author gave (for the 'few tags' slice)."""
    if mode == "single":
        return 1
    return len({taxonomy.canonical(t) for t in tags} - {None})
