"""API fixtures: one tiny model trained and registered once, apps built per test module.

The tiny corpus trains in about two seconds; every test module shares that registry
and builds its own app (``create_app`` has no global state, so apps never interfere).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import TAGS, TINY, assert_problem, tiny_settings
from fastapi.testclient import TestClient

from tagwise.config import Settings
from tagwise.serving import create_app


@pytest.fixture(scope="session")
def registry_home(tmp_path_factory) -> Path:
    """A tagwise home whose registry has version 1 of the tiny model as champion."""
    from tagwise.pipeline import train

    home = tmp_path_factory.mktemp("api-home")
    result = train(tiny_settings(home), TINY, TAGS, out=home / "exported")
    assert result.version == 1 and result.promoted is not None and result.promoted.promote
    return home


@pytest.fixture(scope="session")
def settings(registry_home: Path) -> Settings:
    """Settings of the shared registry home."""
    return tiny_settings(registry_home)


@pytest.fixture(scope="module")
def client(settings: Settings, tmp_path_factory) -> Iterator[TestClient]:
    """A started app (lifespan run: model loaded) with its own feedback database."""
    db = tmp_path_factory.mktemp("db") / "feedback.db"
    app = create_app(settings.model_copy(update={"database_url": f"sqlite:///{db}"}))
    with TestClient(app) as c:
        yield c


@pytest.fixture(scope="session")
def problem():
    """:func:`assert_problem`, as a fixture so test modules need not import conftest."""
    return assert_problem
