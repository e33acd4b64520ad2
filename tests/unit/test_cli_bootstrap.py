"""`make run` must always end with a model to serve, whatever the gate says of the first one."""

from __future__ import annotations

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from rich.console import Console

from tagwise import cli
from tagwise.config import ModelConfig, load_settings


def _result(backend: str, promote: bool) -> SimpleNamespace:
    decision = SimpleNamespace(promote=promote, summary=lambda: f"{backend} promote={promote}")
    return SimpleNamespace(metrics={"test_micro_f1": 0.5}, version=1, promoted=decision, report="r")


@pytest.fixture()
def trained(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace training: the champion-like model is refused, the default one promoted."""
    calls: list[str] = []

    def fake_train(settings, projects, tags, progress=None):
        calls.append(settings.model.backend)
        return _result(settings.model.backend, settings.model == ModelConfig())

    monkeypatch.setattr("tagwise.pipeline.train", fake_train)
    return calls


def test_refused_first_model_falls_back_to_default(tmp_path: Path, trained: list[str]) -> None:
    settings = load_settings(None, home=tmp_path, model={"backend": "ensemble"})
    cli._ensure_champion(settings, Path("p.json"), None, Console(file=io.StringIO()))
    assert trained == ["ensemble", ModelConfig().backend]


def test_promoted_first_model_is_kept(tmp_path: Path, trained: list[str]) -> None:
    settings = load_settings(None, home=tmp_path)
    cli._ensure_champion(settings, Path("p.json"), None, Console(file=io.StringIO()))
    assert trained == [ModelConfig().backend]
