"""The ``tagwise`` command line: thin commands that parse, call the core and print."""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from tagwise.errors import TagwiseError

app = typer.Typer(
    help="tagwise: tag suggestions for a catalogue of ML projects.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
data_app = typer.Typer(
    help="Validate data files: rows accepted, quarantined by reason, tags, dates.",
    no_args_is_help=True,
)
models_app = typer.Typer(
    help="The model registry: list versions, promote a challenger.", no_args_is_help=True
)
app.add_typer(data_app, name="data")
app.add_typer(models_app, name="models")

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML/JSON config file", exists=True, dir_okay=False),
]
ServedTagsOpt = Annotated[
    Path | None,
    typer.Option(
        "--tags",
        help="A newer tags.json to serve: tags the model never saw are suggested zero-shot",
        exists=True,
        dir_okay=False,
    ),
]
LongTailOpt = Annotated[
    bool,
    typer.Option(help="Also suggest low-confidence long-tail tags (outside the label space)"),
]


def _settings(config: Path | None, **overrides):
    from tagwise.config import load_settings

    return load_settings(config, **overrides)


def _console() -> Console:
    return Console(stderr=True)


@contextlib.contextmanager
def _steps(console: Console) -> Iterator:
    """A spinner that shows the pipeline step in progress (on stderr)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        state: dict = {"task": None}

        def step(name: str) -> None:
            if state["task"] is not None:
                bar.update(state["task"], completed=1, total=1)
            state["task"] = bar.add_task(name, total=None)

        yield step
        if state["task"] is not None:
            bar.update(state["task"], completed=1, total=1)


@data_app.command("validate")
def data_validate(
    path: Annotated[Path, typer.Argument(help="Projects file: JSON list, JSONL, CSV or Parquet")],
    quarantine: Annotated[
        Path | None, typer.Option(help="Write bad rows (with reasons) here")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON")] = False,
) -> None:
    """Validate a projects file and print rows, accepted, quarantined by reason, tags, dates."""
    from tagwise.data import load_dataset, summarize
    from tagwise.data.summary import summary_to_dict

    if quarantine is not None and quarantine.is_dir():
        from tagwise.errors import ConfigError

        raise ConfigError(f"--quarantine {quarantine}: is a directory; name the JSONL file")
    summary = summarize(load_dataset(path, quarantine_path=quarantine))
    if as_json:
        typer.echo(json.dumps(summary_to_dict(summary), indent=2, default=str))
        if not summary.n_accepted:
            raise typer.Exit(1)
        return
    con = Console()
    con.print(f"[bold]{summary.source}[/]  {summary.digest}  mode={summary.mode}")
    con.print(
        f"rows {summary.n_rows}   accepted {summary.n_accepted}   "
        f"quarantined {summary.n_rows - summary.n_accepted}"
    )
    if summary.date_min:
        con.print(f"created_on {summary.date_min:%Y-%m-%d} … {summary.date_max:%Y-%m-%d}")
    for reason, n in summary.quarantined_by_reason.items():
        con.print(f"  [red]{n:5d}[/]  {escape(reason)}", highlight=False)
    if quarantine and summary.n_rows > summary.n_accepted:
        con.print(f"bad rows written to {quarantine}")
    if not summary.n_accepted:  # a wrong or empty file must fail a script that checks it
        Console(stderr=True).print("[bold red]error:[/] no valid project in the file")
        raise typer.Exit(1)
    table = Table("tag", "projects", title="most common author tags")
    for tag, n in list(summary.tag_counts.items())[:15]:
        table.add_row(tag, str(n))
    con.print(table)


@app.command()
def train(
    projects: Annotated[Path, typer.Option(help="Projects file (a `tag` column = single-label)")],
    tags: Annotated[Path | None, typer.Option(help="Vocabulary tags.json (multi-label)")] = None,
    config: ConfigOpt = None,
    out: Annotated[Path | None, typer.Option(help="Also export the model bundle here")] = None,
    backend: Annotated[str | None, typer.Option(help="Override model.backend")] = None,
) -> None:
    """Validate, split (P1), fit, tune on validation, evaluate, report, log and register."""
    from tagwise.pipeline import train as run_train

    overrides = {"model": {"backend": backend}} if backend else {}
    settings = _settings(config, **overrides)
    con = _console()
    with _steps(con) as step:
        result = run_train(settings, projects, tags, out=out, progress=step)
    m = result.metrics
    con.print(
        f"[bold green]test micro-F1 {m['test_micro_f1']:.3f}[/] "
        f"(95% CI {m['test_micro_f1_ci_low']:.3f}–{m['test_micro_f1_ci_high']:.3f}), "
        f"threshold {m['threshold']:.2f}, p99 {m['p99_latency_ms']:.2f} ms"
    )
    for name, bm in result.baselines.items():
        con.print(f"  baseline {name:8s} micro-F1 {bm['micro_f1']:.3f}")
    if result.quarantined:
        con.print(
            f"[yellow]{result.quarantined} rows quarantined[/] "
            f"(see {escape(str(settings.quarantine_file(projects)))})"
        )
    if result.version is not None:
        con.print(f"registered version {result.version} (run {result.run_id})")
    if result.promoted is not None:
        con.print(f"promotion: {result.promoted.summary()}")
    if out:
        con.print(f"model exported to {out}")
    typer.echo(f"report: {result.report}")


@app.command()
def predict(
    input: Annotated[
        Path,
        typer.Option(
            "--input",
            "-i",
            help='JSONL of {"id","title","description"} (Parquet too with --backend ray)',
            exists=True,
            dir_okay=False,
        ),
    ],
    model: Annotated[
        str, typer.Option(help="Model DIR or models:/tagwise@ALIAS")
    ] = "models:/tagwise@champion",
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="JSONL out (default stdout)")
    ] = None,
    k: Annotated[int | None, typer.Option(min=1, help="Cap on tags per project")] = None,
    config: ConfigOpt = None,
    backend: Annotated[
        str, typer.Option(help="local (in-process) or ray (sharded, resumable; --output DIR)")
    ] = "local",
    address: Annotated[str | None, typer.Option(help="Ray cluster: auto or ray://...")] = None,
    shard_size: Annotated[int, typer.Option(min=1, help="Rows per shard (ray)")] = 10_000,
    workers: Annotated[int, typer.Option(min=1, help="Actors, one model each (ray)")] = 2,
    output_format: Annotated[
        str | None, typer.Option(help="Shard format jsonl|parquet (ray; default: the input's)")
    ] = None,
    tags: ServedTagsOpt = None,
    long_tail: LongTailOpt = True,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="Encoder threads (local; default: every core)"),
    ] = None,
) -> None:
    """Suggest tags for each JSONL line: writes {"id", "tags": [{"tag", "score"}]} best first,
    plus "long_tail": [{"tag", "score", "similarity", "source", "confidence": "low"}]."""
    from tagwise.distributed import commands as dist

    dist.check_backend(backend)
    if backend == "ray":
        if tags is not None or not long_tail:
            from tagwise.errors import ConfigError

            raise ConfigError("--tags and --no-long-tail work with --backend local only")
        dist.predict(
            _settings(config),
            model=model,
            input_path=input,
            output=output,
            shard_size=shard_size,
            workers=workers,
            address=address,
            output_format=output_format,
            k=k,
            console=_console(),
        )
        return

    from tagwise.loading import load_model, with_vocabulary_file
    from tagwise.predict import RejectedLine, check_paths, predict_file

    settings = _settings(config)
    check_paths(input, output)  # before the model loads
    bundle, _ = load_model(model, settings)
    bundle = with_vocabulary_file(bundle, tags)
    bundle.use_threads(threads or os.cpu_count() or 1)
    rejected: list[RejectedLine] = []
    con = _console()
    n = predict_file(
        bundle, input, output, k=k, long_tail=long_tail, console=con, rejected=rejected
    )
    if output:
        con.print(f"{n} projects → {output}", markup=False)
    if rejected:
        from tagwise.fileio import atomic_write_text

        path = settings.quarantine_file(input, "predict")
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, "".join(json.dumps(r.to_dict()) + "\n" for r in rejected))
        first = "; ".join(f"line {r.line}: {r.reason}" for r in rejected[:3])
        more = f"; and {len(rejected) - 3} more" if len(rejected) > 3 else ""
        con.print(
            f"[yellow]{len(rejected)} line(s) skipped[/] ({escape(first)}{more}); "
            f"written to {escape(str(path))}"
        )


@app.command()
def evaluate(
    projects: Annotated[Path, typer.Option(help="Labelled projects file")],
    model: Annotated[
        str, typer.Option(help="Model DIR or models:/tagwise@ALIAS")
    ] = "models:/tagwise@champion",
    config: ConfigOpt = None,
) -> None:
    """Evaluate a trained model on a labelled file (P1 labels, the model's label space)."""
    from tagwise.loading import load_model
    from tagwise.predict import evaluate_file

    settings = _settings(config)
    bundle, _ = load_model(model, settings)
    metrics = evaluate_file(bundle, projects, settings)
    table = Table("metric", "value")
    for key, value in metrics.items():
        table.add_row(key, f"{value:.4f}" if isinstance(value, float) else str(value))
    Console().print(table)


@models_app.command("list")
def models_list(
    config: ConfigOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the versions as JSON")] = False,
) -> None:
    """Registered versions with aliases, label mode and headline metrics."""
    from tagwise.tracking import Tracker

    versions = Tracker.from_settings(_settings(config)).versions()
    if as_json:
        rows = [
            {"version": v.version, "aliases": list(v.aliases), "mode": v.tags.get("mode"),
             "run_id": v.run_id, "metrics": v.metrics}
            for v in versions
        ]  # fmt: skip
        typer.echo(json.dumps(rows, indent=2))
        return
    if not versions:
        typer.echo("no registered model yet: run `tagwise train`")
        return
    table = Table("version", "aliases", "mode", "micro-F1", "CI", "behavioural", "p99 ms", "run")
    for v in versions:
        m = v.metrics
        table.add_row(
            str(v.version),
            ",".join(v.aliases),
            v.tags.get("mode", ""),
            f"{m.get('test_micro_f1', 0):.3f}",
            f"{m.get('test_micro_f1_ci_low', 0):.3f}–{m.get('test_micro_f1_ci_high', 0):.3f}",
            f"{m.get('behavioural_pass_rate', 0):.2f}",
            f"{m.get('p99_latency_ms', 0):.2f}",
            (v.run_id or "")[:8],
        )
    # piped or in a narrow terminal, rich would cut columns ("challenge…"): never here
    Console(width=None if sys.stdout.isatty() else 200).print(table)


@models_app.command("promote")
def models_promote(
    version: Annotated[int | None, typer.Argument(help="Version (default: the challenger)")] = None,
    force: Annotated[bool, typer.Option(help="Promote even if the gate refuses")] = False,
    config: ConfigOpt = None,
) -> None:
    """Make a version champion if it passes the promotion gate (F1, behaviour, latency)."""
    from tagwise.errors import UnknownModelError
    from tagwise.pipeline import promote
    from tagwise.tracking import Tracker

    settings = _settings(config)
    tracker = Tracker.from_settings(settings)
    if version is None:
        version = tracker.alias_version("challenger")
        if version is None:
            raise UnknownModelError("no challenger to promote; pass a version")
    decision = promote(settings, version, tracker=tracker, force=force)
    typer.echo(f"version {version}: {decision.summary()}")
    if not decision.promote:
        raise typer.Exit(1)


@app.command()
def suggest(
    title: Annotated[str, typer.Argument(help="Project title")],
    description: Annotated[str, typer.Argument(help="Project description")] = "",
    model: Annotated[
        str, typer.Option(help="Model DIR or models:/tagwise@ALIAS")
    ] = "models:/tagwise@champion",
    k: Annotated[int | None, typer.Option(min=1, help="Cap on tags")] = None,
    config: ConfigOpt = None,
    tags: ServedTagsOpt = None,
    long_tail: LongTailOpt = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the predict JSONL line instead")
    ] = False,
) -> None:
    """Suggest tags for one project typed on the command line."""
    from tagwise.loading import load_model, with_vocabulary_file

    bundle, version = load_model(model, _settings(config))
    bundle = with_vocabulary_file(bundle, tags)
    if as_json:
        from tagwise.predict import prediction_rows

        answer = bundle.suggest_all([(title, description)], k=k, long_tail=long_tail)
        tail = answer.long_tail if long_tail else None
        row = prediction_rows([None], answer.tags, tail)[0]
        typer.echo(json.dumps(row, ensure_ascii=False))
        return
    _print_suggestions(bundle, version, [(title, description)], k, long_tail=long_tail)


