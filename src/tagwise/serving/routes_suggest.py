"""POST /v1/suggest and /v1/suggest/batch: the one serving path, ``bundle.suggest``."""

import time

from fastapi import APIRouter

from tagwise.serving.deps import MetricsDep, ServedDep
from tagwise.serving.problems import CLIENT_ERRORS, NOT_READY
from tagwise.serving.schemas import BatchResponse, RequestModels, SuggestResponse
from tagwise.serving.views import model_ref, tag_scores


def build_router(models: RequestModels) -> APIRouter:
    """The suggestion routes, typed with this app's request models."""
    router = APIRouter(prefix="/v1", tags=["suggest"], responses={**CLIENT_ERRORS, **NOT_READY})
    SuggestRequest = models.suggest
    BatchRequest = models.batch

    # ``async def``: one TF-IDF suggestion is ~1–2 ms of CPU, cheaper than a thread hop.
    @router.post("/suggest", response_model=SuggestResponse, summary="Suggest tags for a project")
    async def suggest(body: SuggestRequest, served: ServedDep, metrics: MetricsDep):  # type: ignore[valid-type]
        start = time.perf_counter()
        rows = served.bundle.suggest(
            [(body.title, body.description)], k=body.k, min_score=body.min_score
        )
        metrics.observe_suggestions("suggest", rows)
        return SuggestResponse(
            tags=tag_scores(rows[0]),
            model=model_ref(served),
            took_ms=(time.perf_counter() - start) * 1000,
        )

    # plain ``def``: a 1000-item batch takes long enough to belong in the threadpool.
    @router.post(
        "/suggest/batch",
        response_model=BatchResponse,
        summary="Suggest tags for many projects",
        description="Up to `serving.max_batch` items; a larger batch gets 413.",
    )
    def suggest_batch(body: BatchRequest, served: ServedDep, metrics: MetricsDep):  # type: ignore[valid-type]
        start = time.perf_counter()
        rows = served.bundle.suggest(
            [(p.title, p.description) for p in body.items], k=body.k, min_score=body.min_score
        )
        metrics.observe_suggestions("batch", rows)
        return BatchResponse(
            results=[tag_scores(r) for r in rows],
            model=model_ref(served),
            took_ms=(time.perf_counter() - start) * 1000,
        )

    return router
