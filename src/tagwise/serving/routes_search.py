"""Catalogue search: ``GET /v1/search``, ``/v1/projects/{id}[/related]``, ``POST /v1/projects``
and the ``/search`` page.

The router carries its own lifespan (merged into the app's by ``include_router``, after
the app's own, so the served model is loaded when it runs): it opens the index at
``<home>/search.db``, building it from ``search.catalogue`` in the background when
it is empty (see :mod:`tagwise.serving.search_state`).

Every query parameter's range is declared here, so it is in the OpenAPI schema and
a request outside it gets a 422 problem naming the parameter; checks that need the
vocabulary (unknown tag) or two parameters (``from`` after ``to``) answer the same way.
"""

# No ``from __future__ import annotations``: FastAPI must resolve the body class
# ``ProjectIn``, which is local to ``build_router`` (its limits are settings).
import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, FastAPI, Query, Request, Response
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import StringConstraints

from tagwise.config import Settings
from tagwise.data import validate_records
from tagwise.errors import UnknownProjectError
from tagwise.search import MAX_LIMIT, MAX_OFFSET, IndexedProject, SearchQuery
from tagwise.search.types import MAX_QUERY_CHARS, MAX_QUERY_TAGS
from tagwise.serving.deps import IndexDep, ServedDep
from tagwise.serving.problems import CLIENT_ERRORS, NOT_READY
from tagwise.serving.schemas import TEXT_PATTERN
from tagwise.serving.search_schemas import (
    MAX_PROJECT_ID,
    ProjectOut,
    RelatedResponse,
    SearchResponse,
    hit_out,
    project_out,
    project_request_model,
    result_out,
)
from tagwise.serving.search_state import SearchState

STATIC_DIR = Path(__file__).parent / "static"
NOT_FOUND = {404: {"description": "No project with this id"}}
INVALID = {422: CLIENT_ERRORS[422]}
TagParam = Annotated[str, StringConstraints(min_length=1, max_length=100)]
ProjectId = Annotated[int, PathParam(ge=0, le=MAX_PROJECT_ID, description="Project id")]


def _invalid(param: str, message: str, where: str = "query") -> RequestValidationError:
    """A 422 naming ``param``, in the same shape as FastAPI's own validation errors."""
    return RequestValidationError([{"loc": (where, param), "msg": message, "type": "value_error"}])


_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\S*)?$")


def _naive_utc(value: datetime | None, param: str, raw: str | None) -> datetime | None:
    """Aware → naive UTC (as the index stores dates); a bare date for ``to`` = its last second."""
    if value is None:
        return None
    if raw is not None and _ISO_DATE.match(raw.strip()) is None:
        # pydantic also reads 2020 or 1700000000 as Unix time; the contract is ISO 8601.
        raise _invalid(param, "must be an ISO 8601 date (2020-06-01) or date-time")
    try:
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
    except OverflowError:
        raise _invalid(param, "date is out of range") from None
    if param == "to" and raw is not None and len(raw.strip()) == 10:
        value = datetime.combine(value.date(), time(23, 59, 59))
    return value


def _lifespan(settings: Settings):
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = SearchState(settings)
        app.state.search = state
        served = app.state.holder.served
        state.start(served.bundle if served is not None else None)
        try:
            yield
        finally:
            await asyncio.to_thread(state.close)

    return lifespan