def _print_suggestions(
    bundle,
    version: str,
    projects: list[tuple[str, str]],
    k: int | None = None,
    *,
    long_tail: bool = True,
) -> None:
    con = Console()
    answer = bundle.suggest_all(projects, k=k, long_tail=long_tail)
    for (title, _), row, tail in zip(projects, answer.tags, answer.long_tail, strict=True):
        chips = ", ".join(f"{s.tag} ({s.score:.2f})" for s in row) or "(no tag passes the policy)"
        # a registry version is a number ("v3"); a model directory is shown by its name
        label = f"v{version}" if str(version).isdigit() else str(version)
        con.print(
            f"[bold]{escape(title)}[/] → {escape(chips)}  [dim]model {escape(label)}[/]",
            highlight=False,
        )
        if tail:
            low = ", ".join(f"{s.tag} ({s.score:.2f}, {s.source})" for s in tail)
            con.print(f"  [dim]long tail, low confidence: {low}[/]", highlight=False)


EXAMPLES = [
    ("BERT for question answering", "Fine-tuning transformers on SQuAD with PyTorch."),
    ("Real-time pedestrian detection", "YOLOv4 object detection on street camera video."),
]


def _train_and_report(settings, projects: Path, tags: Path | None, con: Console, run_train):
    """One training run with progress steps; prints its F1, gate decision and report."""
    with _steps(con) as step:
        result = run_train(settings, projects, tags, progress=step)
    con.print(
        f"test micro-F1 {result.metrics['test_micro_f1']:.3f}; "
        f"version {result.version}: {result.promoted.summary() if result.promoted else ''}"
    )
    typer.echo(f"report: {result.report}")
    return result


