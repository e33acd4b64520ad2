"""Prediction log through the API: ids in responses, feedback linking, the injected
clock, /v1/monitoring, /monitoring and the drift series on /metrics."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from tagwise.monitoring.monitor import state_path
from tagwise.monitoring.predictions import read_feedback, read_predictions
from tagwise.serving import create_app

T0 = datetime(2020, 6, 1, 9, tzinfo=UTC)
BODY = {"title": "BERT for question answering", "description": "transformers on SQuAD"}


@pytest.fixture()
def app_client(settings, tmp_path):
    home = tmp_path / "home"
    s = settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "home": home,
            "tracking": settings.tracking.model_copy(
                update={
                    "uri": settings.tracking_uri,
                    "artifact_location": settings.artifact_location,
                }
            ),
        }
    )
    app = create_app(s, clock=lambda: T0)
    with TestClient(app) as client:
        yield app, client, s


def test_suggest_is_logged_and_feedback_links_to_it(app_client):
    app, client, _ = app_client
    r = client.post("/v1/suggest", json=BODY)
    assert r.status_code == 200, r.text
    pid = r.json()["prediction_id"]
    assert pid and len(pid) == 32
    tags = [t["tag"] for t in r.json()["tags"]]
    fb = {**BODY, "suggested": tags, "accepted": tags[:1], "added": [], "prediction_id": pid}
    assert client.post("/v1/feedback", json=fb).status_code == 201
    without_id = {**BODY, "suggested": tags, "accepted": [], "added": []}
    assert client.post("/v1/feedback", json=without_id).status_code == 201  # old UI still works
    assert app.state.predictions.flush(5)
    engine = app.state.store.engine
    (row,) = read_predictions(engine)
    assert row.id == pid and row.created == T0 and row.model_version == "1"
    assert [t for t, _ in row.tags] == tags and 0 <= row.top_score <= 1
    feedback = read_feedback(engine)
    assert row.feedback_id == feedback[0].id
    assert all(f.created == T0 for f in feedback)  # the injected clock, not the wall clock


def test_batch_items_are_logged(app_client):
    app, client, _ = app_client
    r = client.post("/v1/suggest/batch", json={"items": [BODY, {"title": "YOLO detection"}]})
    assert r.status_code == 200
    ids = r.json()["prediction_ids"]
    assert len(ids) == 2
    assert app.state.predictions.flush(5)
    assert {p.id for p in read_predictions(app.state.store.engine)} == set(ids)


def test_bad_prediction_id_is_a_422_problem(app_client, problem):
    _, client, _ = app_client
    r = client.post("/v1/feedback", json={**BODY, "prediction_id": "not hex!"})
    assert problem(r, 422, "prediction_id")


def test_monitoring_state_page_and_metrics(app_client):
    _, client, s = app_client
    assert client.get("/v1/monitoring").json()["windows"] == []
    page = client.get("/monitoring")
    assert page.status_code == 200 and "tagwise monitor" in page.text
    assert 'class="topbar"' in page.text and 'aria-current="page">Monitoring' in page.text
    state = {
        "windows": [
            {
                "label": "2020-06-01",
                "n": 50,
                "alert": True,
                "fired": ["text_length_ks"],
                "performance": {},
                "tests": [
                    {"name": "text_length_ks", "statistic": 0.4, "threshold": 0.01,
                     "drifted": True, "p_value": 0.001, "detail": ""},
                ],
                "uptake": [
                    {"kind": "head", "predictions": 10, "shown": 20, "kept": 10, "rate": 0.5},
                ],
            }
        ],
        "alerts_total": {"text_length_ks": 2},
        "uptake": [
            {"kind": "head", "predictions": 40, "shown": 80, "kept": 60, "rate": 0.75},
            {"kind": "zero-shot", "predictions": 5, "shown": 6, "kept": 0, "rate": 0.0},
        ],
    }  # fmt: skip
    state_path(s).parent.mkdir(parents=True, exist_ok=True)
    state_path(s).write_text(json.dumps(state))
    (state_path(s).parent / "report.html").write_text("<html>the report</html>")
    assert client.get("/v1/monitoring").json()["alerts_total"] == {"text_length_ks": 2}
    assert client.get("/monitoring").text == "<html>the report</html>"
    metrics = client.get("/metrics").text
    assert 'tagwise_drift_statistic{test="text_length_ks"} 0.4' in metrics
    assert 'tagwise_drift_alerts_total{test="text_length_ks"} 2.0' in metrics
    assert 'tagwise_drift_alert{test="text_length_ks"} 1.0' in metrics
    assert 'tagwise_suggestions_kept_ratio{kind="head"} 0.75' in metrics
    assert 'tagwise_suggestions_kept_ratio{kind="zero-shot"} 0.0' in metrics
    assert 'tagwise_suggestions_kept_ratio_window{kind="head"} 0.5' in metrics
    assert 'tagwise_suggestions_kept_ratio_window{kind="zero-shot"}' not in metrics


def test_logging_can_be_switched_off(settings, tmp_path):
    s = settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp_path / 'db.sqlite'}",
            "monitoring": settings.monitoring.model_copy(update={"log_predictions": False}),
        }
    )
    with TestClient(create_app(s)) as client:
        r = client.post("/v1/suggest", json=BODY)
        assert r.status_code == 200 and r.json()["prediction_id"] is None


def test_index_links_the_monitoring_page(client):
    assert 'href="monitoring"' in client.get("/").text
