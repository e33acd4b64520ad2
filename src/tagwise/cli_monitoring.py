"""The monitoring commands of the CLI: ``monitor``, ``retrain``, ``simulate``.

Kept beside ``cli.py`` (which registers them) so the main CLI module stays short; each
command parses, calls the shell function and prints.
"""

from __future__ import annotations

import logging
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML/JSON config file", exists=True, dir_okay=False),
]
TagsOpt = Annotated[Path, typer.Option(help="Vocabulary tags.json")]


def _settings(config: Path | None, **overrides):
    from tagwise.config import load_settings

    return load_settings(config, **overrides)


def _log_to_stderr() -> None:
    """Alerts are log records; show warnings and up on stderr (the entry point, not import)."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")


def _print_retrain(con: Console, res) -> None:
    if res.skipped:
        con.print(f"retrain skipped: {res.skipped}")
        return
    con.print(
        f"challenger v{res.version}: {res.decision.summary() if res.decision else ''}\n"
        f"champion v{res.champion_before} → v{res.champion_after}; "
        f"{res.n_rows} training rows, {res.n_new_feedback} new feedback, "
        f"{len(res.quarantine)} quarantined"
    )
    if res.recent:
        con.print(
            f"recent window: champion F1 {res.recent.get('champion_f1', 0):.3f}, "
            f"challenger F1 {res.recent.get('challenger_f1', 0):.3f} "
            f"(n={int(res.recent.get('challenger_n', 0))})"
        )
    for q in res.quarantine[:10]:
        con.print(f"  [yellow]quarantined[/] {q['batch']} id={q.get('id')}: {q['reason']}")


def monitor(
    window: Annotated[str | None, typer.Option(help="Window size: 1d, 7d, 2w")] = None,
    out: Annotated[Path | None, typer.Option(help="HTML report path")] = None,
    all_versions: Annotated[
        bool, typer.Option(help="Check predictions of every model version, not only the served")
    ] = False,
    retrain_on_alert: Annotated[
        bool, typer.Option(help="Run `tagwise retrain` when a new alert fires")
    ] = False,
    tags: TagsOpt = Path("datasets/tags.json"),
    config: ConfigOpt = None,
) -> None:
    """Drift and performance per window from the prediction log + feedback; report, alerts."""
    from tagwise.monitoring.monitor import run_monitor

    _log_to_stderr()
    settings = _settings(config)
    res = run_monitor(settings, window=window, out=out, all_versions=all_versions)
    con = Console()
    if not res.reports:
        con.print("no window has enough logged predictions yet")
    else:
        table = Table("window", "n", "F1", "fired", title="drift per window")
        for r in res.reports:
            f1 = r.performance.get("f1")
            table.add_row(
                r.label, str(r.n), "—" if f1 is None else f"{f1:.3f}", ", ".join(r.fired()) or "-"
            )
        con.print(table)
        for u in res.state.get("uptake", []):
            con.print(
                f"{u['kind']} tags kept by authors: {u['kept']}/{u['shown']} ({u['rate']:.0%})"
            )
        con.print(f"report: {res.report}")
    if res.new_alerts and retrain_on_alert:
        from tagwise.retrain import retrain as run_retrain

        _print_retrain(con, run_retrain(settings, tags=tags))
    if res.new_alerts:
        raise typer.Exit(3)  # scripts can tell "alert" from "ok" (0) and "error" (1)


def retrain(
    tags: TagsOpt = Path("datasets/tags.json"),
    projects: Annotated[
        Path | None, typer.Option(help="Base training file (default: the champion's)")
    ] = None,
    new: Annotated[list[Path] | None, typer.Option(help="New projects file(s) to add")] = None,
    force: Annotated[bool, typer.Option(help="Retrain even with nothing new")] = False,
    holdout: Annotated[
        bool, typer.Option(help="Hold the most recent window out for evaluation")
    ] = True,
    schedule: Annotated[
        float | None, typer.Option(help="Repeat every this many hours (bounded by --max-runs)")
    ] = None,
    max_runs: Annotated[int, typer.Option(help="With --schedule: stop after N passes")] = 24,
    config: ConfigOpt = None,
) -> None:
    """Feedback + new data → validate → challenger → evaluate → gate → promote (hot swap)."""
    from tagwise.retrain import retrain as run_retrain

    settings = _settings(config)
    con = Console(stderr=True)
    runs = max_runs if schedule else 1
    for i in range(runs):
        res = run_retrain(
            settings, tags=tags, projects=projects, new=new or [], force=force, holdout=holdout,
            progress=lambda s: con.print(f"[dim]{s}[/]"),
        )  # fmt: skip
        _print_retrain(con, res)
        if schedule and i + 1 < runs:
            time.sleep(schedule * 3600)


def simulate(
    projects: Annotated[Path, typer.Option(help="Projects to replay")] = Path(
        "datasets/projects.json"
    ),
    tags: TagsOpt = Path("datasets/tags.json"),
    cutoff: Annotated[str, typer.Option(help="Train only on projects before this date")] = (
        "2020-05-01"
    ),
    window: Annotated[str, typer.Option(help="Monitoring window: 1d, 7d, 2w")] = "7d",
    do_retrain: Annotated[
        bool, typer.Option("--retrain/--no-retrain", help="Retrain when an alert fires")
    ] = True,
    min_gap: Annotated[int, typer.Option(help="At most one retrain per this many windows")] = 3,
    retrain_every: Annotated[
        int | None, typer.Option(help="Also retrain every N windows (schedule)")
    ] = None,
    far_windows: Annotated[int, typer.Option(help="Reference windows for the FAR")] = 100,
    limit: Annotated[
        int | None, typer.Option(help="Replay only the first N later projects")
    ] = None,
    home: Annotated[
        Path | None, typer.Option(help="Working home (default: a temporary directory)")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="HTML report path")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the summary JSON")] = None,
    config: ConfigOpt = None,
) -> None:
    """Replay the projects in created_on order through the service; watch drift week by week."""
    import json

    from tagwise.simulate import simulate as run_simulate

    con = Console()
    tmp = None
    if home is None:
        tmp = tempfile.TemporaryDirectory(prefix="tagwise-sim-")
        home = Path(tmp.name)
    settings = _settings(
        config,
        home=home,
        eval={"baselines": [], "temporal": False, "n_boot": 200},
        split={"method": "temporal"},
        gate={"behavioural_tolerance": 0.1},
    )
    table = Table("window", "n", "served", "F1 served", "F1 never retrained", "fired", "event")

    def on_week(w) -> None:
        con.print(
            f"{w.label}  n={w.n:3d}  v{w.version}  F1 {w.f1_served or 0:.3f} "
            f"(never retrained {w.f1_first or 0:.3f})  fired: {', '.join(w.fired) or '-'}  "
            f"{w.event}",
            highlight=False,
        )
        table.add_row(
            w.label, str(w.n), w.version, f"{w.f1_served or 0:.3f}", f"{w.f1_first or 0:.3f}",
            ", ".join(w.fired) or "-", w.event,
        )  # fmt: skip

    try:
        res = run_simulate(
            settings,
            projects,
            tags,
            cutoff=datetime.fromisoformat(cutoff).replace(tzinfo=UTC),
            window=window,
            retrain=do_retrain,
            min_gap=min_gap,
            retrain_every=retrain_every,
            far_windows=far_windows,
            limit=limit,
            out=out,
            progress=lambda s: Console(stderr=True).print(f"[dim]{s}[/]"),
            on_week=on_week,
        )
        con.print(table)
        far = res.far
        con.print(
            f"false-alarm rate on {far.get('windows')} reference windows of {far.get('size')}: "
            f"{far.get('rate')} ({far.get('alerts')} alerts; {far.get('by_test')})"
        )
        for name, label in res.first_fired.items():
            con.print(f"first fired: {name} in window {label}")
        if res.final_window:
            fw = res.final_window
            con.print(
                f"most recent window {fw['label']} (n={fw['n']}): F1 {fw['f1_served']:.3f} "
                f"served (v{fw['version']}) vs {fw['f1_never_retrained']:.3f} never retrained"
            )
        if json_out:
            json_out.write_text(json.dumps(res.to_dict(), indent=1, default=str))
        if res.report and out is None and tmp is not None:
            kept = Path("simulate-report.html")
            kept.write_text(res.report.read_text())
            con.print(f"report: {kept.resolve()}")
        elif res.report:
            con.print(f"report: {res.report}")
    finally:
        if tmp is not None:
            tmp.cleanup()


def register(app: typer.Typer) -> None:
    """Add the monitoring commands to the main CLI."""
    app.command()(monitor)
    app.command()(retrain)
    app.command()(simulate)
