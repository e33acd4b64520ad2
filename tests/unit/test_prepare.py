"""prepare(): P1 label matrices for multi-label data, one class for single-label data."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tagwise.data import load_dataset
from tagwise.prepare import label_matrix, prepare
from tagwise.taxonomy import LabelSpace
from tagwise.text import project_text

DATA_DIR = Path(__file__).parents[1] / "data"


def test_label_matrix_restricts_to_the_label_space():
    labels = LabelSpace(labels=("a", "b"), counts=(2, 1))
    Y = label_matrix([{"a", "z"}, set(), {"b", "a"}], labels)
    assert Y.dtype == np.int8
    np.testing.assert_array_equal(Y, [[1, 0], [0, 0], [1, 1]])


def test_tiny_prepared_is_p1(tiny_prepared, tiny_projects, taxonomy):
    prep = tiny_prepared
    n = len(prep.ids)
    assert prep.mode == "multi"
    assert n + prep.n_dropped == len(tiny_projects)
    assert prep.Y.shape == (n, len(prep.labels))
    assert len(prep.texts) == len(prep.dates) == len(prep.n_author_tags) == n
    assert np.all(prep.Y.sum(axis=1) >= 1)  # projects with no label are dropped
    by_id = {p.id: p for p in tiny_projects}
    for i, pid in enumerate(prep.ids):
        project = by_id[pid]
        expected = taxonomy.closure(project.tags) & set(prep.labels.labels)
        got = {prep.labels.labels[j] for j in np.flatnonzero(prep.Y[i])}
        assert got == expected
        assert prep.texts[i] == project_text(project.title, project.description)
        assert prep.dates[i] == project.created_on
        vocabulary_tags = {taxonomy.canonical(t) for t in project.tags} - {None}
        assert prep.n_author_tags[i] == len(vocabulary_tags)
    # label counts are the column sums
    assert tuple(int(c) for c in prep.Y.sum(axis=0)) == prep.labels.counts


def test_projects_without_head_labels_are_dropped(tiny_projects, taxonomy):
    prep = prepare(tiny_projects, taxonomy, mode="multi", min_freq=16)
    assert prep.labels.labels == ("computer-vision",)
    assert prep.n_dropped == len(tiny_projects) - len(prep.ids) > 0
    assert prep.Y.all()


def test_fixed_label_space_is_used_as_given(tiny_projects, taxonomy):
    fixed = LabelSpace(labels=("transformers", "no-such-tag"), counts=(0, 0))
    prep = prepare(tiny_projects, taxonomy, mode="multi", labels=fixed)
    assert prep.labels is fixed
    assert prep.Y.shape[1] == 2
    assert prep.Y[:, 0].all() and not prep.Y[:, 1].any()


def test_exclude_removes_a_label(tiny_projects, taxonomy):
    prep = prepare(tiny_projects, taxonomy, mode="multi", min_freq=5, exclude=["transformers"])
    assert "transformers" not in prep.labels.labels
    assert len(prep.labels) == 5


def test_single_label_mode(taxonomy):
    projects = load_dataset(DATA_DIR / "categories_tiny.csv").dataset.projects
    prep = prepare(projects, taxonomy, mode="single")
    assert prep.mode == "single"
    assert prep.n_dropped == 0
    assert np.all(prep.Y.sum(axis=1) == 1)
    for i, project in enumerate(projects):
        assert prep.labels.labels[int(np.argmax(prep.Y[i]))] == project.tags[0]
    assert sum(prep.labels.counts) == len(projects)
