"""Fixtures for the Ray tests: one local Ray instance per session, started on first use.

Every test here is marked ``ray`` (select with ``-m ray``, skip with ``-m 'not ray'``)
and is skipped when Ray is not installed. Ray starts only when a test asks for
``ray_cluster`` and is shut down at the end of the session.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
API_TESTS = ROOT / "tests" / "api"
if str(API_TESTS) not in sys.path:  # api_support, shared with the API suite
    sys.path.insert(0, str(API_TESTS))

from api_support import TAGS, TINY, assert_problem, tiny_settings  # noqa: E402

from tagwise.config import Settings  # noqa: E402


def pytest_collection_modifyitems(items) -> None:
    """Mark every test of this folder ``ray``."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.fspath)).parents:
            item.add_marker(pytest.mark.ray)


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[object]:
    """``ray`` with a local 2-CPU instance; shut down after the session."""
    ray = pytest.importorskip("ray", exc_type=ImportError)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
    )
    try:
        yield ray
    finally:
        ray.shutdown()


@pytest.fixture(scope="session")
def ray_home(tmp_path_factory) -> Path:
    """A tagwise home whose registry has the tiny model as champion (version 1)."""
    from tagwise.pipeline import train

    home = tmp_path_factory.mktemp("ray-home")
    result = train(tiny_settings(home), TINY, TAGS, out=home / "exported")
    assert result.version == 1 and result.promoted is not None and result.promoted.promote
    return home


@pytest.fixture(scope="session")
def ray_settings(ray_home: Path) -> Settings:
    """Settings of the shared Ray test home."""
    return tiny_settings(ray_home)


@pytest.fixture(scope="session")
def problem():
    """:func:`assert_problem` for the reused API tests."""
    return assert_problem
