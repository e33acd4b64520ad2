"""``tagwise monitor``: read the log, build windows, run the drift tests, report, alert.

The shell around the pure pieces (:mod:`windows`, :mod:`drift`, :mod:`report`). Its
output is a report HTML and a small state file (``<home>/monitoring/latest.json``)
that the server reads for ``/monitoring``, ``GET /v1/monitoring`` and ``/metrics`` —
so the server never runs the (seconds-long) statistics on a request.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from tagwise.bundle import ModelBundle
from tagwise.config import Settings
from tagwise.fileio import atomic_write_text
from tagwise.monitoring.drift import (
    Reference,
    Thresholds,
    Window,
    WindowReport,
    check_window,
    reference_from_dict,
)
from tagwise.monitoring.predictions import (
    LoggedFeedback,
    read_feedback,
    read_predictions,
    utc_now,
)
from tagwise.monitoring.report import MonitoringData, write_monitoring_report
from tagwise.monitoring.uptake import suggestion_uptake, uptake_by
from tagwise.monitoring.windows import (
    build_windows,
    observations,
    parse_window,
    window_label,
    window_start,
)

log = logging.getLogger(__name__)


def state_dir(settings: Settings) -> Path:
    """Where the monitor's report and state live."""
    return settings.home / "monitoring"


def state_path(settings: Settings) -> Path:
    """The JSON the server exposes."""
    return state_dir(settings) / "latest.json"


def report_path(settings: Settings) -> Path:
    """The latest HTML report (served at ``/monitoring``)."""
    return state_dir(settings) / "report.html"


def load_state(settings: Settings) -> dict[str, Any] | None:
    """The last monitor run's state, or None if the monitor never ran."""
    try:
        return json.loads(state_path(settings).read_text())
    except (OSError, ValueError):
        return None


def thresholds(settings: Settings) -> Thresholds:
    """Drift thresholds from settings."""
    m = settings.monitoring
    return Thresholds(
        family_alpha=m.family_alpha,
        domain_auc=m.domain_auc,
        f1_drop=m.f1_drop,
        oov_increase=m.oov_increase,
        min_window=m.min_window,
    )


def final_tags_for(bundle: ModelBundle):
    """P1 labels of a feedback row in the model's label space (what its reference used)."""
    labels = set(bundle.labels.labels)
    tax = bundle.taxonomy

    def final(fb: LoggedFeedback) -> tuple[str, ...]:
        tags = tax.closure(fb.final) if tax.entries else set(fb.final)
        return tuple(sorted(tags & labels))

    return final


def feedback_quality(batches: dict[str, Sequence[LoggedFeedback]]) -> list[dict]:
    """The loader's validation on each batch of feedback → ``{batch, reason, count}`` rows."""
    from tagwise.data.validate import reason_categories, validate_records

    out = []
    for batch, rows in batches.items():
        records = [feedback_record(fb) for fb in rows]
        _, bad = validate_records(records, mode="multi")
        counts = Counter(c for q in bad for c in reason_categories(q.reason))
        out += [{"batch": batch, "reason": r, "count": n} for r, n in sorted(counts.items())]
    return out


FEEDBACK_ID_OFFSET = 1_000_000_000


def feedback_record(fb: LoggedFeedback) -> dict[str, Any]:
    """A feedback row as a raw project record (what ``retrain`` trains on).

    The project keeps its own id when the author's client sent a numeric one (so a
    re-tagged project replaces its old row); otherwise the feedback id, offset so it
    cannot collide with catalogue ids.
    """
    pid = fb.project_id
    ident = int(pid) if pid is not None and pid.isdigit() else FEEDBACK_ID_OFFSET + fb.id
    return {
        "id": ident,
        "created_on": fb.created.isoformat(),
        "title": fb.title,
        "description": fb.description,
        "tags": list(fb.final),
    }


@dataclass
class MonitorResult:
    """What one monitor run found."""

    reports: list[WindowReport]
    windows: list[Window]
    new_alerts: list[WindowReport]
    report: Path | None
    state: dict[str, Any]
    quarantine: list[dict] = field(default_factory=list)


def report_to_dict(r: WindowReport) -> dict[str, Any]:
    """JSON form of one window's verdicts."""
    return {
        "label": r.label,
        "n": r.n,
        "alert": r.alert,
        "fired": r.fired(),
        "performance": r.performance,
        "tests": [
            {
                **asdict(t),
                "statistic": float(t.statistic),
                "drifted": bool(t.drifted),
                "p_value": None if t.p_value is None else float(t.p_value),
            }
            for t in r.tests
        ],
    }


def check_windows(
    reference: Reference, windows: Sequence[Window], th: Thresholds
) -> list[WindowReport]:
    """Drift tests on each window (seeded by position, so a rerun gives the same verdicts)."""
    return [check_window(reference, w, th, seed=i) for i, w in enumerate(windows)]


