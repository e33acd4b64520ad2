"""Search the catalogue by text, tags (through the taxonomy) and dates.

``CatalogueIndex`` is the entry point (SQLite FTS5 + tag postings, optional vectors);
``SearchQuery``/``SearchResult`` are its input and output. Importing the package does
no work and opens no file.
"""

from tagwise.search.build import indexed_projects
from tagwise.search.index import CatalogueIndex
from tagwise.search.types import (
    MAX_LIMIT,
    MAX_OFFSET,
    FacetCount,
    Highlights,
    IndexedProject,
    SearchHit,
    SearchQuery,
    SearchResult,
    SuggestedTag,
)
from tagwise.search.vectors import Embedder, NumpyVectorIndex, VectorIndex
from tagwise.search.weights import RankingWeights

__all__ = [
    "MAX_LIMIT",
    "MAX_OFFSET",
    "CatalogueIndex",
    "Embedder",
    "FacetCount",
    "Highlights",
    "IndexedProject",
    "NumpyVectorIndex",
    "RankingWeights",
    "SearchHit",
    "SearchQuery",
    "SearchResult",
    "SuggestedTag",
    "VectorIndex",
    "indexed_projects",
]
