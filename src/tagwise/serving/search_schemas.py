"""Bodies of the search, project, stats and impact endpoints.

Separate from ``schemas.py`` (suggestions) so each resource's contract reads in one
place. Converters from the core's dataclasses live here too: they are one-liners.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from tagwise.config import ServingConfig
from tagwise.search import IndexedProject, SearchHit, SearchResult
from tagwise.search.postings import author_canonical, suggested_canonical
from tagwise.serving.schemas import LINE_PATTERN, TEXT_PATTERN, iso_datetime, json_integer
from tagwise.taxonomy import Taxonomy

MAX_PROJECT_ID = 2**53 - 1
"""Ids a JavaScript client can hold exactly (and SQLite's INTEGER holds)."""


class SuggestedTagOut(BaseModel):
    """A model-suggested tag and its confidence."""

    tag: str = Field(examples=["transformers"])
    score: float = Field(ge=0, le=1, examples=[0.82])


class HighlightsOut(BaseModel):
    """HTML with every character escaped except ``<mark>`` around the matched words."""

    title: str = Field(examples=["Fine-tuning <mark>BERT</mark> for QA"])
    description: str


class ProjectHit(BaseModel):
    """One search result (or related project)."""

    id: int
    title: str
    description: str
    created_on: datetime
    author_tags: list[str] = Field(description="The author's tags, canonical vocabulary tags")
    suggested_tags: list[SuggestedTagOut] = Field(description="The model's, with confidence")
    score: float = Field(description="Ranking score (text + tag evidence); higher is better")
    highlights: HighlightsOut


class FacetOut(BaseModel):
    """How many projects of the whole result set carry a tag (author or suggested)."""

    tag: str
    count: int = Field(ge=0)


class SearchResponse(BaseModel):
    """A page of results, the total, and tag facets of the whole result set."""

    total: int = Field(ge=0)
    offset: int = Field(ge=0)
    limit: int = Field(ge=1)
    hits: list[ProjectHit]
    facets: list[FacetOut]
    interpreted_tags: list[str] = Field(description="Vocabulary tags recognised in `q`")
    tags: list[str] = Field(
        default_factory=list,
        description="The tag filters as canonical vocabulary tags (`nlp` → "
        "`natural-language-processing`), in the order given",
    )
    took_ms: float = Field(ge=0)


class ProjectOut(BaseModel):
    """A project as the index holds it."""

    id: int
    title: str
    description: str
    created_on: datetime
    tags: list[str] = Field(description="The author's tags as submitted")
    author_tags: list[str] = Field(description="... mapped to canonical vocabulary tags")
    suggested_tags: list[SuggestedTagOut]


class RelatedResponse(BaseModel):
    """Projects like ``project_id``: shared tags (rare ones count more) and shared words."""

    project_id: int
    related: list[ProjectHit]


def project_request_model(cfg: ServingConfig) -> type[BaseModel]:
    """``POST /v1/projects`` body, with the serving limits in its schema."""

    class ProjectIn(BaseModel):
        """A project to add (or, with an existing id, to replace)."""

        model_config = ConfigDict(
            extra="forbid",
            json_schema_extra={
                "examples": [
                    {
                        "id": 9001,
                        "title": "BERT for question answering",
                        "description": "Fine-tuning transformers on SQuAD.",
                        "tags": ["nlp"],
                        "created_on": "2026-11-30T10:00:00Z",
                    }
                ]
            },
        )
        id: Annotated[int, BeforeValidator(json_integer)] = Field(
            ge=0,
            le=MAX_PROJECT_ID,
            description="Catalogue id (a JSON integer); an existing id is replaced",
        )
        title: Annotated[
            str,
            StringConstraints(min_length=1, max_length=cfg.max_title_chars, pattern=LINE_PATTERN),
        ]
        description: Annotated[
            str | None,
            StringConstraints(max_length=cfg.max_description_chars, pattern=TEXT_PATTERN),
            Field(description="Description; null is an empty one, as in data files"),
        ] = ""
        tags: list[
            Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=LINE_PATTERN)]
        ] = Field(
            default_factory=list,
            max_length=cfg.max_feedback_tags,
            description="Author tags: names or aliases (unknown ones are kept, match nothing)",
        )
        created_on: Annotated[datetime | None, BeforeValidator(iso_datetime)] = Field(
            None, description="ISO 8601 date-time; default: now (UTC)"
        )

    return ProjectIn


