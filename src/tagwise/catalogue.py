"""The served catalogue: where its search index lives and how it is (re)built.

Shell code shared by ``tagwise serve`` (first start), ``tagwise search rebuild`` and
``tagwise search query``: the index itself (``tagwise.search``) never reads data
files or loads a model; this module decides which file and which bundle.
"""

from __future__ import annotations

import logging
from pathlib import Path

from tagwise.config import Settings
from tagwise.errors import ConfigError, TagwiseError
from tagwise.search import CatalogueIndex, indexed_projects
from tagwise.taxonomy import Taxonomy

log = logging.getLogger(__name__)


def index_path(settings: Settings) -> Path:
    """``search.path`` or ``<home>/search.db``."""
    return settings.search.path or settings.home / "search.db"


def vocabulary(settings: Settings, bundle=None) -> Taxonomy:
    """The served model's vocabulary (what suggestions and feedback use), else the file.

    One vocabulary for suggestions and postings: a suggested tag the index did not know
    would silently vanish from search.
    """
    if bundle is not None and bundle.taxonomy.entries:
        return bundle.taxonomy
    if settings.search.tags.is_file():
        return Taxonomy.from_file(settings.search.tags)
    log.warning("no vocabulary at %s: tags will not match through aliases", settings.search.tags)
    return Taxonomy.from_records([])


def open_index(settings: Settings, bundle=None) -> CatalogueIndex:
    """Open (creating if needed) the index file with the right vocabulary."""
    return CatalogueIndex.open(index_path(settings), vocabulary(settings, bundle))


def open_existing_index(settings: Settings) -> CatalogueIndex:
    """Open the index for reading, with the vocabulary it was built with.

    Never creates an empty index (a query on a fresh home would answer "0 hits" as if
    the catalogue were empty) and never re-derives the postings with a vocabulary file
    found relative to the working directory.
    """
    path = index_path(settings)
    if not path.is_file():
        raise ConfigError(
            f"no search index at {path}: build it with `tagwise search rebuild` "
            "(or start `tagwise serve`, which builds it on first start)"
        )
    # the vocabulary file is read only for an index older than stored vocabularies
    return CatalogueIndex.open(path, None, fallback=lambda: _readable_vocabulary(settings))


def _readable_vocabulary(settings: Settings) -> Taxonomy | None:
    """``search.tags`` for an index older than stored vocabularies; None if unreadable."""
    if not settings.search.tags.is_file():
        return None
    try:
        return Taxonomy.from_file(settings.search.tags)
    except (TagwiseError, ValueError, TypeError, OSError) as exc:
        log.warning("vocabulary %s unreadable (%s): tags match by name", settings.search.tags, exc)
        return None


def build_catalogue(index: CatalogueIndex, settings: Settings, bundle=None, source=None) -> int:
    """Replace the index with the projects of ``source`` (default ``search.catalogue``).

    Rows are validated by the data loader (bad ones quarantined under ``<home>``);
    with a ``bundle`` each project carries the model's suggestions with their scores.
    """
    from tagwise.data import load_dataset

    path = Path(source or settings.search.catalogue)
    quarantine = settings.quarantine_file(path, "search")
    projects = load_dataset(path, quarantine_path=quarantine).dataset.projects
    return index.rebuild(indexed_projects(projects, bundle))