def _ensure_champion(settings, projects: Path, tags: Path | None, con: Console) -> None:
    """Train and register the configured model if the registry has no champion yet.

    Shared by ``bootstrap`` and ``serve``, so a fresh clone serves the same model
    ``make run`` would have trained. If the gate refuses that first model (only its
    latency budget applies without a champion), the default TF-IDF model is trained
    instead, so there is always something to serve.
    """
    from tagwise.config import ModelConfig
    from tagwise.pipeline import train as run_train
    from tagwise.tracking import Tracker

    tracker = Tracker.from_settings(settings)
    if tracker.alias_version("champion") is None:
        con.print(f"no champion registered: training {settings.model.backend} on the bundled data")
        result = _train_and_report(settings, projects, tags, con, run_train)
        if not (result.promoted and result.promoted.promote) and settings.model != ModelConfig():
            # A first model the gate refuses (typically its p99 on a busy machine) must not
            # leave `make run` with nothing to serve: fall back to the default backend.
            con.print(f"falling back to the default model ({ModelConfig().backend})")
            fallback = settings.model_copy(update={"model": ModelConfig()})
            _train_and_report(fallback, projects, tags, con, run_train)
    else:
        version = tracker.alias_version("champion")
        run_id = tracker.version(version).run_id
        report = settings.home / "reports" / f"{run_id}.html"
        typer.echo(f"champion is version {version}; report: {report}")


