"""What the suggestions are worth: ``GET /v1/stats`` (online, from feedback) and
``GET /v1/impact`` (offline, the latest ``tagwise impact`` run).

Both only read: the statistics aggregate the feedback table's tag columns (kept for
``serving.stats_ttl_s`` on the app, see :mod:`.stats_cache`), the discoverability
evaluation takes seconds and runs in the CLI, never on a request.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query

from tagwise.errors import TagwiseError
from tagwise.feedback.stats import feedback_stats
from tagwise.impact_run import load_impact
from tagwise.serving.deps import SettingsDep, StatsCacheDep, StoreDep
from tagwise.serving.problems import CLIENT_ERRORS
from tagwise.serving.search_schemas import (
    ImpactResponse,
    MissedTag,
    PeriodAcceptance,
    StatsResponse,
    TagAcceptance,
)

MAX_STATS_RECORDS = 200_000
"""The newest records the statistics read (bounds one request's work)."""


class ImpactNotComputed(TagwiseError):
    """``tagwise impact`` has not been run for this home yet."""

    http_status = 404


def build_router() -> APIRouter:
    """The impact routes."""
    router = APIRouter(prefix="/v1", tags=["impact"])

    @router.get(
        "/stats",
        response_model=StatsResponse,
        responses={422: CLIENT_ERRORS[422]},
        summary="Acceptance of suggestions, missed tags, tags per project (from feedback)",
        description=f"Over the newest {MAX_STATS_RECORDS:,} feedback records. `period` "
        "buckets acceptance by day or ISO week (UTC); `top` bounds the per-tag lists. "
        "Reused for `serving.stats_ttl_s` seconds; feedback posted here clears it at once.",
    )
    def stats(
        store: StoreDep,
        cache: StatsCacheDep,
        period: Annotated[Literal["day", "week"], Query(description="Time bucket")] = "day",
        top: Annotated[int, Query(ge=1, le=100, description="Tags per list")] = 20,
    ):
        s = cache.get(
            (period, top),
            lambda: feedback_stats(store.verdicts(limit=MAX_STATS_RECORDS), period=period, top=top),
        )
        return StatsResponse(
            records=s.records,
            suggested=s.suggested,
            accepted=s.accepted,
            acceptance_rate=s.acceptance_rate,
            period=s.period,
            over_time=[
                PeriodAcceptance(
                    start=p.start,
                    records=p.records,
                    suggested=p.suggested,
                    accepted=p.accepted,
                    rate=p.rate,
                )
                for p in s.over_time
            ],
            per_tag=[
                TagAcceptance(tag=t, suggested=n, accepted=k, rate=k / n) for t, n, k in s.per_tag
            ],
            missed_tags=[MissedTag(tag=t, count=n) for t, n in s.missed],
            avg_tags_suggested=s.avg_suggested,
            avg_tags_final=s.avg_final,
        )

    @router.get(
        "/impact",
        response_model=ImpactResponse,
        responses={404: {"description": "`tagwise impact` has not run yet"}},
        summary="The latest discoverability evaluation (summary, tables, plot)",
    )
    def impact(settings: SettingsDep):
        payload = load_impact(settings.home)
        if payload is None:
            raise ImpactNotComputed(
                "no discoverability evaluation yet: run `tagwise impact` on the server's home"
            )
        return payload

    return router
