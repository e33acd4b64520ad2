"""Dependency aliases: what a route may ask for, read from the app that serves it.

Everything lives on ``app.state`` (set by :func:`tagwise.serving.app.create_app`), never
in module globals, so two apps in one process — as in the tests — stay independent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from tagwise.config import Settings
from tagwise.feedback import FeedbackStore
from tagwise.serving.holder import ModelHolder, Served
from tagwise.serving.metrics import ServingMetrics


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


def get_metrics(request: Request) -> ServingMetrics:
    """The app's Prometheus collectors."""
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
HolderDep = Annotated[ModelHolder, Depends(get_holder)]
ServedDep = Annotated[Served, Depends(get_served)]
StoreDep = Annotated[FeedbackStore, Depends(get_store)]
MetricsDep = Annotated[ServingMetrics, Depends(get_metrics)]
