"""POST /v1/suggest and /v1/suggest/batch: the one serving path, ``bundle.suggest_all``.

Head tags (after the decision policy) and, unless the request turns them off,
low-confidence long-tail tags from outside the label space, in a list of their own.

Each answered project is queued on the prediction log (when on); the queue put is the
only cost on the request path — the writer thread commits in batches.
"""

import time

from fastapi import APIRouter

from tagwise.monitoring.predictions import Prediction, new_prediction_id
from tagwise.serving.deps import ClockDep, MetricsDep, PredictionsDep, ServedDep
from tagwise.serving.problems import CLIENT_ERRORS, NOT_READY
from tagwise.serving.schemas import BatchResponse, RequestModels, SuggestResponse
from tagwise.serving.views import long_tail_tags, model_ref, tag_scores


def build_router(models: RequestModels) -> APIRouter:
    """The suggestion routes, typed with this app's request models."""
    router = APIRouter(prefix="/v1", tags=["suggest"], responses={**CLIENT_ERRORS, **NOT_READY})
    SuggestRequest = models.suggest
    BatchRequest = models.batch

    # ``async def``: one TF-IDF suggestion is ~1–2 ms of CPU, cheaper than a thread hop.
    @router.post("/suggest", response_model=SuggestResponse, summary="Suggest tags for a project")
    async def suggest(
        body: SuggestRequest,  # type: ignore[valid-type]
        served: ServedDep,
        metrics: MetricsDep,
        predictions: PredictionsDep,
        clock: ClockDep,
    ):
        start = time.perf_counter()
        answer = served.bundle.suggest_all(
            [(body.title, body.description)],
            k=body.k,
            min_score=body.min_score,
            long_tail=body.long_tail,
        )
        rows = answer.tags
        metrics.observe_suggestions("suggest", rows, answer.long_tail)
        took_ms = (time.perf_counter() - start) * 1000
        ids = _log(
            predictions,
            clock,
            served,
            [(body.title, body.description)],
            answer,
            took_ms,
        )
        return SuggestResponse(
            tags=tag_scores(rows[0]),
            long_tail=long_tail_tags(answer.long_tail[0]),
            model=model_ref(served),
            took_ms=took_ms,
            prediction_id=ids[0] if ids else None,
        )

    # plain ``def``: a 1000-item batch takes long enough to belong in the threadpool.
    @router.post(
        "/suggest/batch",
        response_model=BatchResponse,
        summary="Suggest tags for many projects",
        description="Up to `serving.max_batch` items; a larger batch gets 413.",
    )
    def suggest_batch(
        body: BatchRequest,  # type: ignore[valid-type]
        served: ServedDep,
        metrics: MetricsDep,
        predictions: PredictionsDep,
        clock: ClockDep,
    ):
        start = time.perf_counter()
        projects = [(p.title, p.description) for p in body.items]
        answer = served.bundle.suggest_all(
            projects, k=body.k, min_score=body.min_score, long_tail=body.long_tail
        )
        rows = answer.tags
        metrics.observe_suggestions("batch", rows, answer.long_tail)
        took_ms = (time.perf_counter() - start) * 1000
        ids = _log(predictions, clock, served, projects, answer, took_ms / len(projects))
        return BatchResponse(
            results=[tag_scores(r) for r in rows],
            long_tail=[long_tail_tags(r) for r in answer.long_tail],
            model=model_ref(served),
            took_ms=took_ms,
            prediction_ids=ids,
        )

    return router


def _log(predictions, clock, served, projects, answer, latency_ms) -> list[str] | None:
    """Queue one log row per answered project; returns their ids (None when logging is off)."""
    if predictions is None:
        return None
    now = clock()
    ids = []
    for (title, description), row, score, tail in zip(
        projects, answer.tags, answer.top, answer.long_tail, strict=True
    ):
        pid = new_prediction_id()
        predictions.record(
            Prediction(
                id=pid,
                created=now,
                title=title,
                description=description,
                tags=tuple((s.tag, s.score) for s in row),
                long_tail=tuple((t.tag, t.score, t.source) for t in tail),
                top_score=float(score),
                model_version=served.version,
                latency_ms=latency_ms,
            )
        )
        ids.append(pid)
    return ids
