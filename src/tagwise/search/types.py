"""The values that go into and come out of the catalogue index.

Plain frozen dataclasses: the HTTP layer turns them into Pydantic models, the CLI into
tables, the discoverability benchmark into metrics. Validation of a query lives here
(ranges) and in the index (tags, which need the vocabulary).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from tagwise.errors import InvalidQueryError

MAX_LIMIT = 100
MAX_OFFSET = 10_000
MAX_QUERY_CHARS = 500
MAX_QUERY_TAGS = 20

TagMode = Literal["all", "any"]
Combine = Literal["and", "or"]


@dataclass(frozen=True)
class SuggestedTag:
    """A model-suggested tag with its confidence (the policy's score, 0..1)."""

    tag: str
    score: float


@dataclass(frozen=True)
class IndexedProject:
    """One project as the index stores it.

    ``author_tags`` are the author's raw tags (aliases, unknown tags and all): the index
    keeps them verbatim and derives its tag postings from them through the vocabulary,
    so a changed vocabulary re-derives the postings without the original data.
    """

    id: int
    created_on: datetime
    title: str
    description: str = ""
    author_tags: tuple[str, ...] = ()
    suggested: tuple[SuggestedTag, ...] = ()

    @classmethod
    def from_project(cls, project, suggested: Sequence = ()) -> IndexedProject:
        """From a validated :class:`tagwise.data.Project` and optional suggestions.

        ``suggested`` items need ``.tag`` and ``.score`` (a ``bundle.Suggestion`` works).
        """
        return cls(
            id=project.id,
            created_on=project.created_on,
            title=project.title,
            description=project.description,
            author_tags=tuple(project.tags),
            suggested=tuple(SuggestedTag(s.tag, float(s.score)) for s in suggested),
        )


def _naive_utc(value: datetime | None) -> datetime | None:
    """Same rule as the data loader: aware datetimes become naive UTC."""
    if value is not None and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    return value


@dataclass(frozen=True)
class SearchQuery:
    """What someone searching asks for.

    ``q`` is free text: words must all match (AND) unless joined by ``OR``; quoted
    ``"phrases"`` match as phrases; words that name a vocabulary tag (``nlp``,
    ``object detection``) also match projects carrying that tag. ``tags`` are tag
    filters (names or aliases) combined by ``mode`` (all-of / any-of). ``combine``
    says how the text and the tag filters meet: ``and`` (both must match — the search
    box plus clicked facets) or ``or`` (either is enough, both add to the score — how
    the discoverability benchmark asks "find projects about this tag").
    ``date_from``/``date_to`` bound ``created_on``, both inclusive. ``prefix``: the
    last word, still being typed, matches the words it begins (search as you type).
    """

    q: str = ""
    tags: tuple[str, ...] = ()
    mode: TagMode = "all"
    combine: Combine = "and"
    date_from: datetime | None = None
    date_to: datetime | None = None
    limit: int = 10
    offset: int = 0
    facets: int = 20
    prefix: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "date_from", _naive_utc(self.date_from))
        object.__setattr__(self, "date_to", _naive_utc(self.date_to))
        problems = []
        if not isinstance(self.q, str) or len(self.q) > MAX_QUERY_CHARS:
            problems.append(f"q must be a string of at most {MAX_QUERY_CHARS} characters")
        if len(self.tags) > MAX_QUERY_TAGS:
            problems.append(f"at most {MAX_QUERY_TAGS} tags")
        if self.mode not in ("all", "any"):
            problems.append(f"mode must be 'all' or 'any', got {self.mode!r}")
        if self.combine not in ("and", "or"):
            problems.append(f"combine must be 'and' or 'or', got {self.combine!r}")
        if isinstance(self.limit, bool) or not 1 <= self.limit <= MAX_LIMIT:
            problems.append(f"limit must be in 1..{MAX_LIMIT}, got {self.limit}")
        if isinstance(self.offset, bool) or not 0 <= self.offset <= MAX_OFFSET:
            problems.append(f"offset must be in 0..{MAX_OFFSET}, got {self.offset}")
        if not 0 <= self.facets <= 100:
            problems.append(f"facets must be in 0..100, got {self.facets}")
        if self.date_from and self.date_to and self.date_from > self.date_to:
            problems.append(
                f"date_from {self.date_from:%Y-%m-%d %H:%M:%S} is after "
                f"date_to {self.date_to:%Y-%m-%d %H:%M:%S}"
            )
        if problems:
            raise InvalidQueryError("invalid search query: " + "; ".join(problems))


@dataclass(frozen=True)
class Highlights:
    """HTML-safe snippets: everything escaped except the ``<mark>`` around matches."""

    title: str
    description: str


@dataclass(frozen=True)
class SearchHit:
    """One result. ``author_tags`` are the author's tags mapped to the vocabulary."""

    id: int
    title: str
    description: str
    created_on: datetime
    author_tags: tuple[str, ...]
    suggested_tags: tuple[SuggestedTag, ...]
    score: float
    highlights: Highlights


@dataclass(frozen=True)
class FacetCount:
    """How many projects of the current result set carry a tag (any source)."""

    tag: str
    count: int


@dataclass(frozen=True)
class SearchResult:
    """A page of hits with the total, tag facets of the whole result set and timing."""

    total: int
    hits: tuple[SearchHit, ...]
    facets: tuple[FacetCount, ...] = ()
    took_ms: float = 0.0
    interpreted_tags: tuple[str, ...] = field(default=())
    """Vocabulary tags recognised in ``q`` (shown to the user as "searching also for …")."""
    tags: tuple[str, ...] = field(default=())
    """The tag filters, canonical (an alias such as ``nlp`` as the tag it names)."""
