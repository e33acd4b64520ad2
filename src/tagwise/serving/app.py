"""The FastAPI app factory: ``create_app(settings)`` builds one independent app.

Nothing happens at import. The lifespan opens the feedback store, loads the model
through a :class:`ModelHolder` and, for an alias reference, starts the watcher that
follows the registry. If the first load fails (no champion yet) the app still starts:
``/readyz`` and the model routes answer 503 until the watcher or an admin reload
succeeds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from tagwise import __version__
from tagwise.config import Settings
from tagwise.feedback import FeedbackStore
from tagwise.monitoring.predictions import Clock, PredictionLog, utc_now
from tagwise.serving import (
    routes_catalog,
    routes_feedback,
    routes_impact,
    routes_monitoring,
    routes_ops,
    routes_search,
    routes_suggest,
)
from tagwise.serving.guard import HeadAsGet, RequestGuard
from tagwise.serving.holder import ModelHolder, Served
from tagwise.serving.metrics import MetricsMiddleware, ServingMetrics
from tagwise.serving.problems import install_problem_handlers
from tagwise.serving.schemas import request_models
from tagwise.serving.stats_cache import StatsCache

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).parent / "static"


def create_app(
    settings: Settings,
    *,
    model_ref: str | None = None,
    store: FeedbackStore | None = None,
    clock: Clock = utc_now,
) -> FastAPI:
    """Build the app for ``settings``; ``model_ref`` overrides ``serving.model``.

    ``clock`` stamps logged predictions and feedback (a replay passes historical times).
    """
    cfg = settings.serving
    metrics = ServingMetrics()
    metrics.registry.register(routes_monitoring.MonitoringCollector(settings))

    def on_swap(served: Served) -> None:
        metrics.set_model(served.name, served.version)
        metrics.reloads.labels("swapped").inc()

    holder = ModelHolder(settings, model_ref or cfg.model, on_swap=on_swap)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.store = store or await asyncio.to_thread(
            lambda: FeedbackStore.from_url(settings.db_url).create()
        )
        app.state.predictions = None
        if settings.monitoring.log_predictions:
            app.state.predictions = await asyncio.to_thread(
                lambda: _prediction_log(app.state.store, settings, clock)
            )
        try:
            await holder.reload()
        except Exception as exc:
            metrics.reloads.labels("failed").inc()
            log.warning("no model loaded at startup: %s", exc)
        watcher = None
        if cfg.watch_interval > 0 and holder.watchable:
            watcher = asyncio.create_task(holder.watch(cfg.watch_interval))
        try:
            yield
        finally:
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher
            if app.state.predictions is not None:
                await asyncio.to_thread(app.state.predictions.close)  # flushes the queue
            if store is None:
                app.state.store.close()

    app = FastAPI(
        title="tagwise",
        version=__version__,
        summary="Tag suggestions for a catalogue of machine-learning projects",
        description="Errors are `application/problem+json` (RFC 9457). Limits are settings "
        f"(`serving.*`): title ≤ {cfg.max_title_chars} chars, description ≤ "
        f"{cfg.max_description_chars}, body ≤ {cfg.max_body_bytes} bytes, batch ≤ "
        f"{cfg.max_batch} items, 1 ≤ k ≤ {cfg.max_k}.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.metrics = metrics
    app.state.clock = clock
    app.state.predictions = None
    app.state.stats_cache = StatsCache(cfg.stats_ttl_s)

    models = request_models(cfg)
    app.include_router(routes_suggest.build_router(models))
    app.include_router(routes_feedback.build_router(models))
    app.include_router(routes_catalog.build_router())
    app.include_router(routes_ops.build_router())
    app.include_router(routes_monitoring.build_router())
    app.include_router(routes_search.build_router(settings))  # opens/builds the index
    app.include_router(routes_impact.build_router())
    _mount_ui(app)
    install_problem_handlers(app, max_batch=cfg.max_batch)
    app.add_middleware(RequestGuard, max_body_bytes=cfg.max_body_bytes, router=app.router)
    app.add_middleware(MetricsMiddleware, metrics=metrics)
    app.add_middleware(HeadAsGet)  # outermost: HEAD is a GET everywhere inside
    return app


def _prediction_log(store: FeedbackStore, settings: Settings, clock: Clock) -> PredictionLog:
    """The prediction log on the feedback store's database, writer thread started."""
    m = settings.monitoring
    return (
        PredictionLog(
            store.engine,
            flush_ms=m.flush_ms,
            batch_rows=m.batch_rows,
            retention_days=m.retention_days,
            max_rows=m.max_rows,
            clock=clock,
        )
        .create()
        .start()
    )


def _mount_ui(app: FastAPI) -> None:
    """The web page at ``/`` and its assets at ``/static`` (all local, no CDN)."""

    @app.get("/", include_in_schema=False)
    async def index() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html", media_type="text/html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR, check_dir=False), name="static")