def _ensure_impact(
    settings,
    bundle,
    version,
    projects: Path,
    tags: Path | None,
    con: Console,
    *,
    n_boot: int = 1000,
) -> Path | None:
    """Compute what ``/impact`` shows once, so a fresh ``make run`` has it (~10 s).

    Only when no ``tagwise impact`` result is stored: a later run of that command (say,
    for a new champion) is never overwritten here. A failure is reported and skipped —
    the page then says how to compute it — since serving matters more than the page.
    """
    from tagwise.impact_run import impact_payload, load_impact, run_impact, save_impact
    from tagwise.loading import DEFAULT_MODEL

    if tags is None:
        return None
    try:
        if load_impact(settings.home) is not None:
            return None
    except ValueError:  # an unreadable impact.json: compute a fresh one
        pass
    con.print("computing discoverability for /impact (tagwise impact)")
    try:
        report = run_impact(settings, bundle, projects, tags, n_boot=n_boot)
        payload = impact_payload(report, {"ref": DEFAULT_MODEL, "version": str(version)})
        path = save_impact(settings.home, payload)
    except Exception as exc:  # the page is optional, serving is not
        con.print(f"[yellow]skipped /impact ({type(exc).__name__}: {exc}); "
                  "run `tagwise impact` to fill it[/]")  # fmt: skip
        return None
    con.print(report.summary(), highlight=False)
    return path


@app.command()
def bootstrap(
    projects: Annotated[Path, typer.Option(help="Projects file to train on if needed")] = Path(
        "datasets/projects.json"
    ),
    tags: Annotated[Path | None, typer.Option(help="Vocabulary tags.json")] = Path(
        "datasets/tags.json"
    ),
    config: ConfigOpt = None,
) -> None:
    """Train and register the default model unless a champion exists; show example output.

    Also computes the discoverability numbers ``/impact`` shows, when none are stored.
    """
    from tagwise.loading import DEFAULT_MODEL, load_model

    settings = _settings(config)
    con = _console()
    _ensure_champion(settings, projects, tags, con)
    bundle, version = load_model(DEFAULT_MODEL, settings)
    _print_suggestions(bundle, version, EXAMPLES)
    _ensure_impact(settings, bundle, version, projects, tags, con)


