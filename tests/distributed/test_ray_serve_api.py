"""The key tests of the API suite, run against ``tagwise serve --backend ray``'s app.

The test functions are the API suite's own (imported from ``tests/api``); only the
``client`` fixture differs: here it is an HTTP client of a Ray Serve deployment with two
replicas, each running ``create_app`` in its own process.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

pytest.importorskip("ray", exc_type=ImportError)

API = Path(__file__).resolve().parents[1] / "api"
REUSED = {
    "test_suggest": [
        "test_suggest_returns_tags_model_and_timing",
        "test_k_and_min_score_limit_the_answer",
        "test_invalid_fields_are_422_problems_naming_the_field",
        "test_invalid_json_is_400",
        "test_body_over_the_limit_is_413",
        "test_chunked_body_over_the_limit_is_413",
        "test_batch_answers_each_item_in_order",
        "test_batch_over_the_limit_is_413_with_a_clear_message",
        "test_empty_batch_and_bad_item_are_422",
    ],
    "test_feedback": [
        "test_ids_are_distinct",
        "test_feedback_field_errors",
        "test_project_id_and_lists_are_optional",
    ],
    "test_ops": [
        "test_healthz_and_readyz",
        "test_unknown_route_and_method_are_problems",
        "test_admin_reload_needs_the_token",
        "test_openapi_documents_the_limits",
    ],
}


def _load(name: str):
    spec = importlib.util.spec_from_file_location(f"api_{name}", API / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


for _module, _names in REUSED.items():
    _mod = _load(_module)
    for _name in _names:
        globals()[_name] = getattr(_mod, _name)


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def serve_url(ray_cluster, ray_settings, tmp_path_factory) -> Iterator[str]:
    """A two-replica deployment on loopback, torn down after the module."""
    from tagwise.distributed import serving

    db = tmp_path_factory.mktemp("ray-db") / "feedback.db"
    settings = ray_settings.model_copy(
        update={
            "database_url": f"sqlite:///{db}",
            "serving": ray_settings.serving.model_copy(
                update={"port": _free_port(), "watch_interval": 0.5}
            ),
        }
    )
    url = serving.start(settings, replicas=2)
    try:
        _wait_ready(url)
        yield url
    finally:
        serving.stop()


def _wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"Ray Serve app at {url} not ready after {timeout}s")


@pytest.fixture(scope="module")
def client(serve_url: str) -> Iterator[httpx.Client]:
    """What the API tests call ``client``: here plain HTTP to the Ray Serve proxy."""
    with httpx.Client(base_url=serve_url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module")
def settings(ray_settings):
    """The settings the reused tests compare against."""
    return ray_settings


def test_proxy_listens_on_loopback_only(serve_url: str) -> None:
    assert serve_url.startswith("http://127.0.0.1:")


def test_every_replica_hot_swaps_to_a_new_champion(client, ray_settings) -> None:
    """Promote a new version; every replica's holder follows the alias on its own."""
    from tagwise.tracking import Tracker

    tracker = Tracker.from_settings(ray_settings)
    v1 = tracker.version(1)
    v2 = tracker.register(v1.run_id)
    tracker.set_alias("champion", v2)
    deadline = time.monotonic() + 30
    streak = 0
    while time.monotonic() < deadline and streak < 20:  # 20 answers in a row, both replicas
        version = client.get("/readyz").json()["model"]["version"]
        streak = streak + 1 if version == str(v2) else 0
        time.sleep(0.05)
    assert streak >= 20, "not every replica swapped to the new champion"
    r = client.post("/v1/suggest", json={"title": "BERT for question answering"})
    assert r.status_code == 200 and r.json()["model"]["version"] == str(v2)
