"""Shared fixtures: the bundled vocabulary, the tiny corpus and its P1-prepared form.

Session-scoped fixtures are immutable (frozen dataclasses, tuples); tests that need to
change something build their own copy instead of mutating a shared one.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tagwise.data import Project, load_dataset
from tagwise.prepare import Prepared, prepare
from tagwise.taxonomy import Taxonomy

ROOT = Path(__file__).parents[1]
DATA_DIR = ROOT / "tests" / "data"
TAGS_JSON = ROOT / "datasets" / "tags.json"
TINY_PROJECTS = DATA_DIR / "projects_tiny.json"
TINY_MIN_FREQ = 5
"""The tiny corpus has 60 projects; ``min_freq=5`` keeps its six head tags as labels."""


@pytest.fixture(scope="session")
def tags_path() -> Path:
    """Path of the bundled ``datasets/tags.json`` vocabulary."""
    return TAGS_JSON


@pytest.fixture(scope="session")
def taxonomy() -> Taxonomy:
    """The bundled vocabulary, parsed once."""
    return Taxonomy.from_file(TAGS_JSON)


@pytest.fixture(scope="session")
def toy_taxonomy() -> Taxonomy:
    """A hand-made vocabulary with a two-level chain and aliases, easy to reason about.

    ``bert`` → ``transformers`` → ``deep-learning``; ``language-modeling`` →
    ``natural-language-processing``; ``computer-vision`` has the alias ``cv``.
    """
    return Taxonomy.from_records(
        [
            {"tag": "deep-learning", "aliases": ["dl"]},
            {"tag": "transformers", "aliases": ["transformer"], "parents": ["deep-learning"]},
            {"tag": "bert", "aliases": ["bert-base"], "parents": ["transformers"]},
            {"tag": "natural-language-processing", "aliases": ["nlp"]},
            {
                "tag": "language-modeling",
                "aliases": ["lm"],
                "parents": ["natural-language-processing"],
            },
            {"tag": "computer-vision", "aliases": ["cv"]},
            {"tag": "object-detection", "parents": ["computer-vision"]},
        ]
    )


@pytest.fixture(scope="session")
def tiny_projects() -> tuple[Project, ...]:
    """The 60 validated projects of ``tests/data/projects_tiny.json``."""
    return load_dataset(TINY_PROJECTS).dataset.projects


@pytest.fixture(scope="session")
def tiny_prepared(tiny_projects, taxonomy) -> Prepared:
    """The tiny corpus through P1 with ``min_freq=5`` (60 rows, 6 labels)."""
    return prepare(tiny_projects, taxonomy, mode="multi", min_freq=TINY_MIN_FREQ)
