"""Helpers shared by the API tests (a module, so tests can import it by name)."""

from __future__ import annotations

from pathlib import Path

from tagwise.config import Settings, load_settings

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "data" / "projects_tiny.json"
TAGS = ROOT / "datasets" / "tags.json"
ADMIN_TOKEN = "test-admin-token"


def tiny_settings(home: Path, **overrides) -> Settings:
    """Settings for the tiny corpus (fast training) rooted at ``home``."""
    serving = {"watch_interval": 0, "admin_token": ADMIN_TOKEN, **overrides.pop("serving", {})}
    return load_settings(
        home=home,
        labels={"min_freq": 5},
        eval={"n_boot": 50, "temporal": False},
        gate={"p99_latency_ms": 1000.0},  # the tests must not depend on machine load
        serving=serving,
        search={"catalogue": TINY, **overrides.pop("search", {})},  # index the tiny corpus
        **overrides,
    )


def assert_problem(response, status: int, field: str | None = None) -> dict:
    """The response is an RFC 9457 problem with ``status`` (naming ``field`` if given)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status
    assert body["type"].startswith("https://") and body["title"] and body["detail"]
    if field is not None:
        fields = [e["field"] for e in body["errors"]]
        assert field in fields, fields
    return body