def run_monitor(
    settings: Settings,
    *,
    bundle: ModelBundle | None = None,
    version: str | None = None,
    window: str | None = None,
    out: Path | None = None,
    all_versions: bool = False,
    since: datetime | None = None,
    notify: bool = True,
    clock=utc_now,
) -> MonitorResult:
    """One monitoring pass over the log against the serving model's reference.

    By default only predictions of the serving version are checked: its reference
    describes *its* behaviour, and an older model's suggestions would look drifted.
    """
    from tagwise.feedback.store import make_engine
    from tagwise.loading import load_model, served_identity

    if bundle is None:
        bundle, version = load_model(settings.serving.model, settings)
        _, version = served_identity(settings.serving.model, bundle, version, settings)
    if bundle.reference is None:
        from tagwise.errors import ConfigError

        raise ConfigError("the serving model has no drift reference; retrain it")
    reference = reference_from_dict(bundle.reference)
    size = parse_window(window or settings.monitoring.window)
    engine = make_engine(settings.db_url)
    try:
        from tagwise.feedback.store import create_tables

        create_tables(engine)
        preds = read_predictions(
            engine, since=since, versions=None if all_versions or version is None else [version]
        )
        feedback = read_feedback(engine, since=since)
    finally:
        engine.dispose()
    obs = observations(preds, feedback, final_tags_for(bundle))
    grouped = build_windows(obs, size, min_n=settings.monitoring.min_window)
    windows = [w for _, w in grouped]
    reports = check_windows(reference, windows, thresholds(settings))
    batches: dict[str, list[LoggedFeedback]] = {}
    for fb in feedback:
        batches.setdefault(window_label(window_start(fb.created, size)), []).append(fb)
    quarantine = feedback_quality(batches)
    uptake = [u.to_dict() for u in suggestion_uptake(preds, feedback, bundle.taxonomy)]
    uptake_windows = {
        label: [u.to_dict() for u in rows]
        for label, rows in uptake_by(
            preds,
            feedback,
            bundle.taxonomy,
            key=lambda p: window_label(window_start(p.created, size)),
        ).items()
    }
    previous = load_state(settings) or {}
    seen = set(previous.get("alerted_windows", []))
    totals = Counter(previous.get("alerts_total", {}))
    new_alerts = [r for r in reports if r.alert and f"{version}:{r.label}" not in seen]
    for r in new_alerts:
        totals.update(r.fired())
        seen.add(f"{version}:{r.label}")
        log.warning("drift alert in window %s (n=%d): %s", r.label, r.n, ", ".join(r.fired()))
    data = MonitoringData(
        title="tagwise monitoring",
        reference=reference,
        windows=windows,
        reports=reports,
        notes=[
            f"model version {version}; window {window or settings.monitoring.window}; "
            f"{len(preds)} logged predictions, {len(feedback)} feedback rows; windows with "
            f"fewer than {settings.monitoring.min_window} predictions skipped."
        ],
        quarantine=quarantine,
        uptake=uptake,
        uptake_windows=uptake_windows,
        min_labelled=thresholds(settings).min_window,
    )
    path = None
    if reports:
        path = write_monitoring_report(data, out or report_path(settings))
        if out is not None and out != report_path(settings):
            atomic_write_text(report_path(settings), path.read_text())
    state = {
        "updated": clock().isoformat(timespec="seconds"),
        "model_version": version,
        "window": window or settings.monitoring.window,
        "n_predictions": len(preds),
        "n_feedback": len(feedback),
        "windows": [
            {**report_to_dict(r), "uptake": uptake_windows.get(r.label, [])} for r in reports
        ],
        "alerts_total": dict(totals),
        "alerted_windows": sorted(seen),
        "quarantine": quarantine,
        "uptake": uptake,
    }
    state_dir(settings).mkdir(parents=True, exist_ok=True)
    atomic_write_text(state_path(settings), json.dumps(state, indent=1, default=str))
    if notify and new_alerts and settings.monitoring.webhook_url:
        post_webhook(settings, [report_to_dict(r) for r in new_alerts], version)
    return MonitorResult(reports, windows, new_alerts, path, state, quarantine)


def post_webhook(settings: Settings, alerts: list[dict], version: str | None) -> bool:
    """POST the new alerts as JSON; a failure is logged, never raised (monitoring goes on)."""
    import httpx

    url = settings.monitoring.webhook_url
    if not url:
        return False
    body = {"source": "tagwise", "model_version": version, "alerts": alerts}
    try:
        r = httpx.post(url, json=body, timeout=settings.monitoring.webhook_timeout)
        r.raise_for_status()
        return True
    except httpx.HTTPError as exc:
        log.error("alert webhook %s failed: %s", url, exc)
        return False
