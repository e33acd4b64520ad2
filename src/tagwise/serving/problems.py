"""RFC 9457 problem details: every error leaves the app as ``application/problem+json``.

One place turns validation errors, HTTP errors (404/405), tagwise errors and anything
unexpected into the same body shape — ``type, title, status, detail`` plus
``errors: [{field, message}]`` — so clients parse one format.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from tagwise.errors import TagwiseError
from tagwise.feedback import InvalidTagsError

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://tagwise.dev/problems/"


class FieldError(BaseModel):
    """One invalid field of a request."""

    field: str = Field(examples=["title"])
    message: str = Field(examples=["String should have at least 1 character"])


class Problem(BaseModel):
    """An RFC 9457 problem details body."""

    type: str = Field(examples=[TYPE_BASE + "validation-error"])
    title: str = Field(examples=["Unprocessable Content"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["title: String should have at least 1 character"])
    errors: list[FieldError] = Field(default_factory=list)


def problem_response(
    status: int,
    detail: str,
    *,
    kind: str | None = None,
    errors: Iterable[tuple[str, str]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    """A problem+json response; ``kind`` names the problem type (default: the status)."""
    phrase = HTTPStatus(status).phrase if status in HTTPStatus._value2member_map_ else "Error"
    slug = kind or phrase.lower().replace(" ", "-").replace("'", "")
    body = {
        "type": TYPE_BASE + slug,
        "title": phrase,
        "status": status,
        "detail": detail,
        "errors": [{"field": f, "message": m} for f, m in errors],
    }
    return Response(json.dumps(body), status_code=status, media_type=PROBLEM_JSON, headers=headers)


def field_name(loc: Sequence[Any]) -> str:
    """``("body", "items", 3, "title")`` → ``items[3].title``; the location prefix is dropped."""
    parts = list(loc[1:] if loc and loc[0] in {"body", "query", "path", "header"} else loc)
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += f"[{p}]"
        else:
            out += f".{p}" if out else str(p)
    return out or (str(loc[0]) if loc else "body")


def _message(error: dict[str, Any]) -> str:
    """A validation error's message; the text patterns are explained, not quoted."""
    if error.get("type") == "string_pattern_mismatch":
        from tagwise.serving.schemas import LINE_PATTERN, TEXT_PATTERN, pattern_message

        if (error.get("ctx") or {}).get("pattern") in (LINE_PATTERN, TEXT_PATTERN):
            explained = pattern_message(error.get("input"))
            if explained:
                return explained
    return str(error.get("msg", "invalid"))


def _validation_handler(max_batch: int):
    async def handle(_: Request, exc: RequestValidationError) -> Response:
        errs = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errs):
            msg = next(
                e.get("ctx", {}).get("error", "") for e in errs if e["type"] == "json_invalid"
            )
            return problem_response(
                400,
                f"the body is not valid JSON ({msg})".replace(" ()", ""),
                kind="invalid-json",
                errors=[("body", "not valid JSON")],
            )
        for e in errs:
            if e.get("type") == "too_long" and tuple(e.get("loc", ())) == ("body", "items"):
                return problem_response(
                    413,
                    f"a batch holds at most {max_batch} items; split the request",
                    kind="batch-too-large",
                    errors=[("items", f"at most {max_batch} items")],
                )
        fields = [(field_name(e.get("loc", ())), _message(e)) for e in errs]
        detail = "; ".join(f"{f}: {m}" for f, m in fields[:5])
        if len(fields) > 5:
            detail += f"; and {len(fields) - 5} more"
        return problem_response(422, detail, kind="validation-error", errors=fields)

    return handle


RETRY_AFTER_S = 5
"""What a 503 (model or search index still loading) tells clients to wait."""

BODY_PARSE_FAILED = "There was an error parsing the body"
"""FastAPI's 400 when the body cannot be decoded at all (bad UTF-8, JSON nested past
the parser's depth, a number too long to convert): the same problem as invalid JSON."""


