"""``tagwise retrain``: new data + feedback → validate → challenger → evaluate → gate → promote.

Steps, each recorded in one MLflow parent run (``retrain``; the training run is its
child through the ``mlflow.parentRunId`` tag):

1. **collect** — the champion's training file (its manifest names it) + new project
   files + every feedback row; feedback wins over an older row of the same project.
2. **validate** — the data loader's validation on the incoming batches; quarantined
   rows are kept with their reasons (artifact and report), the rest goes on.
3. **train** — :func:`tagwise.pipeline.train` on the union (registers a challenger).
   The most recent labelled window (``monitoring.recent_days`` of feedback) is held out.
4. **evaluate** — champion and challenger on that recent window *and* on the
   challenger's standard test split (the same projects for both).
5. **gate** — :func:`tagwise.promotion.gate` with both models' numbers on the same test
   split, plus "not worse on the recent window".
6. **promote** — move the ``champion`` alias (one registry write); the server's
   watcher hot-swaps.

Nothing before step 6 touches the champion, so any failure (or ``kill -9``) leaves it
serving; a rerun starts again from step 1.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from tagwise.bundle import ModelBundle
from tagwise.config import Settings
from tagwise.monitoring.drift import suggestion_quality
from tagwise.monitoring.predictions import LoggedFeedback, read_feedback, utc_now
from tagwise.promotion import GateDecision, gate

log = logging.getLogger(__name__)

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Default progress callback."""


@dataclass
class RetrainResult:
    """What a retrain did (``skipped`` says why nothing was trained)."""

    run_id: str | None
    version: int | None
    promoted: bool
    decision: GateDecision | None
    champion_before: int | None
    champion_after: int | None
    recent: dict[str, float] = field(default_factory=dict)
    test: dict[str, float] = field(default_factory=dict)
    n_rows: int = 0
    n_feedback: int = 0
    n_new_feedback: int = 0
    quarantine: list[dict] = field(default_factory=list)
    skipped: str | None = None


def _parse_created(value: Any) -> datetime | None:
    try:
        t = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return t if t.tzinfo else t.replace(tzinfo=utc_now().tzinfo)


def _records(path: Path) -> list[dict]:
    from tagwise.data.load import read_records

    return [dict(r) for r in read_records(path)]


def collect(
    base: Path,
    new_files: Sequence[Path],
    feedback: Sequence[LoggedFeedback],
    holdout_since: datetime | None,
) -> tuple[list[dict], list[dict], list[dict]]:
    """(training records, held-out recent records, quarantine rows) after validation.

    Base rows were validated when the champion trained on them; incoming batches
    (new files, feedback) run through the loader's validation here, and a rejected
    row is reported with its batch and reason.
    """
    from tagwise.data.validate import validate_records
    from tagwise.monitoring.monitor import feedback_record

    rows: dict[Any, dict] = {r.get("id"): r for r in _records(base)}
    quarantine: list[dict] = []
    batches: list[tuple[str, list[dict]]] = [(p.name, _records(p)) for p in new_files]
    train_fb = [f for f in feedback if holdout_since is None or f.created < holdout_since]
    recent_fb = [f for f in feedback if holdout_since is not None and f.created >= holdout_since]
    batches.append(("feedback", [feedback_record(f) for f in train_fb]))
    for name, records in batches:
        ok, bad = validate_records(records, mode="multi")
        quarantine += [{"batch": name, "reason": q.reason, "count": 1, "id": q.id} for q in bad]
        for p in ok:
            rows[p.id] = p.model_dump(mode="json")
    recent_ok, bad = validate_records([feedback_record(f) for f in recent_fb], mode="multi")
    quarantine += [{"batch": "feedback", "reason": q.reason, "count": 1, "id": q.id} for q in bad]
    recent = [p.model_dump(mode="json") for p in recent_ok]
    held = {r["id"] for r in recent}
    return [r for k, r in rows.items() if k not in held], recent, quarantine


def author_labels(bundle: ModelBundle, tags: Sequence[str]) -> set[str]:
    """P1 closure of an author's tags (all vocabulary tags, not one model's label space).

    Comparing two models with different label spaces needs labels neither owns: a
    model that learned a new tag gets credit for suggesting it.
    """
    tax = bundle.taxonomy
    return tax.closure(tags) if tax.entries else set(tags)


