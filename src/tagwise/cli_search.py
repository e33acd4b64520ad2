"""The search commands of the CLI: ``search rebuild``, ``search query`` and ``impact``.

Kept beside ``cli.py`` (which registers them) so the main CLI module stays short; each
command parses, calls the shell function (``tagwise.catalogue``, ``tagwise.impact_run``)
and prints.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

ConfigOpt = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="YAML/JSON config file", exists=True, dir_okay=False),
]
ModelOpt = Annotated[
    str | None,
    typer.Option(help="Model DIR or models:/tagwise@ALIAS (default serving.model)"),
]

search_app = typer.Typer(
    help="The catalogue search index (<home>/search.db).", no_args_is_help=True
)


def _settings(config: Path | None):
    from tagwise.config import load_settings

    return load_settings(config)


def _load(settings, model: str | None, *, required: bool):
    """The bundle suggesting tags, or None (without a champion, when not ``required``)."""
    from tagwise.errors import TagwiseError
    from tagwise.loading import load_model

    try:
        return load_model(model or settings.serving.model, settings)
    except TagwiseError:
        if required:
            raise
        return None, None


@search_app.command("rebuild")
def rebuild(
    projects: Annotated[
        Path | None, typer.Option(help="Projects file (default search.catalogue)")
    ] = None,
    model: ModelOpt = None,
    no_suggestions: Annotated[
        bool, typer.Option("--no-suggestions", help="Index author tags only")
    ] = False,
    config: ConfigOpt = None,
) -> None:
    """Replace the whole index with a projects file, suggested tags attached by the model.

    Atomic: a running server keeps answering from the old index until the new one
    commits, then picks it up on its next query.
    """
    from tagwise.catalogue import build_catalogue, index_path, open_index

    settings = _settings(config)
    bundle, version = (None, None) if no_suggestions else _load(settings, model, required=True)
    con = Console(stderr=True)
    t0 = time.perf_counter()
    with open_index(settings, bundle) as index:
        n = build_catalogue(index, settings, bundle, projects)
    suggested = f"suggestions from model v{version}" if bundle else "no suggestions"
    con.print(
        f"indexed {n} projects ({suggested}) in {time.perf_counter() - t0:.1f} s → "
        f"{index_path(settings)}"
    )


@search_app.command("query")
def query(
    text: Annotated[str, typer.Argument(help='Free text (words AND, `OR`, "phrases")')] = "",
    tag: Annotated[
        list[str] | None, typer.Option("--tag", "-t", help="Tag filter (repeat)")
    ] = None,
    any_of: Annotated[bool, typer.Option("--any", help="Any of the tags (default all)")] = False,
    limit: Annotated[int, typer.Option(min=1, max=100)] = 10,
    config: ConfigOpt = None,
) -> None:
    """Search the index as the API does; prints the hits and the top facets."""
    from tagwise.catalogue import open_existing_index
    from tagwise.search import SearchQuery

    settings = _settings(config)
    with open_existing_index(settings) as index:
        q = SearchQuery(q=text, tags=tuple(tag or ()), mode="any" if any_of else "all", limit=limit)
        result = index.search(q)
    con = Console()
    table = Table("id", "score", "title", "author tags", "suggested", title=f"{result.total} hits")
    for h in result.hits:
        table.add_row(
            str(h.id),
            f"{h.score:.3f}",
            h.title,
            ", ".join(h.author_tags),
            ", ".join(f"{s.tag} {s.score:.2f}" for s in h.suggested_tags),
        )
    con.print(table)
    facets = ", ".join(f"{f.tag} ({f.count})" for f in result.facets[:10])
    con.print(f"facets: {facets}  [dim]{result.took_ms:.1f} ms[/]", highlight=False)


def impact(
    model: ModelOpt = None,
    projects: Annotated[Path, typer.Option(help="Labelled projects file")] = Path(
        "datasets/projects.json"
    ),
    tags: Annotated[Path, typer.Option(help="Vocabulary tags.json")] = Path("datasets/tags.json"),
    keep: Annotated[
        float, typer.Option(min=0.05, max=1.0, help="Sparse scenario: author-tag keep rate")
    ] = 0.5,
    n_boot: Annotated[int, typer.Option(min=50, help="Bootstrap resamples")] = 1000,
    write: Annotated[
        Path | None, typer.Option(help="Also replace a section of this markdown file")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """How much easier suggestions make held-out projects to find (P1 test split).

    Prints the tables and a plain-language summary; saves <home>/impact.json and
    <home>/impact.png, which GET /v1/impact and the /impact page show.
    """
    from tagwise.impact_run import impact_payload, run_impact, save_impact

    settings = _settings(config)
    bundle, version = _load(settings, model, required=True)
    t0 = time.perf_counter()
    report = run_impact(settings, bundle, projects, tags, keep=keep, n_boot=n_boot)
    ref = model or settings.serving.model
    payload = impact_payload(report, {"ref": ref, "version": str(version)})
    path = save_impact(settings.home, payload)
    typer.echo(report.markdown())
    con = Console(stderr=True)
    con.print(f"[bold]{report.summary()}[/]", highlight=False)
    con.print(f"saved {path} and {path.with_name('impact.png')} ({time.perf_counter() - t0:.0f} s)")
    if write is not None:
        _write_section(write, report, ref, version, projects)
        con.print(f"updated {write}")


def _write_section(path: Path, report, ref: str, version, projects: Path) -> None:
    """``## Discoverability: served model`` in a benchmarks file (date, machine, command)."""
    import platform
    from datetime import UTC, datetime

    from tagwise.impact_run import replace_markdown_section

    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    body = (
        f"## Discoverability: served model\n\n- date: {now}\n- machine: {platform.node()}\n"
        f"- command: `tagwise impact --write {path}`\n- model: `{ref}` (version {version}); "
        f"data: `{projects}`, P1 test split\n\n{report.markdown()}"
    )
    replace_markdown_section(path, "Discoverability: served model", body)


def register(app: typer.Typer) -> None:
    """Add the search commands to the main CLI."""
    app.add_typer(search_app, name="search")
    app.command()(impact)
