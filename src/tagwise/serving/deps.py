"""Dependency aliases: what a route may ask for, read from the app that serves it.

Everything lives on ``app.state`` (set by :func:`tagwise.serving.app.create_app`), never
in module globals, so two apps in one process — as in the tests — stay independent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tagwise.config import Settings
from tagwise.feedback import FeedbackStore
from tagwise.search import CatalogueIndex
from tagwise.serving.holder import ModelHolder, Served
from tagwise.serving.metrics import ServingMetrics
from tagwise.serving.stats_cache import StatsCache


def get_settings(request: Request) -> Settings:
    """The app's settings."""
    return request.app.state.settings


def get_holder(request: Request) -> ModelHolder:
    """The app's model holder."""
    return request.app.state.holder


def get_served(request: Request) -> Served:
    """The model for this request, read once: a swap mid-request does not affect it."""
    return request.app.state.holder.get()


def get_store(request: Request) -> FeedbackStore:
    """The feedback store."""
    return request.app.state.store


def get_stats_cache(request: Request) -> StatsCache:
    """The app's ``/v1/stats`` cache (cleared by every feedback write)."""
    return request.app.state.stats_cache


def get_metrics(request: Request) -> ServingMetrics:
    """The app's Prometheus collectors."""
    return request.app.state.metrics


def get_predictions(request: Request):
    """The prediction log (:class:`tagwise.monitoring.predictions.PredictionLog`) or None."""
    return getattr(request.app.state, "predictions", None)


def get_clock(request: Request):
    """The app's clock (UTC now unless a replay injected one)."""
    return request.app.state.clock


def get_index(request: Request):
    """The catalogue index (:class:`tagwise.search.CatalogueIndex`); 503 until it is ready."""
    from tagwise.serving.search_state import SearchNotReady

    state = getattr(request.app.state, "search", None)
    if state is None:
        raise SearchNotReady("the search index is not open (the app has not started)")
    return state.get()


SettingsDep = Annotated[Settings, Depends(get_settings)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
ServedDep = Annotated[Served, Depends(get_served)]
StoreDep = Annotated[FeedbackStore, Depends(get_store)]
StatsCacheDep = Annotated[StatsCache, Depends(get_stats_cache)]
MetricsDep = Annotated[ServingMetrics, Depends(get_metrics)]
PredictionsDep = Annotated[object | None, Depends(get_predictions)]
ClockDep = Annotated[object, Depends(get_clock)]
IndexDep = Annotated[CatalogueIndex, Depends(get_index)]