async def _http_handler(_: Request, exc: StarletteHTTPException) -> Response:
    if exc.status_code == 400 and exc.detail == BODY_PARSE_FAILED:
        return problem_response(
            400,
            "the body is not valid JSON (undecodable: bad UTF-8, too deeply nested, or a "
            "number too long)",
            kind="invalid-json",
            errors=[("body", "not valid JSON")],
        )
    detail = exc.detail if isinstance(exc.detail, str) else HTTPStatus(exc.status_code).phrase
    return problem_response(exc.status_code, detail, headers=getattr(exc, "headers", None))


async def _tagwise_handler(_: Request, exc: TagwiseError) -> Response:
    status = exc.http_status if 400 <= exc.http_status < 600 else 500
    if status >= 500 and status != 503:
        log.error("request failed: %s", exc.message)
    errors = exc.errors if isinstance(exc, InvalidTagsError) else ()
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    if status == 503:  # a model or the search index is loading: worth retrying soon
        headers = {"Retry-After": str(RETRY_AFTER_S)}
    kind = type(exc).__name__
    slug = "".join(f"-{c.lower()}" if c.isupper() else c for c in kind).lstrip("-")
    slug = slug.removesuffix("-error")
    return problem_response(status, exc.message, kind=slug, errors=errors, headers=headers)


async def _unexpected_handler(_: Request, exc: Exception) -> Response:
    log.exception("unhandled error")
    return problem_response(500, "internal error; the server log has the details")


def install_problem_handlers(app: FastAPI, *, max_batch: int) -> None:
    """Route every error class through :func:`problem_response` and document it so."""
    app.add_exception_handler(RequestValidationError, _validation_handler(max_batch))
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(TagwiseError, _tagwise_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
    _document_problems(app)


def _document_problems(app: FastAPI) -> None:
    """Make the schema say what the server does: every 4xx/5xx is ``Problem`` as problem+json.

    FastAPI documents its own 422 as ``HTTPValidationError`` in ``application/json``;
    this rewrites each error response once, when the schema is first built.
    """
    from fastapi.openapi.utils import get_openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        spec = get_openapi(
            title=app.title,
            version=app.version,
            summary=app.summary,
            description=app.description,
            routes=app.routes,
        )
        problem_ref = {"schema": {"$ref": "#/components/schemas/Problem"}}
        for operations in spec.get("paths", {}).values():
            for op in operations.values():
                responses = op.setdefault("responses", {})
                if op.get("parameters") or op.get("requestBody"):
                    responses.setdefault("422", {"description": "Invalid field(s)"})
                for code, response in responses.items():
                    if code[0] in "45":
                        response["content"] = {PROBLEM_JSON: problem_ref}
        components = spec.setdefault("components", {}).setdefault("schemas", {})
        for name in ("HTTPValidationError", "ValidationError"):
            components.pop(name, None)
        ref_template = "#/components/schemas/{model}"
        components["Problem"] = Problem.model_json_schema(ref_template=ref_template)
        components["FieldError"] = components["Problem"].pop("$defs")["FieldError"]
        app.openapi_schema = spec
        return spec

    app.openapi = openapi  # type: ignore[method-assign]


CLIENT_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "Invalid JSON", "content": {PROBLEM_JSON: {}}},
    413: {
        "model": Problem,
        "description": "Body or batch too large",
        "content": {PROBLEM_JSON: {}},
    },
    415: {"model": Problem, "description": "Not a JSON body", "content": {PROBLEM_JSON: {}}},
    422: {"model": Problem, "description": "Invalid field(s)", "content": {PROBLEM_JSON: {}}},
}
"""Responses every JSON-body route documents in the OpenAPI schema."""

NOT_READY: dict[int | str, dict[str, Any]] = {
    503: {"model": Problem, "description": "No model loaded yet", "content": {PROBLEM_JSON: {}}},
}
