"""``tagwise search rebuild|query`` and ``tagwise impact`` on the tiny corpus (CliRunner)."""

from __future__ import annotations

import json
import re
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
    monkeypatch.chdir(tmp_path)  # no datasets/tags.json here: the index's own vocabulary
    elsewhere = runner.invoke(app, ["search", "query", "bert", "--tag", "nlp", "--limit", "3"])
    assert elsewhere.exit_code == 0, elsewhere.output

    def untimed(out: str) -> str:
        return re.sub(r"[\d.]+ ms", "", out)

    assert untimed(elsewhere.output) == untimed(found.output)  # same hits, tags, facets
    monkeypatch.setenv("TAGWISE_HOME", str(tmp_path / "fresh"))
    fresh = runner.invoke(app, ["search", "query", "bert"])
    assert fresh.exit_code == 1 and "search rebuild" in str(fresh.exception)
    assert not (tmp_path / "fresh" / "search.db").exists()
    monkeypatch.setenv("TAGWISE_HOME", str(tmp_path))
    monkeypatch.chdir(ROOT)

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


def test_bootstrap_computes_impact_once_and_never_overwrites(model_dir, tmp_path):
    """``make run`` leaves /impact populated; a stored ``tagwise impact`` result is kept."""
    import io

    from rich.console import Console

    from tagwise.cli import _ensure_impact
    from tagwise.config import load_settings
    from tagwise.loading import load_model

    settings = load_settings(home=tmp_path, labels={"min_freq": 5}, tracking={"enabled": False})
    bundle, _ = load_model(str(model_dir), settings)
    out = io.StringIO()
    con = Console(file=out, width=10_000)
    path = _ensure_impact(settings, bundle, "3", TINY, TAGS, con, n_boot=50)
    assert path == tmp_path / "impact.json"
    payload = json.loads(path.read_text())
    assert payload["model"]["version"] == "3" and payload["summary"] in out.getvalue()
    before = path.stat().st_mtime_ns
    assert _ensure_impact(settings, bundle, "4", TINY, TAGS, Console(file=io.StringIO())) is None
    assert path.stat().st_mtime_ns == before  # not recomputed, not overwritten


def test_bootstrap_impact_failure_is_reported_not_fatal(model_dir, tmp_path):
    """A corrupt stored result is recomputed; a failing evaluation never stops `make run`."""
    import io

    from rich.console import Console

    from tagwise.cli import _ensure_impact
    from tagwise.config import load_settings
    from tagwise.loading import load_model

    settings = load_settings(home=tmp_path, labels={"min_freq": 5}, tracking={"enabled": False})
    bundle, _ = load_model(str(model_dir), settings)
    assert _ensure_impact(settings, bundle, "1", TINY, None, Console(file=io.StringIO())) is None
    assert not (tmp_path / "impact.json").exists()  # no vocabulary: not computed
    (tmp_path / "impact.json").write_text("{not json")
    path = _ensure_impact(settings, bundle, "1", TINY, TAGS, Console(file=io.StringIO()), n_boot=50)
    assert path is not None and json.loads(path.read_text())["model"]["version"] == "1"
    path.unlink()
    out = io.StringIO()
    missing = tmp_path / "missing.json"
    con = Console(file=out, width=10_000)
    assert _ensure_impact(settings, bundle, "1", missing, TAGS, con, n_boot=50) is None
    assert "skipped /impact" in out.getvalue() and not path.exists()