class TagAcceptance(BaseModel):
    """How often one tag was suggested and kept."""

    tag: str
    suggested: int = Field(ge=0)
    accepted: int = Field(ge=0)
    rate: float = Field(ge=0, le=1)


class PeriodAcceptance(BaseModel):
    """Acceptance in one day or week (``start`` = its first day)."""

    start: date
    records: int = Field(ge=0)
    suggested: int = Field(ge=0)
    accepted: int = Field(ge=0)
    rate: float | None = Field(None, ge=0, le=1)


class MissedTag(BaseModel):
    """A tag authors chose (added, or accepted unshown) that the model had not suggested."""

    tag: str
    count: int = Field(ge=1)


class StatsResponse(BaseModel):
    """Online impact of the suggestions, from the authors' feedback."""

    records: int = Field(ge=0, description="Feedback records counted")
    suggested: int = Field(ge=0, description="Suggested tags shown, in total")
    accepted: int = Field(ge=0, description="... of which the author kept")
    acceptance_rate: float | None = Field(None, ge=0, le=1)
    period: Literal["day", "week"]
    over_time: list[PeriodAcceptance]
    per_tag: list[TagAcceptance]
    missed_tags: list[MissedTag]
    avg_tags_suggested: float | None = Field(None, ge=0, description="Per project, before")
    avg_tags_final: float | None = Field(
        None, ge=0, description="Per project, after (kept + added)"
    )


class ImpactResponse(BaseModel):
    """The latest offline discoverability evaluation (``tagwise impact``)."""

    computed_at: datetime
    model: dict[str, str]
    n_projects: int
    n_queries: int
    summary: str
    markdown: str
    results: list[dict[str, str | float]]
    plot: str = Field(description="PNG as a data: URI")


def _utc(value: datetime) -> datetime:
    """The index stores naive UTC; say so on the wire (RFC 3339 needs an offset)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value


def hit_out(hit: SearchHit) -> ProjectHit:
    """Core hit → response item (scores clipped into [0, 1] for the schema)."""
    return ProjectHit(
        id=hit.id,
        title=hit.title,
        description=hit.description,
        created_on=_utc(hit.created_on),
        author_tags=list(hit.author_tags),
        suggested_tags=[
            SuggestedTagOut(tag=s.tag, score=min(1.0, max(0.0, s.score)))
            for s in hit.suggested_tags
        ],
        score=hit.score,
        highlights=HighlightsOut(
            title=hit.highlights.title, description=hit.highlights.description
        ),
    )


def result_out(result: SearchResult, *, offset: int, limit: int) -> SearchResponse:
    """Core result → response body."""
    return SearchResponse(
        total=result.total,
        offset=offset,
        limit=limit,
        hits=[hit_out(h) for h in result.hits],
        facets=[FacetOut(tag=f.tag, count=f.count) for f in result.facets],
        interpreted_tags=list(result.interpreted_tags),
        tags=list(result.tags),
        took_ms=result.took_ms,
    )


def project_out(p: IndexedProject, taxonomy: Taxonomy) -> ProjectOut:
    """A stored project with its tags as the index sees them."""
    return ProjectOut(
        id=p.id,
        title=p.title,
        description=p.description,
        created_on=_utc(p.created_on),
        tags=list(p.author_tags),
        author_tags=list(author_canonical(p.author_tags, taxonomy)),
        suggested_tags=[
            SuggestedTagOut(tag=s.tag, score=min(1.0, max(0.0, s.score)))
            for s in suggested_canonical(p.suggested, taxonomy)
        ],
    )