def build_router(settings: Settings) -> APIRouter:
    """Search routes and page, with ``settings``' limits in the project body schema."""
    router = APIRouter(tags=["search"], lifespan=_lifespan(settings))
    ProjectIn = project_request_model(settings.serving)

    # plain ``def``: a broad text query at 100k projects takes tens of ms of CPU; that
    # belongs in the threadpool, not on the event loop that answers /healthz.
    @router.get(
        "/v1/search",
        response_model=SearchResponse,
        responses={**INVALID, **NOT_READY},
        summary="Search projects by text, tags (through the taxonomy) and dates",
        description='Words must all match unless joined by `OR`; `"quoted phrases"` match '
        'as phrases; `-word` (or `-"a phrase"`) excludes projects containing it, and '
        "projects carrying the tag it names; words naming a vocabulary tag also match "
        "projects carrying it. "
        "`tags` (repeat: `tags=a&tags=b`; names or aliases; a tag also matches its "
        "descendants) filter by `mode` (all-of / any-of). Highlights are HTML-escaped "
        "except `<mark>`. Facets count tags over the whole result set.",
    )
    def search(
        request: Request,
        index: IndexDep,
        q: Annotated[
            str,
            Query(
                max_length=MAX_QUERY_CHARS,
                pattern=TEXT_PATTERN,
                description="Free text (no control characters)",
                examples=["bert"],
            ),
        ] = "",
        tags: Annotated[
            list[TagParam],
            Query(max_length=MAX_QUERY_TAGS, description="Tag filters (repeat the parameter)"),
        ] = [],  # noqa: B006 - FastAPI copies defaults per request
        mode: Annotated[
            Literal["all", "any"], Query(description="all-of or any-of the tags")
        ] = "all",
        date_from: Annotated[
            datetime | None,
            Query(alias="from", description="Created on or after (ISO 8601 date or date-time)"),
        ] = None,
        date_to: Annotated[
            datetime | None,
            Query(alias="to", description="Created on or before (a bare date includes that day)"),
        ] = None,
        limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Page size")] = 10,
        offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Page start")] = 0,
        facets: Annotated[int, Query(ge=0, le=100, description="Number of tag facets")] = 20,
        prefix: Annotated[
            bool,
            Query(description="Search as you type: the last word also matches longer words"),
        ] = False,
    ):
        unknown = [t for t in tags if index.taxonomy.canonical(t) is None]
        if unknown:
            raise _invalid("tags", f"unknown tag(s): {', '.join(map(repr, unknown))}")
        start = _naive_utc(date_from, "from", request.query_params.get("from"))
        end = _naive_utc(date_to, "to", request.query_params.get("to"))
        if start and end and start > end:
            shown = f"{start:%Y-%m-%d %H:%M:%S} > {end:%Y-%m-%d %H:%M:%S}"
            raise _invalid("from", f"must not be after 'to' ({shown})")
        query = SearchQuery(
            q=q,
            tags=tuple(tags),
            mode=mode,
            date_from=start,
            date_to=end,
            limit=limit,
            offset=offset,
            facets=facets,
            prefix=prefix,
        )
        return result_out(index.search(query), offset=offset, limit=limit)

    @router.get(
        "/v1/projects/{project_id}",
        response_model=ProjectOut,
        responses={**INVALID, **NOT_READY, **NOT_FOUND},
        summary="One indexed project",
    )
    def get_project(project_id: ProjectId, index: IndexDep):
        project = index.get(project_id)
        if project is None:
            raise UnknownProjectError(f"no project {project_id} in the index")
        return project_out(project, index.taxonomy)

    @router.get(
        "/v1/projects/{project_id}/related",
        response_model=RelatedResponse,
        responses={**INVALID, **NOT_READY, **NOT_FOUND},
        summary="Projects like this one",
        description="Shared tags (weighted by evidence on both sides and by how rare the tag "
        "is) plus shared words of title and description.",
    )
    def related(
        project_id: ProjectId,
        index: IndexDep,
        limit: Annotated[int, Query(ge=1, le=20, description="At most this many")] = 5,
    ):
        hits = index.related(project_id, limit=limit)
        return RelatedResponse(project_id=project_id, related=[hit_out(h) for h in hits])

    @router.post(
        "/v1/projects",
        status_code=201,
        response_model=ProjectOut,
        responses={
            200: {"model": ProjectOut, "description": "An existing project was replaced"},
            **CLIENT_ERRORS,
            **NOT_READY,
        },
        summary="Add a project to the catalogue (or replace one with the same id)",
        description="Validated like a row of a data file; the served model's suggested tags "
        "are attached; searchable as soon as this returns. 201 for a new id, 200 when "
        "the project with that id was replaced (that is how a project is edited).",
    )
    def add_project(body: ProjectIn, response: Response, index: IndexDep, served: ServedDep):  # type: ignore[valid-type]
        record = body.model_dump()
        created = record["created_on"] or datetime.now(UTC)
        try:
            if created.tzinfo is not None:
                created = created.astimezone(UTC).replace(tzinfo=None)
        except OverflowError:
            raise _invalid("created_on", "date is out of range", "body") from None
        record["created_on"] = created
        accepted, quarantined = validate_records([record], mode="multi")
        if quarantined:
            raise RequestValidationError(
                [
                    {"loc": ("body", field), "msg": msg, "type": "value_error"}
                    for field, _, msg in (
                        part.partition(": ") for part in quarantined[0].reason.split("; ")
                    )
                ]
            )
        project = accepted[0]
        suggestions = served.bundle.suggest([(project.title, project.description)])[0]
        existed = index.get(project.id) is not None
        index.upsert([IndexedProject.from_project(project, suggestions)])
        if existed:
            response.status_code = 200
        response.headers["Location"] = f"/v1/projects/{project.id}"
        return project_out(index.get(project.id), index.taxonomy)

    @router.get("/search", include_in_schema=False)
    async def search_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "search.html", media_type="text/html")

    @router.get("/impact", include_in_schema=False)
    async def impact_page() -> FileResponse:
        return FileResponse(STATIC_DIR / "impact.html", media_type="text/html")

    return router
