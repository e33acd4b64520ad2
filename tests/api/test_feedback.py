"""POST /v1/feedback: vocabulary checks, canonical storage, durable SQLite settings."""

from __future__ import annotations

from sqlalchemy import text

FEEDBACK = {
    "project_id": "p-1",
    "title": "BERT for question answering",
    "description": "Fine-tuning transformers on SQuAD",
    "suggested": ["natural-language-processing", "transformers"],
    "accepted": ["transformers"],
    "added": ["nlp", "question-answering"],
}


def test_feedback_is_stored_with_canonical_tags(client):
    r = client.post("/v1/feedback", json=FEEDBACK)
    assert r.status_code == 201
    new_id = r.json()["id"]
    row = client.app.state.store.get(new_id)
    assert row["project_id"] == "p-1"
    assert row["accepted"] == ["transformers"]
    assert row["added"] == ["natural-language-processing", "question-answering"]
    assert row["suggested"] == FEEDBACK["suggested"]
    assert row["model_version"] == "1"


def test_suggested_is_canonical_and_a_tag_accepted_and_added_counts_once(client):
    body = {
        **FEEDBACK,
        "suggested": ["cv", "computer-vision", "nlp"],
        "accepted": ["cv"],
        "added": ["computer-vision", "question-answering"],
    }
    r = client.post("/v1/feedback", json=body)
    assert r.status_code == 201, r.text
    row = client.app.state.store.get(r.json()["id"])
    assert row["suggested"] == ["computer-vision", "natural-language-processing"]
    assert row["accepted"] == ["computer-vision"]
    assert row["added"] == ["question-answering"]


def test_an_accepted_tag_never_shown_is_stored_as_added_and_counted_as_missed(client):
    body = {
        **FEEDBACK,
        "title": "Graph transformers",
        "suggested": ["transformers"],
        "accepted": ["transformers", "graph-neural-networks"],
        "added": ["graph-neural-networks"],
    }
    r = client.post("/v1/feedback", json=body)
    assert r.status_code == 201, r.text
    row = client.app.state.store.get(r.json()["id"])
    assert row["accepted"] == ["transformers"]
    assert row["added"] == ["graph-neural-networks"]
    stats = client.get("/v1/stats").json()
    assert "graph-neural-networks" in {m["tag"] for m in stats["missed_tags"]}
    silent = {"title": "Graph transformers", "accepted": ["transformers"]}  # no `suggested`
    row = client.app.state.store.get(client.post("/v1/feedback", json=silent).json()["id"])
    assert row["accepted"] == ["transformers"] and row["added"] == []


def test_unknown_suggested_tag_is_422_and_stores_nothing(client, problem):
    store = client.app.state.store
    before = store.count()
    body = {**FEEDBACK, "suggested": ["transformers", "no-such-tag"]}
    assert problem(client.post("/v1/feedback", json=body), 422, "suggested[1]")
    assert store.count() == before


def test_ids_are_distinct(client):
    ids = {client.post("/v1/feedback", json=FEEDBACK).json()["id"] for _ in range(5)}
    assert len(ids) == 5


def test_unknown_tags_are_422_naming_each_field(client, problem):
    store = client.app.state.store
    before = store.count()
    body = {**FEEDBACK, "accepted": ["transformers", "not-a-tag"], "added": ["zzz"]}
    p = problem(client.post("/v1/feedback", json=body), 422, "accepted[1]")
    assert "added[0]" in [e["field"] for e in p["errors"]]
    assert store.count() == before, "a rejected write stores nothing"


def test_feedback_field_errors(client, problem):
    assert problem(client.post("/v1/feedback", json={**FEEDBACK, "title": ""}), 422, "title")
    r = client.post("/v1/feedback", json={**FEEDBACK, "accepted": "nlp"})
    assert problem(r, 422, "accepted")
    assert problem(client.post("/v1/feedback", json={**FEEDBACK, "added": [""]}), 422, "added[0]")


def test_control_characters_in_tags_and_ids_are_422(client, problem):
    for field, value in (("added", ["nlp\u0000"]), ("project_id", "p\u0000")):
        r = client.post("/v1/feedback", json={**FEEDBACK, field: value})
        assert problem(r, 422, "added[0]" if field == "added" else field)


def test_project_id_and_lists_are_optional(client):
    r = client.post("/v1/feedback", json={"title": "just a title"})
    assert r.status_code == 201


def test_sqlite_runs_in_wal_mode_with_full_sync(client):
    with client.app.state.store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
