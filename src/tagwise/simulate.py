"""``tagwise simulate``: replay the catalogue through the real service, week by week.

The bundled projects are streamed in ``created_on`` order through the app in-process
(FastAPI ``TestClient``, so the real routes, prediction log, feedback store and hot swap
run) with an injected clock set to each project's creation time. Feedback is what the
author would have done: ``accepted`` = suggested ∩ the author's P1 tags, ``added`` =
the author's P1 tags − suggested. The model is trained only on projects before
``cutoff``; at the end of every window the monitor runs on the log, and with
``retrain`` an alert (or a schedule) triggers :func:`tagwise.retrain.retrain`, whose
promotion the server picks up through its admin reload.

Alongside, the first model is kept in memory and scored on every later window, so
"F1 with retraining" and "F1 had we never retrained" are measured on the same
projects. The false-alarm rate is measured on windows drawn from the first model's
held-out reference data itself (leave-window-out).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import SecretStr

from tagwise.bundle import ModelBundle
from tagwise.config import Settings
from tagwise.monitoring.drift import (
    Thresholds,
    Window,
    WindowReport,
    build_reference,
    check_window,
    reference_from_dict,
    suggestion_quality,
)
from tagwise.monitoring.windows import parse_window, window_label, window_start
from tagwise.retrain import author_labels


@dataclass
class WeekRow:
    """One window of the replay: what the monitor said and how good the suggestions were."""

    label: str
    n: int
    version: str
    fired: list[str]
    statistics: dict[str, float]
    f1_served: float | None
    f1_first: float | None
    n_labelled: int
    event: str = ""
    report: WindowReport | None = None


@dataclass
class SimulationResult:
    """Everything the replay measured."""

    weeks: list[WeekRow]
    far: dict[str, Any]
    retrains: list[dict]
    first_fired: dict[str, str]
    report: Path | None
    n_initial: int
    n_streamed: int
    final_window: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON summary (benchmarks write it to docs)."""
        return {
            "n_initial": self.n_initial,
            "n_streamed": self.n_streamed,
            "first_fired": self.first_fired,
            "far": self.far,
            "retrains": self.retrains,
            "final_window": self.final_window,
            "weeks": [{k: v for k, v in w.__dict__.items() if k != "report"} for w in self.weeks],
        }


def _aware(t: datetime) -> datetime:
    return t if t.tzinfo else t.replace(tzinfo=UTC)


def _quality(suggested: list[list[str]], final: list[set[str]]) -> tuple[float | None, int]:
    keep = [i for i, f in enumerate(final) if f]
    if not keep:
        return None, 0
    q = suggestion_quality([suggested[i] for i in keep], [sorted(final[i]) for i in keep])
    return q["f1"], len(keep)


