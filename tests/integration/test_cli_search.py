"""``tagwise search rebuild|query`` and ``tagwise impact`` on the tiny corpus (CliRunner)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tagwise.cli import app

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "data" / "projects_tiny.json"
TAGS = ROOT / "datasets" / "tags.json"


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory) -> Path:
    from tagwise.config import load_settings
    from tagwise.pipeline import train

    home = tmp_path_factory.mktemp("cli-search-train")
    settings = load_settings(
        home=home,
        labels={"min_freq": 5},
        eval={"n_boot": 50, "temporal": False, "baselines": []},
        tracking={"enabled": False},
    )
    train(settings, TINY, TAGS, out=home / "model")
    return home / "model"


def test_rebuild_query_and_impact(model_dir, tmp_path, monkeypatch):
    monkeypatch.setenv("TAGWISE_HOME", str(tmp_path))
    monkeypatch.setenv("TAGWISE_LABELS__MIN_FREQ", "5")
    monkeypatch.setenv("TAGWISE_TRACKING__ENABLED", "false")
    runner = CliRunner()
    built = runner.invoke(
        app, ["search", "rebuild", "--projects", str(TINY), "--model", str(model_dir)]
    )
    assert built.exit_code == 0, built.output
    assert (tmp_path / "search.db").is_file()

    found = runner.invoke(app, ["search", "query", "bert", "--tag", "nlp", "--limit", "3"])
    assert found.exit_code == 0, found.output
    assert "hits" in found.output and "facets:" in found.output

    bench = tmp_path / "bench.md"
    bench.write_text("# Benchmarks\n\n## Other\n\nkept\n")
    impact = runner.invoke(
        app,
        [
            "impact",
            "--model",
            str(model_dir),
            "--projects",
            str(TINY),
            "--n-boot",
            "50",
            "--write",
            str(bench),
        ],
    )
    assert impact.exit_code == 0, impact.output
    assert "recall@10" in impact.output
    payload = json.loads((tmp_path / "impact.json").read_text())
    assert payload["summary"] and payload["plot"].startswith("data:image/png;base64,")
    assert (tmp_path / "impact.png").read_bytes().startswith(b"\x89PNG")
    text = bench.read_text()
    assert "## Other\n\nkept" in text and "## Discoverability: served model" in text
