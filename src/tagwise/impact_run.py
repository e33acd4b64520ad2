"""``tagwise impact``: the discoverability evaluation of a trained model, saved for the API.

The evaluation itself is :func:`tagwise.impact.discoverability_report` (pure); this
module picks its inputs — the P1 test split of a data file, which the champion never
trained on (decision 0002) — and stores the result as ``<home>/impact.json`` (summary,
tables, plot) plus ``<home>/impact.png``, which ``GET /v1/impact`` and the UI read.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from tagwise.config import Settings
from tagwise.fileio import atomic_write_text
from tagwise.impact import DiscoverabilityReport

IMPACT_FILE = "impact.json"
IMPACT_PNG = "impact.png"


def run_impact(
    settings: Settings,
    bundle,
    projects: Path,
    tags: Path,
    *,
    keep: float = 0.5,
    n_boot: int = 1000,
) -> DiscoverabilityReport:
    """Discoverability on the P1 test split of ``projects`` with ``bundle``'s suggestions."""
    from tagwise.errors import ConfigError
    from tagwise.impact import discoverability_report
    from tagwise.pipeline import load_inputs, make_split, prepare_dataset

    if getattr(bundle.policy, "mode", "multi") == "single":
        raise ConfigError(
            "impact measures how suggested tags make projects findable by tag search; "
            "this model is single-label (one category per project): evaluate it instead"
        )
    result, taxonomy = load_inputs(projects, tags, settings)
    prepared = prepare_dataset(result, taxonomy, settings)
    split = make_split(prepared, settings)
    head = list(prepared.labels.labels)
    by_id = {p.id: p for p in result.dataset.projects}
    rows = list(split.test)
    test = [by_id[prepared.ids[i]] for i in rows]
    labels = {prepared.ids[i]: {head[j] for j in prepared.Y[i].nonzero()[0]} for i in rows}
    return discoverability_report(
        test, labels, head, taxonomy, bundle, keep=keep, seed=settings.seed, n_boot=n_boot
    )


def impact_payload(
    report: DiscoverabilityReport, model: dict[str, str], *, now: datetime | None = None
) -> dict[str, Any]:
    """What ``impact.json`` holds: summary, markdown, per-variant numbers and the plot."""
    results = []
    for r in report.results:
        row: dict[str, str | float] = {
            "scenario": r.scenario,
            "variant": r.variant.key,
            "label": r.variant.label,
        }
        for kind, metrics in (("tag", r.tag_query), ("text", r.text_query)):
            for name, est in metrics.items():
                row[f"{kind}_{name}"] = round(est.value, 4)
                row[f"{kind}_{name}_low"] = round(est.low, 4)
                row[f"{kind}_{name}_high"] = round(est.high, 4)
        row["findable"] = round(r.findable.value, 4)
        row["findable_low"] = round(r.findable.low, 4)
        row["findable_high"] = round(r.findable.high, 4)
        results.append(row)
    return {
        "computed_at": (now or datetime.now(UTC)).isoformat(),
        "model": model,
        "n_projects": report.n_projects,
        "n_queries": report.n_queries,
        "summary": report.summary(),
        "markdown": report.markdown(),
        "results": results,
        "plot": report.plot_base64(),
    }


def save_impact(home: Path, payload: dict[str, Any], png: bytes | None = None) -> Path:
    """Write ``impact.json`` (and the PNG) atomically; returns the JSON path."""
    import base64

    path = atomic_write_text(Path(home) / IMPACT_FILE, json.dumps(payload))
    if png is None:
        png = base64.b64decode(payload["plot"].split(",", 1)[1])
    tmp = path.with_name(f".{IMPACT_PNG}.tmp")
    tmp.write_bytes(png)
    tmp.replace(path.with_name(IMPACT_PNG))
    return path


def load_impact(home: Path) -> dict[str, Any] | None:
    """The stored payload, or None when ``tagwise impact`` has not run."""
    path = Path(home) / IMPACT_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None


def replace_markdown_section(path: Path, title: str, body: str) -> None:
    """Replace the ``## title`` section of a markdown file, or append it (atomically).

    The same rule as ``benchmarks/_common.replace_section``, which the package cannot import.
    """
    import re

    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    section = body.rstrip() + "\n\n"
    if pattern.search(text):
        text = pattern.sub(lambda _: section, text)
    else:
        text = text.rstrip() + "\n\n" + section
    atomic_write_text(path, text)
