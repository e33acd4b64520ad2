"""GET /v1/tags, /v1/tags/{tag} and /v1/models: what the served model knows."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path

from tagwise.serving.deps import HolderDep, ServedDep, SettingsDep
from tagwise.serving.problems import NOT_READY
from tagwise.serving.schemas import ModelsResponse, TagDetail, TagsResponse
from tagwise.serving.views import models_listing, tag_detail, tags_listing

NOT_FOUND = {404: {"description": "Unknown tag"}}


def build_router() -> APIRouter:
    """The catalogue routes."""
    router = APIRouter(prefix="/v1", tags=["catalogue"])

    @router.get(
        "/tags", response_model=TagsResponse, responses=NOT_READY, summary="Labels and vocabulary"
    )
    def list_tags(served: ServedDep):
        return tags_listing(served)

    @router.get(
        "/tags/{tag}",
        response_model=TagDetail,
        responses={**NOT_READY, **NOT_FOUND},
        summary="One tag, by name or alias",
    )
    def get_tag(
        tag: Annotated[str, Path(min_length=1, max_length=100, examples=["nlp"])],
        served: ServedDep,
    ):
        return tag_detail(served.bundle, tag)

    @router.get("/models", response_model=ModelsResponse, summary="Registered model versions")
    def list_models(holder: HolderDep, settings: SettingsDep):
        versions = []
        if settings.tracking.enabled:
            from tagwise.tracking import Tracker

            versions = Tracker.from_settings(settings).versions()
        return models_listing(
            holder.served, versions, name=settings.tracking.registered_model, ref=holder.ref
        )

    return router
