"""Health, readiness, metrics, admin reload and problem answers for unknown routes."""

from __future__ import annotations

import re

import pytest
from api_support import ADMIN_TOKEN, tiny_settings
from fastapi.testclient import TestClient

from tagwise.serving import create_app

AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}


def test_healthz_and_readyz(client):
    assert client.get("/healthz").json() == {"status": "ok", "model": None}
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["model"]["version"] == "1"


def test_readyz_is_503_until_a_model_is_loaded(tmp_path, problem):
    """A model that is not there: the app starts, stays alive, and says it is not ready."""
    app = create_app(tiny_settings(tmp_path), model_ref=str(tmp_path / "no-model-yet"))
    with TestClient(app) as c:
        assert c.get("/healthz").status_code == 200
        assert problem(c.get("/readyz"), 503)
        r = c.post("/v1/suggest", json={"title": "x"})
        assert problem(r, 503)
        assert r.headers["retry-after"] == "5"  # loading: clients may retry soon
        assert problem(c.post("/v1/admin/reload", headers=AUTH), 503)


def test_a_model_directory_can_be_served(registry_home, tmp_path):
    settings = tiny_settings(tmp_path)
    app = create_app(settings, model_ref=str(registry_home / "exported"))
    with TestClient(app) as c:
        body = c.post("/v1/suggest", json={"title": "transformers for nlp"}).json()
        assert body["model"]["name"] == "tfidf-linear"
        assert re.fullmatch(r"exported@[0-9a-f]{8}", body["model"]["version"])


def test_unknown_route_and_method_are_problems(client, problem):
    assert problem(client.get("/v2/nothing"), 404)
    assert problem(client.get("/v1/suggest"), 405)
    assert problem(client.delete("/v1/tags"), 405)
    allow = client.delete("/v1/tags").headers.get("allow", "")
    assert {m.strip() for m in allow.split(",")} >= {"GET", "HEAD"}  # HEAD works there too
    # the route decides first: no body check where no route would read the body
    text = {"content-type": "text/plain"}
    assert problem(client.post("/v1/tags", content=b"x", headers=text), 405)
    assert problem(client.post("/v2/nothing", content=b"{" + b" " * 2_000_000 + b"}"), 404)
    assert problem(client.post("/v1/suggest", content=b"x", headers=text), 415)  # routed: checked


@pytest.mark.parametrize("path", ["/healthz", "/readyz", "/v1/tags", "/", "/search"])
def test_head_answers_like_get_without_a_body(client, path):
    get, head = client.get(path), client.head(path)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    if "content-length" in get.headers:
        assert head.headers["content-length"] == get.headers["content-length"]


def test_head_on_a_post_only_route_is_405_and_metrics_answer_head(client):
    r = client.head("/v1/suggest")
    assert r.status_code == 405 and r.content == b""
    metrics = client.head("/metrics")  # its counters move between calls: status only
    assert metrics.status_code == 200 and metrics.content == b""


def test_metrics_count_requests_suggestions_and_the_model(client):
    client.post("/v1/suggest", json={"title": "image classification with cnn"})
    client.post("/v1/suggest", json={"title": ""})
    client.get("/v1/tags/definitely-unknown")
    text = client.get("/metrics").text
    assert 'tagwise_model_info{name="tagwise",version="1"} 1.0' in text
    assert 'tagwise_http_requests_total{method="POST",route="/v1/suggest",status="200"}' in text
    assert 'tagwise_http_requests_total{method="POST",route="/v1/suggest",status="422"}' in text
    assert 'route="/v1/tags/{tag}",status="404"' in text, "route templates, not raw paths"
    assert "tagwise_http_request_duration_seconds_bucket" in text
    assert 'tagwise_suggest_projects_total{endpoint="suggest"}' in text


def test_each_app_has_its_own_metrics_registry(client, settings):
    other = create_app(settings)
    assert other.state.metrics.registry is not client.app.state.metrics.registry


def test_admin_reload_needs_the_token(client, problem):
    assert problem(client.post("/v1/admin/reload"), 401)
    assert problem(client.post("/v1/admin/reload", headers={"authorization": "Bearer nope"}), 401)
    r = client.post("/v1/admin/reload", headers=AUTH)
    assert r.json() == {"previous": "1", "current": "1", "swapped": False}
    r = client.post("/v1/admin/reload?force=true", headers=AUTH)
    assert r.json()["swapped"] is True and r.json()["current"] == "1"


def test_admin_is_forbidden_without_a_configured_token(settings, tmp_path, problem):
    app = create_app(
        settings.model_copy(
            update={
                "serving": settings.serving.model_copy(update={"admin_token": None}),
                "database_url": f"sqlite:///{tmp_path / 'f.db'}",
            }
        )
    )
    with TestClient(app) as c:
        assert problem(c.post("/v1/admin/reload", headers=AUTH), 403)


def test_ui_is_served_at_the_root(client):
    r = client.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert "<html" in r.text.lower()


def test_openapi_documents_the_limits(client):
    spec = client.get("/openapi.json").json()
    schemas = spec["components"]["schemas"]
    assert schemas["Project"]["properties"]["title"]["maxLength"] == 300
    assert schemas["BatchRequest"]["properties"]["items"]["maxItems"] == 1000
    assert "examples" in schemas["SuggestRequest"]
    assert "413" in spec["paths"]["/v1/suggest/batch"]["post"]["responses"]
