"""The CLI side of ``--backend ray``: progress bars and messages around the adapters.

Kept here rather than in :mod:`tagwise.cli` so the shared CLI module only grows by a
few options and one call per command, and so nothing Ray-related is imported until a
Ray backend is asked for.
"""

from __future__ import annotations

import functools
import logging
import signal
from pathlib import Path

from rich.console import Console

from tagwise.config import Settings
from tagwise.errors import ConfigError

BACKENDS = ("local", "ray")


def check_backend(backend: str) -> None:
    """Refuse an unknown ``--backend`` with the valid values."""
    if backend not in BACKENDS:
        raise ConfigError(f"--backend {backend!r}: use one of {', '.join(BACKENDS)}")


def predict(
    settings: Settings,
    *,
    model: str,
    input_path: Path,
    output: Path | None,
    shard_size: int,
    workers: int,
    address: str | None,
    output_format: str | None,
    k: int | None,
    console: Console,
) -> None:
    """Run :func:`tagwise.distributed.batch.predict_ray` with a rows progress bar."""
    from tagwise.distributed.batch import FEATURE, predict_ray
    from tagwise.distributed.runtime import import_ray
    from tagwise.distributed.shards import input_format
    from tagwise.progress import row_progress

    import_ray(FEATURE, "data")  # the clear message before a progress bar appears

    if output is None:
        raise ConfigError("--backend ray writes shards into a directory: pass --output DIR")
    logging.getLogger("ray").setLevel(logging.WARNING)
    fmt = output_format or input_format(input_path)
    with row_progress(console, "predicting", None) as progress:

        def on_plan(plan, manifest) -> None:
            progress.reset(plan.total_rows, manifest.done_rows())

        result = predict_ray(
            settings,
            model,
            input_path,
            output,
            shard_size=shard_size,
            workers=workers,
            address=address,
            out_fmt=fmt,
            k=k,
            on_plan=on_plan,
            on_shard=lambda rows, _: progress.advance(rows),
        )
    console.print(
        f"{result.rows_total} projects → {output} ({result.shards_total} shards, "
        f"{result.shards_skipped} already done, {result.rows_written} rows now, "
        f"{result.seconds:.1f} s)"
    )
    if result.worker_rows_per_s:
        console.print(f"one worker, busy: {result.worker_rows_per_s:,.0f} projects/s")


def serve(settings: Settings, *, replicas: int, address: str | None, console: Console) -> None:
    """Run the app on Ray Serve until Ctrl-C or SIGTERM."""
    from tagwise.distributed.runtime import import_ray
    from tagwise.distributed.serving import FEATURE, serve_forever

    if replicas < 1:
        raise ConfigError(f"--replicas must be ≥ 1, got {replicas}")
    import_ray(FEATURE, "serve")  # a clear message before anything else changes

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)  # a graceful stop removes the app too
    try:
        serve_forever(
            settings,
            replicas=replicas,
            address=address,
            on_ready=lambda url: console.print(
                f"tagwise on Ray Serve ({replicas} replicas) at {url}/"
            ),
        )
    finally:
        signal.signal(signal.SIGTERM, previous)


def tune(
    settings: Settings,
    *,
    backend: str,
    projects: Path,
    tags: Path | None,
    trials: int,
    n_splits: int,
    out: Path | None,
    cpus_per_trial: float,
    max_concurrent: int | None,
    address: str | None,
    scheduler: str,
    console: Console,
) -> None:
    """One study over the local tuner's inputs and space, locally or on Ray Tune."""
    from tagwise.pipeline import load_inputs, make_split, prepare_dataset
    from tagwise.tracking import Tracker
    from tagwise.tune import ensemble_space, run_study

    check_backend(backend)
    loaded, taxonomy = load_inputs(projects, tags, settings)
    prepared = prepare_dataset(loaded, taxonomy, settings)
    split = make_split(prepared, settings)
    tracker = Tracker.from_settings(settings) if settings.tracking.enabled else None
    common = {
        "n_trials": trials,
        "n_splits": n_splits,
        # tuned on top of the configured model when it is an ensemble (its int8 encoder,
        # sequence length and stacker kept); else the default ensemble space
        "space": functools.partial(ensemble_space, base=settings.model.model_dump()),
        "tracker": tracker,
        "out": out,
        "progress": lambda line: console.print(line, highlight=False),
    }
    if backend == "ray":
        from tagwise.distributed.tuning import run_study_ray

        result = run_study_ray(
            settings,
            prepared,
            split,
            taxonomy,
            cpus_per_trial=cpus_per_trial,
            max_concurrent=max_concurrent,
            address=address,
            scheduler=scheduler,
            **common,
        )
    else:
        result = run_study(settings, prepared, split, taxonomy, **common)
    console.print(
        f"best CV micro-F1 {result.best_value:.4f} over {result.n_trials} trials "
        f"({result.n_pruned} pruned): {result.best_params}"
    )
    if out is not None:
        console.print(f"best config written to {out} (tagwise train --config {out})")