def quality_on(bundle: ModelBundle, records: Sequence[dict]) -> dict[str, float]:
    """Micro P/R/F1 of a model's suggestions against the authors' P1 tags."""
    if not records:
        return {}
    rows = bundle.suggest([(r["title"], r.get("description", "")) for r in records])
    suggested = [[s.tag for s in row] for row in rows]
    final = [sorted(author_labels(bundle, r["tags"])) for r in records]
    keep = [i for i, f in enumerate(final) if f]
    q = suggestion_quality([suggested[i] for i in keep], [final[i] for i in keep])
    return {**q, "n": float(len(keep))}


def _test_records(path: Path, tags: Path, settings: Settings) -> list[dict]:
    """The challenger's standard test split (recomputed: the split is deterministic)."""
    from tagwise.pipeline import load_inputs, make_split, prepare_dataset

    result, taxonomy = load_inputs(path, tags, settings)
    prepared = prepare_dataset(result, taxonomy, settings)
    split = make_split(prepared, settings)
    by_id = {p.id: p for p in result.dataset.projects}
    test = [by_id[prepared.ids[i]] for i in split.test]
    return [{"title": p.title, "description": p.description, "tags": list(p.tags)} for p in test]


def retrain(
    settings: Settings,
    *,
    tags: Path,
    projects: Path | None = None,
    new: Sequence[Path] = (),
    force: bool = False,
    holdout: bool = True,
    clock=utc_now,
    progress: Progress = _quiet,
) -> RetrainResult:
    """One retraining pass; see the module docstring for the steps."""
    from tagwise.feedback.store import create_tables, make_engine
    from tagwise.loading import load_model
    from tagwise.pipeline import train
    from tagwise.tracking import CHAMPION, RunLogger, Tracker

    tracker = Tracker.from_settings(settings)
    before = tracker.alias_version(CHAMPION)
    champion, _ = load_model(f"models:/{settings.tracking.registered_model}@{CHAMPION}", settings)
    base = projects or Path(champion.info.get("projects", ""))
    if not base.is_file():
        from tagwise.errors import ConfigError

        raise ConfigError(f"the champion's training file {base} is gone; pass --projects")

    progress("collect feedback")
    engine = make_engine(settings.db_url)
    try:
        create_tables(engine)
        feedback = read_feedback(engine)
    finally:
        engine.dispose()
    # "new" = later than the newest project the champion trained on (not the wall
    # clock of its training: a replay stamps historical times).
    seen = [_parse_created(r.get("created_on")) for r in _records(base)]
    seen_until = max((t for t in seen if t is not None), default=None)
    fresh = [f for f in feedback if seen_until is None or f.created > seen_until]
    if not fresh and not new and not force:
        reason = "no new feedback or data since the champion's training data"
        return RetrainResult(
            None, None, False, None, before, before, n_feedback=len(feedback), skipped=reason
        )
    latest = max((f.created for f in feedback), default=None)
    holdout_since = (
        latest - timedelta(days=settings.monitoring.recent_days) if holdout and latest else None
    )
    with tracker.run("retrain", tags={"tagwise.step": "retrain"}) as parent:
        parent.tags({"champion_before": str(before), "trigger_time": clock().isoformat()})
        progress("validate incoming batches")
        rows, recent, quarantine = collect(base, new, feedback, holdout_since)
        out_dir = settings.home / "retrain" / parent.run_id
        out_dir.mkdir(parents=True, exist_ok=True)
        data_path = out_dir / "projects.json"
        data_path.write_text(json.dumps(rows, ensure_ascii=False, default=str))
        (out_dir / "recent.json").write_text(json.dumps(recent, ensure_ascii=False, default=str))
        parent.metrics(
            {
                "collect_rows": len(rows),
                "collect_feedback": len(feedback),
                "collect_new_feedback": len(fresh),
                "collect_recent_holdout": len(recent),
                "validate_quarantined": len(quarantine),
            }
        )
        if quarantine:
            parent.dict(quarantine, "quarantine.json")

        progress("train challenger")
        result = train(settings, data_path, tags, progress=progress)
        if result.run_id:
            RunLogger(tracker.client, result.run_id).tags({"mlflow.parentRunId": parent.run_id})
        version = result.version
        parent.tags({"challenger_version": str(version), "train_run_id": str(result.run_id)})
        if result.promoted is not None:  # there was no champion: train promoted it
            after = tracker.alias_version(CHAMPION)
            promoted = result.promoted
            return RetrainResult(parent.run_id, version, promoted.promote, promoted, before, after)

        progress("evaluate champion and challenger")
        challenger = result.bundle
        recent_q = {
            "champion": quality_on(champion, recent),
            "challenger": quality_on(challenger, recent),
        }
        test_rows = _test_records(data_path, tags, settings)
        test_q = {
            "champion": quality_on(champion, test_rows),
            "challenger": quality_on(challenger, test_rows),
        }
        for where, q in (("recent", recent_q), ("test", test_q)):
            for who, m in q.items():
                parent.metrics({f"{where}_{who}_{k}": v for k, v in m.items()})

        progress("promotion gate")
        behaviour = behavioural_common(champion, challenger)
        parent.metrics(
            {"behavioural_champion": behaviour[0], "behavioural_challenger": behaviour[1]}
        )
        decision = _decide(settings, result.metrics, champion, test_q, recent_q, behaviour)
        tracker.set_version_tag(version, "promotion_decision", decision.summary()[:5000])
        parent.tags({"gate": decision.summary()[:5000]})
        if decision.promote:
            progress("promote")
            tracker.set_alias(CHAMPION, version)
        after = tracker.alias_version(CHAMPION)
        parent.tags({"promoted": str(decision.promote), "champion_after": str(after)})
        summary = {
            "version": version,
            "decision": decision.summary(),
            "recent": recent_q,
            "test": test_q,
            "quarantine": quarantine,
        }
        parent.dict(summary, "retrain.json")
    return RetrainResult(
        parent.run_id,
        version,
        decision.promote,
        decision,
        before,
        after,
        recent={f"{who}_{k}": v for who, m in recent_q.items() for k, v in m.items()},
        test={f"{who}_{k}": v for who, m in test_q.items() for k, v in m.items()},
        n_rows=len(rows),
        n_feedback=len(feedback),
        n_new_feedback=len(fresh),
        quarantine=quarantine,
    )