DEFAULT_PROJECTS = Path("datasets/projects.json")
DEFAULT_TAGS = Path("datasets/tags.json")


@app.command()
def tune(
    projects: Annotated[Path, typer.Option(help="Projects file")] = DEFAULT_PROJECTS,
    tags: Annotated[Path | None, typer.Option(help="Vocabulary tags.json")] = DEFAULT_TAGS,
    trials: Annotated[int, typer.Option(min=1, help="Trials in the study")] = 20,
    folds: Annotated[int, typer.Option(min=2, help="CV folds on train+val")] = 3,
    out: Annotated[Path | None, typer.Option(help="Write the best config here")] = None,
    backend: Annotated[str, typer.Option(help="local (Optuna) or ray (Ray Tune)")] = "local",
    cpus_per_trial: Annotated[float, typer.Option(help="CPUs per trial (ray)")] = 1.0,
    max_concurrent: Annotated[int | None, typer.Option(help="Concurrent trials (ray)")] = None,
    address: Annotated[str | None, typer.Option(help="Ray cluster: auto or ray://...")] = None,
    scheduler: Annotated[
        str, typer.Option(help="Early stopping (ray): asha, or median = the local rule")
    ] = "asha",
    config: ConfigOpt = None,
) -> None:
    """Tune the model on train+val (CV micro-F1, seeded TPE); test is never read."""
    from tagwise.distributed import commands as dist

    dist.tune(
        _settings(config),
        backend=backend,
        projects=projects,
        tags=tags,
        trials=trials,
        n_splits=folds,
        out=out,
        cpus_per_trial=cpus_per_trial,
        max_concurrent=max_concurrent,
        address=address,
        scheduler=scheduler,
        console=_console(),
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default serving.host)")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default serving.port)")] = None,
    model: Annotated[
        str | None, typer.Option(help="Model DIR or models:/tagwise@ALIAS (default serving.model)")
    ] = None,
    watch_interval: Annotated[
        float | None, typer.Option(help="Seconds between registry polls; 0 = off")
    ] = None,
    access_log: Annotated[bool, typer.Option(help="Log every request")] = False,
    config: ConfigOpt = None,
    backend: Annotated[str, typer.Option(help="local (uvicorn) or ray (Ray Serve)")] = "local",
    replicas: Annotated[int, typer.Option(min=1, help="App replicas (ray)")] = 2,
    address: Annotated[str | None, typer.Option(help="Ray cluster: auto or ray://...")] = None,
) -> None:
    """Run the HTTP API and web UI (uvicorn, one worker); trains a first model if needed."""
    import uvicorn

    from tagwise.distributed import commands as dist
    from tagwise.loading import DEFAULT_MODEL
    from tagwise.serving import create_app

    dist.check_backend(backend)

    given = {"host": host, "port": port, "model": model, "watch_interval": watch_interval}
    settings = _settings(config, serving={k: v for k, v in given.items() if v is not None})
    cfg = settings.serving
    if cfg.model == DEFAULT_MODEL and settings.tracking.enabled:
        _ensure_champion(settings, DEFAULT_PROJECTS, DEFAULT_TAGS, _console())
    if backend == "ray":
        dist.serve(settings, replicas=replicas, address=address, console=_console())
        return
    app_ = create_app(settings)
    typer.echo(f"tagwise serving {cfg.model} at http://{cfg.host}:{cfg.port}/", err=True)
    uvicorn.run(
        app_,
        host=cfg.host,
        port=cfg.port,
        workers=1,
        access_log=access_log,
        log_level="info",
        timeout_graceful_shutdown=5,
    )


def _register_monitoring() -> None:
    from tagwise import cli_monitoring

    cli_monitoring.register(app)


_register_monitoring()


def _register_search() -> None:
    from tagwise import cli_search

    cli_search.register(app)


_register_search()


def _terminate(signum: int, frame: object) -> None:
    """SIGTERM as Ctrl-C: the same clean-up runs (no ``.partial`` file is left behind)."""
    raise KeyboardInterrupt


def main() -> None:
    """Console entry point: tagwise errors become one clear line and exit code 1."""
    import signal

    signal.signal(signal.SIGTERM, _terminate)
    try:
        app()
    except TagwiseError as exc:  # escaped: messages may hold brackets, 'tagwise[ray]'
        Console(stderr=True).print(f"[bold red]error:[/] {escape(exc.message)}", highlight=False)
        sys.exit(1)