def false_alarm_rate(
    bundle: ModelBundle,
    settings: Settings,
    train_path: Path,
    tags: Path,
    *,
    n_windows: int,
    size: int,
    th: Thresholds,
    seed: int = 0,
) -> dict[str, Any]:
    """Alerts on windows drawn from the model's own held-out data (should be ≤ alpha).

    The pool is the first model's validation + test projects (never fitted on): each
    round takes ``size`` of them as the "live" window and builds the reference from the
    rest — leave-window-out, so window and reference never share a project.
    """
    from tagwise.pipeline import load_inputs, make_split, prepare_dataset

    result, taxonomy = load_inputs(train_path, tags, settings)
    prepared = prepare_dataset(result, taxonomy, settings)
    split = make_split(prepared, settings)
    pool = np.concatenate([split.val, split.test])
    size = min(size, len(pool) // 3)
    if size < th.min_window or n_windows == 0:
        return {"windows": 0, "alerts": 0, "rate": None, "by_test": {}, "size": size}
    texts = [prepared.texts[i] for i in pool]
    scores = bundle.scores(texts)
    names = bundle.labels.labels
    suggested = [tuple(names[j] for j, _ in row) for row in bundle.policy.decide(scores)]
    top = scores.max(axis=1)
    final = [tuple(names[j] for j in np.flatnonzero(prepared.Y[i])) for i in pool]
    train_texts = [prepared.texts[i] for i in split.train]
    rng = np.random.default_rng(seed)
    alerts, by_test = 0, {}
    for k in range(n_windows):
        perm = rng.permutation(len(pool))
        w, r = perm[:size], perm[size:]
        ref = build_reference(
            train_texts,
            [texts[i] for i in r],
            [suggested[i] for i in r],
            [top[i] for i in r],
            [final[i] for i in r],
        )
        window = Window(
            f"ref{k}",
            tuple(texts[i] for i in w),
            tuple(suggested[i] for i in w),
            tuple(float(top[i]) for i in w),
            tuple(final[i] for i in w),
        )
        rep = check_window(ref, window, th, seed=k)
        alerts += rep.alert
        for name in rep.fired():
            by_test[name] = by_test.get(name, 0) + 1
    return {
        "windows": n_windows,
        "alerts": alerts,
        "rate": alerts / n_windows,
        "by_test": by_test,
        "size": size,
        "pool": len(pool),
    }


def simulate(
    settings: Settings,
    projects: Path,
    tags: Path,
    *,
    cutoff: datetime = datetime(2020, 5, 1, tzinfo=UTC),
    window: str = "7d",
    retrain: bool = True,
    min_gap: int = 3,
    retrain_every: int | None = None,
    holdout: bool = True,
    far_windows: int = 100,
    far_size: int = 50,
    limit: int | None = None,
    out: Path | None = None,
    progress: Callable[[str], None] = lambda _: None,
    on_week: Callable[[WeekRow], None] = lambda _: None,
) -> SimulationResult:
    """Run the replay in ``settings.home`` (use a temporary home: it fills a registry)."""
    from fastapi.testclient import TestClient

    from tagwise.data import load_dataset
    from tagwise.monitoring.monitor import run_monitor, thresholds
    from tagwise.monitoring.report import MonitoringData, write_monitoring_report
    from tagwise.monitoring.uptake import total_uptake
    from tagwise.pipeline import train
    from tagwise.retrain import retrain as run_retrain
    from tagwise.serving import create_app

    cutoff = _aware(cutoff)
    size = parse_window(window)
    token = secrets.token_hex(8)
    settings = settings.model_copy(
        update={
            "serving": settings.serving.model_copy(
                update={"admin_token": SecretStr(token), "watch_interval": 0}
            )
        }
    )
    th = thresholds(settings)
    work = settings.home / "simulate"
    work.mkdir(parents=True, exist_ok=True)
    data = sorted(load_dataset(projects).dataset.projects, key=lambda p: p.created_on)
    initial = [p for p in data if _aware(p.created_on) < cutoff]
    later = [p for p in data if _aware(p.created_on) >= cutoff][:limit]
    initial_path = work / "initial.json"
    initial_path.write_text(json.dumps([p.model_dump(mode="json") for p in initial]))

    progress(f"train the first model on {len(initial)} projects before {cutoff:%Y-%m-%d}")
    first = train(settings, initial_path, tags)
    first_bundle = first.bundle
    progress(f"false-alarm rate on {far_windows} reference windows")
    far = false_alarm_rate(
        first_bundle, settings, initial_path, tags, n_windows=far_windows, size=far_size, th=th
    )

    now = {"t": cutoff}
    app = create_app(settings, clock=lambda: now["t"])
    weeks: list[WeekRow] = []
    seen_windows: list[Window] = []
    uptake_windows: dict[str, list[dict]] = {}  # per window, as that window's monitor saw it
    retrains: list[dict] = []
    events: list[dict] = []
    last_retrain: int | None = None
    groups: dict[datetime, list] = {}
    for p in later:
        groups.setdefault(window_start(_aware(p.created_on), size), []).append(p)
    tax = first_bundle.taxonomy
    auth = {"authorization": f"Bearer {token}"}
    with TestClient(app) as client:
        for w_index, (start, rows) in enumerate(sorted(groups.items())):
            label = window_label(start)
            progress(f"window {label}: {len(rows)} projects")
            served_sugg, finals = [], []
            version = ""
            for p in rows:
                now["t"] = _aware(p.created_on)
                r = client.post(
                    "/v1/suggest", json={"title": p.title, "description": p.description}
                )
                r.raise_for_status()
                body = r.json()
                version = body["model"]["version"]
                sugg = [t["tag"] for t in body["tags"]]
                final = author_labels(first_bundle, p.tags) if tax.entries else set(p.tags)
                fb = {
                    "project_id": str(p.id),
                    "title": p.title,
                    "description": p.description,
                    "suggested": sugg,
                    "accepted": [t for t in sugg if t in final],
                    "added": sorted(final - set(sugg)),
                    "prediction_id": body["prediction_id"],
                }
                client.post("/v1/feedback", json=fb).raise_for_status()
                served_sugg.append(sugg)
                finals.append(final)
            first_rows = first_bundle.suggest([(p.title, p.description) for p in rows])
            f1_first, _ = _quality([[s.tag for s in row] for row in first_rows], finals)
            f1_served, n_lab = _quality(served_sugg, finals)
            app.state.predictions.flush()
            served = app.state.holder.get()
            mon = run_monitor(
                settings,
                bundle=served.bundle,
                version=served.version,
                window=window,
                since=start,
                clock=lambda: now["t"],
            )
            rep = next((x for x in mon.reports if x.label == label), None)
            uptake_windows[label] = next(
                (w.get("uptake", []) for w in mon.state["windows"] if w["label"] == label), []
            )
            seen_windows += [w for w in mon.windows if w.label == label]
            row = WeekRow(
                label=label,
                n=len(rows),
                version=version,
                fired=rep.fired() if rep else [],
                statistics={
                    t.name: float(t.p_value if t.p_value is not None else t.statistic)
                    for t in (rep.tests if rep else ())
                },
                f1_served=f1_served,
                f1_first=f1_first,
                n_labelled=n_lab,
                report=rep,
            )
            due = retrain_every is not None and (
                (w_index + 1) - (last_retrain if last_retrain is not None else 0) >= retrain_every
            )
            alerted = bool(rep and rep.alert)
            # at most one retrain per ``min_gap`` windows, counting from the start: the
            # first needs some feedback to learn from
            gap_ok = w_index - (last_retrain if last_retrain is not None else -1) >= min_gap
            if retrain and ((alerted and gap_ok) or due):
                progress(f"retrain after window {label} ({'alert' if alerted else 'schedule'})")
                res = run_retrain(settings, tags=tags, holdout=holdout, clock=lambda: now["t"])
                last_retrain = w_index
                info = {
                    "after_window": label,
                    "trigger": "alert" if alerted else "schedule",
                    "fired": row.fired,
                    "version": res.version,
                    "promoted": res.promoted,
                    "decision": res.decision.summary() if res.decision else res.skipped,
                    "recent": res.recent,
                    "test": res.test,
                    "quarantined": len(res.quarantine),
                }
                if res.promoted:
                    client.post("/v1/admin/reload", headers=auth).raise_for_status()
                retrains.append(info)
                row.event = f"retrain → v{res.version} {'promoted' if res.promoted else 'refused'}"
                events.append({"window": label, "what": row.event})
            weeks.append(row)
            on_week(row)

    first_fired: dict[str, str] = {}
    for w in weeks:
        for name in w.fired:
            first_fired.setdefault(name, w.label)
    final_window = {}
    scored = [w for w in weeks if w.f1_served is not None and w.n_labelled >= th.min_window]
    if scored:
        last = scored[-1]
        final_window = {
            "label": last.label,
            "n": last.n_labelled,
            "f1_never_retrained": last.f1_first,
            "f1_served": last.f1_served,
            "gain": None if last.f1_first is None else last.f1_served - last.f1_first,
            "version": last.version,
        }
    reports = [w.report for w in weeks if w.report is not None]
    path = None
    if reports:
        notes = [
            f"Replay: trained on {len(initial)} projects before {cutoff:%Y-%m-%d}, then "
            f"{len(later)} projects streamed through the service in created_on order.",
            f"False-alarm rate on {far.get('windows', 0)} windows of {far.get('size')} drawn "
            f"from the reference data: {far.get('rate')}.",
        ]
        data = MonitoringData(
            title="tagwise replay simulation",
            reference=reference_from_dict(first_bundle.reference),
            windows=seen_windows,
            reports=reports,
            notes=notes,
            events=events,
            uptake=total_uptake(list(uptake_windows.values())),
            uptake_windows=uptake_windows,
            min_labelled=th.min_window,
        )
        path = write_monitoring_report(data, out or work / "report.html")
    return SimulationResult(
        weeks, far, retrains, first_fired, path, len(initial), len(later), final_window
    )