def behavioural_common(champion: ModelBundle, challenger: ModelBundle) -> tuple[float, float]:
    """Behavioural pass rates of both models on the cases *both* label spaces can run.

    A challenger that learned new tags runs more cases than the champion; comparing
    pass rates over different case sets would punish it for knowing more.
    """
    from tagwise.evaluate import load_cases, run_cases
    from tagwise.text import project_text

    common = set(champion.labels.labels) & set(challenger.labels.labels)
    cases = load_cases()

    def rate(bundle: ModelBundle) -> float:
        def suggest(texts: list[str]) -> list[list[str]]:
            rows = bundle.suggest_texts([project_text(t, "") for t in texts])
            return [[s.tag for s in row if s.tag in common] for row in rows]

        return run_cases(cases, suggest, labels=common).pass_rate

    return rate(champion), rate(challenger)


def _decide(
    settings: Settings,
    challenger_metrics: dict[str, float],
    champion: ModelBundle,
    test_q: dict[str, dict[str, float]],
    recent_q: dict[str, dict[str, float]],
    behavioural: tuple[float, float],
) -> GateDecision:
    """The standard gate on the same test projects for both, plus the recent window.

    The champion's registered test F1 was measured on *its* split; comparing it with
    the challenger's would compare different projects, so both are re-measured here
    (and the behavioural cases on the labels both models share).
    """
    champ_metrics = dict(champion.info.get("metrics") or {})
    b_champ, b_chall = behavioural
    chall = {
        **challenger_metrics,
        "test_micro_f1": test_q["challenger"].get("f1", 0.0),
        "behavioural_pass_rate": b_chall,
    }
    champ = {
        **champ_metrics,
        "test_micro_f1": test_q["champion"].get("f1", 0.0),
        "behavioural_pass_rate": b_champ,
    }
    decision = gate(
        chall,
        champ,
        f1_tolerance=settings.gate.f1_tolerance,
        p99_latency_ms=settings.gate.p99_latency_ms,
        behavioural_tolerance=settings.gate.behavioural_tolerance,
    )
    rc, rn = recent_q["champion"].get("f1"), recent_q["challenger"].get("f1")
    if rc is None or rn is None:
        return GateDecision(decision.promote, (*decision.reasons, "no recent window held out"))
    tol = settings.gate.f1_tolerance
    if rn >= rc - tol:
        reason = f"recent-window F1 {rn:.4f} vs champion {rc:.4f} (tolerance {tol})"
        return GateDecision(decision.promote, (*decision.reasons, reason))
    reason = f"recent-window F1 {rn:.4f} worse than champion {rc:.4f} by more than {tol}"
    return GateDecision(False, (*decision.reasons, reason))


def recent_f1_gain(result: RetrainResult) -> float | None:
    """Challenger minus champion F1 on the held-out recent window."""
    a, b = result.recent.get("challenger_f1"), result.recent.get("champion_f1")
    return None if a is None or b is None else float(np.round(a - b, 4))
