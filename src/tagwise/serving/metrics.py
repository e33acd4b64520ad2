"""Prometheus metrics of one app, in its own registry (two apps in a process never mix).

Recorded by a pure ASGI middleware (cheaper than ``BaseHTTPMiddleware``) keyed by the
route *template* (``/v1/tags/{tag}``), so label cardinality stays bounded whatever
paths clients send.
"""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from starlette.types import ASGIApp, Message, Receive, Scope, Send

LATENCY_BUCKETS = (0.001, 0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1, 5)


class ServingMetrics:
    """The app's collectors; ``render`` gives the text exposition format."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "tagwise_http_requests", "HTTP requests", ["route", "method", "status"], registry=r
        )
        self.latency = Histogram(
            "tagwise_http_request_duration_seconds",
            "Time from request to the end of the response",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.model_info = Gauge(
            "tagwise_model_info",
            "The model being served (value 1)",
            ["name", "version"],
            registry=r,
        )
        self.projects = Counter(
            "tagwise_suggest_projects", "Projects scored", ["endpoint"], registry=r
        )
        self.suggestions = Counter(
            "tagwise_suggestions", "Tags suggested", ["endpoint"], registry=r
        )
        self.long_tail = Counter(
            "tagwise_long_tail_suggestions",
            "Long-tail (low-confidence) tags suggested",
            ["endpoint"],
            registry=r,
        )
        self.feedback = Counter("tagwise_feedback", "Feedback records stored", registry=r)
        self.reloads = Counter(
            "tagwise_model_reloads", "Model (re)load attempts", ["result"], registry=r
        )

    def set_model(self, name: str, version: str) -> None:
        """Point the info gauge at the served model (one series at a time)."""
        self.model_info.clear()
        self.model_info.labels(name=name, version=version).set(1)

    def observe_suggestions(self, endpoint: str, rows: list, long_tail: list = ()) -> None:
        """Count projects, suggested tags and long-tail tags of one answered request."""
        if long_tail:
            self.long_tail.labels(endpoint).inc(sum(len(r) for r in long_tail))
        self.projects.labels(endpoint).inc(len(rows))
        self.suggestions.labels(endpoint).inc(sum(len(r) for r in rows))

    def render(self) -> bytes:
        """The exposition text of this app's registry."""
        return generate_latest(self.registry)


class MetricsMiddleware:
    """Counts requests and observes latency per route template, method and status."""

    def __init__(self, app: ASGIApp, metrics: ServingMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            method = scope.get("method", "")
            self.metrics.requests.labels(template, method, str(status)).inc()
            self.metrics.latency.labels(template, method).observe(time.perf_counter() - start)
