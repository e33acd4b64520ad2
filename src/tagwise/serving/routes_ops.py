"""Operations: /healthz, /readyz, /metrics and the token-protected /v1/admin/reload."""

from __future__ import annotations

import secrets

from fastapi import APIRouter, Depends, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from tagwise.serving.deps import HolderDep, MetricsDep, SettingsDep
from tagwise.serving.errors import AdminDisabled, BadToken
from tagwise.serving.problems import NOT_READY
from tagwise.serving.schemas import Health, ReloadResponse
from tagwise.serving.views import model_ref

_bearer = HTTPBearer(auto_error=False, description="`serving.admin_token`")

AUTH_ERRORS = {
    401: {"description": "Missing or wrong token"},
    403: {"description": "Admin is disabled (no `serving.admin_token`)"},
}


def require_admin(
    settings: SettingsDep, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
) -> None:
    """403 when no token is configured (admin off); 401 for a missing or wrong token."""
    token = settings.serving.admin_token
    if token is None or not token.get_secret_value():
        raise AdminDisabled("admin endpoints are disabled: set serving.admin_token")
    given = credentials.credentials if credentials else ""
    if not secrets.compare_digest(given.encode(), token.get_secret_value().encode()):
        raise BadToken("missing or wrong bearer token")


def build_router() -> APIRouter:
    """The operations routes."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", response_model=Health, summary="The process is alive")
    async def healthz():
        return Health(status="ok")

    @router.get("/readyz", response_model=Health, responses=NOT_READY, summary="A model is loaded")
    async def readyz(holder: HolderDep):
        served = holder.get()
        return Health(status="ready", model=model_ref(served))

    @router.get(
        "/metrics",
        summary="Prometheus metrics",
        response_class=Response,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def metrics_text(metrics: MetricsDep):
        return Response(metrics.render(), media_type=metrics.content_type)

    @router.post(
        "/v1/admin/reload",
        response_model=ReloadResponse,
        responses={**AUTH_ERRORS, **NOT_READY},
        dependencies=[Depends(require_admin)],
        summary="Load the model again if its registry alias moved",
        description="With `force=true`, reload even if the version did not change.",
    )
    async def reload(holder: HolderDep, force: bool = False):
        result = await holder.reload(force=force)
        return ReloadResponse(
            previous=result.previous, current=result.current, swapped=result.swapped
        )

    return router
