"""Without the ``tagwise[ray]`` extra: the core never imports Ray, and asking for it is clear."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tagwise.cli import app
from tagwise.errors import NotSupportedError


@pytest.fixture()
def no_ray(monkeypatch):
    """Make ``import ray`` (and its submodules) fail as if Ray were not installed."""
    for name in ("ray", "ray.data", "ray.serve", "ray.tune"):
        monkeypatch.setitem(sys.modules, name, None)


def test_predict_backend_ray_names_the_extra(no_ray, tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": 1, "title": "t"}) + "\n")
    result = CliRunner().invoke(
        app,
        [
            "predict",
            "--backend",
            "ray",
            "--input",
            str(src),
            "--output",
            str(tmp_path / "o"),
            "--model",
            str(tmp_path),
        ],
    )
    assert isinstance(result.exception, NotSupportedError), result.output
    assert "pip install 'tagwise[ray]'" in result.exception.message


def test_serve_backend_ray_names_the_extra(no_ray):
    from tagwise.distributed.serving import build_deployment

    with pytest.raises(NotSupportedError, match=r"tagwise\[ray\]"):
        build_deployment(None, replicas=1)  # type: ignore[arg-type]


def test_an_unknown_backend_lists_the_valid_ones(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text("{}\n")
    result = CliRunner().invoke(app, ["predict", "--backend", "spark", "--input", str(src)])
    assert "local, ray" in str(result.exception)


def test_the_core_and_the_cli_never_import_ray():
    code = (
        "import sys, tagwise.cli, tagwise.serving, tagwise.pipeline, tagwise.distributed.batch,"
        " tagwise.distributed.serving, tagwise.distributed.commands, tagwise.distributed.tuning;"
        " print(any(m == 'ray' or m.startswith('ray.') for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_serve_and_tune_backend_ray_name_the_extra(no_ray, tmp_path, monkeypatch):
    root = Path(__file__).resolve().parents[2]
    tiny, tags = root / "tests" / "data" / "projects_tiny.json", root / "datasets" / "tags.json"
    monkeypatch.setenv("TAGWISE_HOME", str(tmp_path))
    config = tmp_path / "config.yaml"
    config.write_text("labels: {min_freq: 5}\ntracking: {enabled: false}\n")
    runner = CliRunner()
    serve = runner.invoke(
        app, ["serve", "--backend", "ray", "--model", str(tmp_path), "--config", str(config)]
    )
    tune = runner.invoke(
        app,
        [
            "tune",
            "--backend",
            "ray",
            "--projects",
            str(tiny),
            "--tags",
            str(tags),
            "--trials",
            "1",
            "--config",
            str(config),
        ],
    )
    for result in (serve, tune):
        assert isinstance(result.exception, NotSupportedError), result.output
        assert "pip install 'tagwise[ray]'" in result.exception.message


def test_the_console_prints_the_extra_verbatim(tmp_path):
    """Through the real entry point: rich must not eat ``[ray]`` as markup."""
    fake = tmp_path / "site" / "ray"
    fake.mkdir(parents=True)
    (fake / "__init__.py").write_text("raise ModuleNotFoundError(\"No module named 'ray'\")\n")
    src = tmp_path / "in.jsonl"
    src.write_text('{"id": 1, "title": "t"}\n')
    code = "import sys; from tagwise.cli import main; sys.argv = sys.argv[1:]; main()"
    args = [
        "tagwise",
        "predict",
        "--backend",
        "ray",
        "--input",
        str(src),
        "--output",
        str(tmp_path / "out"),
        "--model",
        str(tmp_path),
    ]
    env = {
        "PYTHONPATH": str(tmp_path / "site"),
        "COLUMNS": "300",
        "NO_COLOR": "1",
        "PATH": "/usr/bin:/bin",
    }
    proc = subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, timeout=120
    )
    assert proc.returncode == 1
    assert "pip install 'tagwise[ray]'" in proc.stderr, proc.stderr
