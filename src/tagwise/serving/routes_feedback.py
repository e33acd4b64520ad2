"""POST /v1/feedback: check the tags against the vocabulary, store, then acknowledge."""

from fastapi import APIRouter

from tagwise.feedback import FeedbackRecord, canonical_tags
from tagwise.serving.deps import (
    ClockDep,
    MetricsDep,
    PredictionsDep,
    ServedDep,
    StatsCacheDep,
    StoreDep,
)
from tagwise.serving.problems import CLIENT_ERRORS, NOT_READY
from tagwise.serving.schemas import FeedbackCreated, RequestModels


def build_router(models: RequestModels) -> APIRouter:
    """The feedback route, typed with this app's request model."""
    router = APIRouter(prefix="/v1", tags=["feedback"])
    FeedbackRequest = models.feedback

    # ``def``: the commit waits for fsync; that belongs in the threadpool, not the loop.
    @router.post(
        "/feedback",
        status_code=201,
        response_model=FeedbackCreated,
        responses={**CLIENT_ERRORS, **NOT_READY},
        summary="Record what the author accepted, removed and added",
        description="`suggested`, `accepted` and `added` must be vocabulary tags or aliases "
        "(else 422); they are stored canonical, a tag both accepted and added once, and "
        "(when `suggested` is sent) an accepted tag missing from it as added. "
        "The 201 is sent only after the record is committed durably.",
    )
    def post_feedback(
        body: FeedbackRequest,  # type: ignore[valid-type]
        served: ServedDep,
        store: StoreDep,
        stats_cache: StatsCacheDep,
        metrics: MetricsDep,
        predictions: PredictionsDep,
        clock: ClockDep,
    ):
        bundle = served.bundle
        # All three lists canonical: an alias in `suggested` ("cv") must count as the
        # tag it names in /v1/stats, and junk there would become a "tag" of its own.
        tags = canonical_tags(
            bundle.taxonomy,
            {"suggested": body.suggested, "accepted": body.accepted, "added": body.added},
            fallback=bundle.labels.labels,
        )
        shown = set(tags["suggested"])
        # An "accepted" tag the client says was never shown is one the author chose: it
        # is stored as added, so /v1/stats counts it as missed (not silently dropped) and
        # the final tags (accepted + added) are the same. A client that does not say
        # what it showed (no `suggested`) is taken at its word.
        accepted = tuple(t for t in tags["accepted"] if not shown or t in shown)
        chosen = [t for t in tags["accepted"] if t not in accepted] + list(tags["added"])
        record = FeedbackRecord(
            title=body.title,
            description=body.description,
            suggested=tags["suggested"],
            accepted=accepted,
            added=tuple(t for t in dict.fromkeys(chosen) if t not in accepted),  # once
            project_id=body.project_id,
            model_version=served.version,
        )
        new_id = store.add(record, created=clock())
        stats_cache.invalidate()  # committed: the next /v1/stats counts it
        if predictions is not None and body.prediction_id:
            predictions.link(body.prediction_id, new_id)  # also linkable later by digest
        metrics.feedback.inc()
        return FeedbackCreated(id=new_id)

    return router
