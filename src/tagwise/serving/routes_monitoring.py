"""``/monitoring`` (the latest report), ``GET /v1/monitoring`` (its state) and the
monitoring series on ``/metrics``.

The server only *reads* what ``tagwise monitor`` wrote under ``<home>/monitoring``:
the drift statistics take seconds and must never run on a request.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

from tagwise.config import Settings
from tagwise.serving.deps import SettingsDep


def _empty_page() -> str:
    """The page before ``tagwise monitor`` has written a report (the shared header)."""
    from tagwise.monitoring.report import PAGE_HEADER

    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tagwise monitoring</title><link rel="icon" href="data:,">
<link rel="stylesheet" href="static/style.css"><link rel="stylesheet" href="static/search.css">
</head><body>
{PAGE_HEADER}
<main class="layout"><section class="card"><h1 class="card-title">Monitoring</h1>
<p>No monitoring report yet. Run <code>tagwise monitor</code> (it reads the prediction log
and the feedback, runs the drift tests and writes the report this page shows).</p>
</section></main></body></html>"""


class MonitoringCollector:
    """Prometheus collector: per test the last window's statistic and the alert count."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def collect(self):
        from tagwise.monitoring.monitor import load_state

        state = load_state(self.settings) or {}
        stat = GaugeMetricFamily(
            "tagwise_drift_statistic",
            "Drift test statistic of the latest monitored window",
            labels=["test"],
        )
        pval = GaugeMetricFamily(
            "tagwise_drift_p_value", "p-value of the latest window's test", labels=["test"]
        )
        fired = GaugeMetricFamily(
            "tagwise_drift_alert", "1 if the test fired on the latest window", labels=["test"]
        )
        windows = state.get("windows") or []
        if windows:
            for t in windows[-1]["tests"]:
                stat.add_metric([t["name"]], float(t["statistic"]))
                if t.get("p_value") is not None:
                    pval.add_metric([t["name"]], float(t["p_value"]))
                fired.add_metric([t["name"]], 1.0 if t["drifted"] else 0.0)
        alerts = CounterMetricFamily(
            "tagwise_drift_alerts", "Alerts raised per drift test", labels=["test"]
        )
        for name, n in (state.get("alerts_total") or {}).items():
            alerts.add_metric([name], float(n))
        kept = GaugeMetricFamily(
            "tagwise_suggestions_kept_ratio",
            "Share of shown tags the authors kept, per kind (head, zero-shot, few-shot)",
            labels=["kind"],
        )
        for u in state.get("uptake") or []:
            if u.get("rate") is not None:
                kept.add_metric([u["kind"]], float(u["rate"]))
        kept_window = GaugeMetricFamily(
            "tagwise_suggestions_kept_ratio_window",
            "Share of shown tags the authors kept in the latest monitored window, per kind",
            labels=["kind"],
        )
        for u in (windows[-1].get("uptake") or []) if windows else []:
            if u.get("rate") is not None:
                kept_window.add_metric([u["kind"]], float(u["rate"]))
        yield from (stat, pval, fired, alerts, kept, kept_window)

    def describe(self):
        return []


def build_router() -> APIRouter:
    """The monitoring routes."""
    router = APIRouter(tags=["monitoring"])

    @router.get("/monitoring", include_in_schema=False, response_class=HTMLResponse)
    def monitoring_page(settings: SettingsDep) -> HTMLResponse:
        from tagwise.monitoring.monitor import report_path

        try:
            return HTMLResponse(report_path(settings).read_text())
        except OSError:
            return HTMLResponse(_empty_page())

    @router.get(
        "/v1/monitoring",
        summary="The latest monitoring state: drift tests per window, alert counts",
        description="Written by `tagwise monitor`; `{}`-like with `windows: []` before its "
        "first run.",
    )
    def monitoring_state(settings: SettingsDep) -> dict[str, Any]:
        from tagwise.monitoring.monitor import load_state

        return load_state(settings) or {"windows": [], "alerts_total": {}}

    return router
