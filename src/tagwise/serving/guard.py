"""Request guard: refuse oversized and non-JSON bodies before anything parses them.

A pure ASGI middleware, so a 100 MB upload is cut off at the first chunk past the
limit instead of being buffered, and a wrong ``Content-Type`` is a clear 415 rather
than a confusing validation error.
"""

from __future__ import annotations

from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tagwise.serving.problems import problem_response

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def _is_json(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (
        media.startswith("application/") and media.endswith("+json")
    )


def _replay(body: bytes, receive: Receive) -> Receive:
    """A ``receive`` that yields the buffered body once, then defers to the server."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


class RequestGuard:
    """413 past ``max_body_bytes``; 415 for a body that is not JSON."""

    def __init__(self, app: ASGIApp, *, max_body_bytes: int, router: Any = None) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.router = router

    def _routed(self, scope: Scope) -> bool:
        """Whether a route takes this method at this path: else the router's 404/405 is
        the right answer, not a verdict on a body nobody would read."""
        if self.router is None:
            return True
        from starlette.routing import Match

        return any(route.matches(scope)[0] == Match.FULL for route in self.router.routes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope.get("method") not in BODY_METHODS
            or not self._routed(scope)
        ):
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        length = headers.get("content-length")
        chunked = "chunked" in headers.get("transfer-encoding", "").lower()
        if length is not None and not length.isdigit():
            await problem_response(400, "invalid Content-Length header")(scope, receive, send)
            return
        has_body = chunked or (length is not None and int(length) > 0)
        if has_body and not _is_json(headers.get("content-type", "")):
            got = headers.get("content-type") or "none"
            response = problem_response(
                415,
                f"send the body as application/json (got Content-Type: {got})",
                kind="unsupported-media-type",
                errors=[("content-type", "must be application/json")],
            )
            await response(scope, receive, send)
            return
        if length is not None and int(length) > self.max_body_bytes:
            await self._too_large(scope, receive, send)
            return
        if length is None and chunked:
            body = await self._read_limited(receive)
            if body is None:
                await self._too_large(scope, receive, send)
                return
            receive = _replay(body, receive)
        await self.app(scope, receive, send)

    async def _read_limited(self, receive: Receive) -> bytes | None:
        """The whole chunked body, or None as soon as it passes the limit."""
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return b"".join(chunks)
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                return b"".join(chunks)

    async def _too_large(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = problem_response(
            413,
            f"the request body is over {self.max_body_bytes} bytes",
            kind="body-too-large",
            errors=[("body", f"at most {self.max_body_bytes} bytes")],
        )
        await response(scope, receive, send)


class HeadAsGet:
    """``HEAD`` answers wherever ``GET`` does: the same status and headers, no body.

    RFC 9110 asks it of every GET resource, and load balancers probe health with it;
    FastAPI routes declare GET only (Starlette's own routes add HEAD, its static files
    too). The request runs as a GET and the body is dropped on the way out, so the
    ``content-length`` is the one a GET would get.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] != "HEAD":
            await self.app(scope, receive, _allow_head(send))
            return

        async def without_body(message: Message) -> None:
            if message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        await self.app({**scope, "method": "GET"}, receive, without_body)


def _allow_head(send: Send) -> Send:
    """A 405's ``Allow`` names HEAD wherever it names GET (HEAD works there)."""

    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 405:
            headers = list(message.get("headers", []))
            for i, (key, value) in enumerate(headers):
                methods = [m.strip() for m in value.decode("latin-1").split(",")]
                if key.lower() == b"allow" and "GET" in methods and "HEAD" not in methods:
                    headers[i] = (key, ", ".join([*methods, "HEAD"]).encode("latin-1"))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped
