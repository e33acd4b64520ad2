"""Long-tail suggestions over HTTP: tags outside the label space, marked low confidence.

The served vocabulary (``serving.tags``) is a newer ``tags.json`` than the model was
trained with: one tag is new (no examples at all), one existing zero-example tag gets
aliases. Both must be suggested for an obviously matching text, apart from the head tags.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from api_support import TAGS
from fastapi.testclient import TestClient

from tagwise.serving import create_app

NEW_TAG = {
    "tag": "spiking-neural-networks",
    "aliases": ["snn", "spiking-nets"],
    "parents": ["deep-learning"],
    "description": "Neural networks of spiking neurons, run on neuromorphic hardware",
}
QML_ALIASES = ["qml", "quantum-ml"]
SNN = {
    "title": "Spiking neural networks on neuromorphic chips",
    "description": "Training an SNN of spiking neurons for the Loihi neuromorphic processor.",
}
QML = {
    "title": "Quantum machine learning",
    "description": "A QML classifier: quantum machine learning with variational quantum circuits.",
}
BERT = {"title": "BERT for question answering", "description": "Fine-tuning transformers on SQuAD"}


@pytest.fixture(scope="module")
def tail_client(settings, tmp_path_factory) -> Iterator[TestClient]:
    """The registry's champion serving a tags.json edited after it was trained."""
    tmp = tmp_path_factory.mktemp("long-tail")
    records = json.loads(TAGS.read_text())
    for r in records:
        if r["tag"] == "quantum-machine-learning":
            r["aliases"] = QML_ALIASES
    assert all(r["tag"] != NEW_TAG["tag"] for r in records)
    (tmp / "tags.json").write_text(json.dumps([*records, NEW_TAG]))
    served = settings.model_copy(
        update={
            "database_url": f"sqlite:///{tmp / 'feedback.db'}",
            "serving": settings.serving.model_copy(update={"tags": tmp / "tags.json"}),
        }
    )
    with TestClient(create_app(served)) as c:
        yield c


def _tail(body: dict) -> dict[str, dict]:
    return {t["tag"]: t for t in body["long_tail"]}


def test_a_tag_added_after_training_is_suggested_zero_shot(tail_client):
    bundle = tail_client.app.state.holder.get().bundle
    assert NEW_TAG["tag"] not in bundle.labels.labels
    r = tail_client.post("/v1/suggest", json=SNN)
    assert r.status_code == 200, r.text
    body = r.json()
    tail = _tail(body)
    assert NEW_TAG["tag"] in tail, body
    item = tail[NEW_TAG["tag"]]
    assert item["source"] == "zero-shot" and item["confidence"] == "low"
    assert 0 < item["score"] <= 0.5 and -1 <= item["similarity"] <= 1
    assert body["long_tail"][0]["tag"] == NEW_TAG["tag"]  # best first


def test_an_existing_zero_example_tag_matches_its_new_aliases(tail_client):
    tail = _tail(tail_client.post("/v1/suggest", json=QML).json())
    assert tail["quantum-machine-learning"]["source"] == "zero-shot"


def test_long_tail_never_repeats_a_head_tag(tail_client):
    for project in (SNN, QML, BERT, {"title": "object detection with yolo"}):
        body = tail_client.post("/v1/suggest", json=project).json()
        head = {t["tag"] for t in body["tags"]}
        assert head.isdisjoint(_tail(body)), body
    labels = set(tail_client.app.state.holder.get().bundle.labels.labels)
    assert labels.isdisjoint(_tail(tail_client.post("/v1/suggest", json=SNN).json()))


def test_the_flag_turns_the_long_tail_off(tail_client):
    on = tail_client.post("/v1/suggest", json=SNN).json()
    off = tail_client.post("/v1/suggest", json={**SNN, "long_tail": False}).json()
    assert on["long_tail"] and off["long_tail"] == []
    assert off["tags"] == on["tags"]


@pytest.mark.parametrize("value", [1, "yes", None, []])
def test_the_flag_is_a_strict_boolean(tail_client, problem, value):
    r = tail_client.post("/v1/suggest", json={**SNN, "long_tail": value})
    assert problem(r, 422, "long_tail")


def test_min_score_applies_to_the_long_tail(tail_client):
    body = tail_client.post("/v1/suggest", json={**SNN, "min_score": 0.9}).json()
    assert body["long_tail"] == []


def test_batch_returns_a_long_tail_list_per_item(tail_client):
    r = tail_client.post("/v1/suggest/batch", json={"items": [SNN, BERT, QML]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["long_tail"]) == 3
    assert NEW_TAG["tag"] in {t["tag"] for t in body["long_tail"][0]}
    assert "quantum-machine-learning" in {t["tag"] for t in body["long_tail"][2]}
    single = tail_client.post("/v1/suggest", json=SNN).json()
    assert body["long_tail"][0] == single["long_tail"]
    off = tail_client.post("/v1/suggest/batch", json={"items": [SNN], "long_tail": False})
    assert off.json()["long_tail"] == [[]]


def test_an_accepted_long_tail_tag_is_valid_feedback(tail_client):
    r = tail_client.post(
        "/v1/feedback",
        json={**SNN, "suggested": [NEW_TAG["tag"]], "accepted": ["snn"], "added": []},
    )
    assert r.status_code == 201, r.text
    vocab = tail_client.get("/v1/tags").json()["vocabulary"]
    entry = next(v for v in vocab if v["tag"] == NEW_TAG["tag"])
    assert entry["aliases"] == NEW_TAG["aliases"] and not entry["in_label_space"]


def test_the_model_as_trained_suggests_long_tail_without_a_served_vocabulary(client):
    """No ``serving.tags``: the bundle's own vocabulary; old clients may ignore the field."""
    body = client.post("/v1/suggest", json=QML).json()
    assert "quantum-machine-learning" in _tail(body)
    assert "spiking-neural-networks" not in _tail(client.post("/v1/suggest", json=SNN).json())


def test_long_tail_is_counted_in_metrics(tail_client):
    tail_client.post("/v1/suggest", json=SNN)
    text = tail_client.get("/metrics").text
    line = next(
        x
        for x in text.splitlines()
        if x.startswith('tagwise_long_tail_suggestions_total{endpoint="suggest"}')
    )
    assert float(line.split()[-1]) >= 1


def test_openapi_documents_the_long_tail(tail_client):
    schema = tail_client.get("/openapi.json").json()
    comps = schema["components"]["schemas"]
    assert "long_tail" in comps["SuggestResponse"]["properties"]
    assert "long_tail" not in comps["SuggestResponse"].get("required", [])
    assert comps["LongTailTag"]["properties"]["confidence"]["const"] == "low"
    assert comps["SuggestRequest"]["properties"]["long_tail"]["type"] == "boolean"


def test_shown_long_tail_is_logged_and_its_uptake_reaches_the_monitor(
    settings, tail_client, tmp_path
):
    """Logged with its source, joined with the feedback, counted apart from head tags."""
    from tagwise.monitoring.monitor import run_monitor
    from tagwise.monitoring.predictions import read_predictions

    app = tail_client.app
    body = tail_client.post("/v1/suggest", json=SNN).json()
    head = [t["tag"] for t in body["tags"]]
    tail = [t["tag"] for t in body["long_tail"]]
    assert NEW_TAG["tag"] in tail
    fb = {**SNN, "suggested": head + tail, "accepted": [NEW_TAG["tag"]], "added": []}
    fb["prediction_id"] = body["prediction_id"]
    assert tail_client.post("/v1/feedback", json=fb).status_code == 201
    assert app.state.predictions.flush(5)
    (row,) = [p for p in read_predictions(app.state.store.engine) if p.id == fb["prediction_id"]]
    assert [(t, src) for t, _, src in row.long_tail] == [
        (t["tag"], t["source"]) for t in body["long_tail"]
    ]

    served = app.state.holder.get()
    db_url = str(app.state.store.engine.url)
    mon_settings = settings.model_copy(
        update={
            "home": tmp_path,
            "database_url": db_url,
            "monitoring": settings.monitoring.model_copy(update={"min_window": 1}),
        }
    )
    res = run_monitor(mon_settings, bundle=served.bundle, version=served.version, notify=False)
    uptake = {u["kind"]: u for u in res.state["uptake"]}
    assert uptake["zero-shot"]["kept"] >= 1  # the accepted new tag had no examples at all
    assert sum(u["shown"] for k, u in uptake.items() if k != "head") >= len(tail)
    assert uptake.get("head", {"shown": 0})["shown"] >= len(head)
    per_window = [u for w in res.state["windows"] for u in w["uptake"]]
    for kind, whole in uptake.items():  # every window is reported (min_window 1)
        assert sum(u["kept"] for u in per_window if u["kind"] == kind) == whole["kept"]
    html = res.report.read_text()
    assert "Suggestions the authors kept" in html and "zero-shot" in html
    assert 'aria-current="page">Monitoring' in html  # the web UI's header
