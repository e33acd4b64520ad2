"""POST /v1/suggest and /v1/suggest/batch: answers, limits and client errors."""

from __future__ import annotations

import json

import pytest

BERT = {"title": "BERT for question answering", "description": "Fine-tuning transformers on SQuAD"}


def test_suggest_returns_tags_model_and_timing(client, settings):
    r = client.post("/v1/suggest", json=BERT)
    assert r.status_code == 200
    body = r.json()
    assert body["model"] == {"name": "tagwise", "version": "1"}
    assert body["took_ms"] >= 0
    tags = body["tags"]
    assert tags, "the tiny model should suggest something for an NLP project"
    scores = [t["score"] for t in tags]
    assert scores == sorted(scores, reverse=True)
    assert all(0 <= s <= 1 for s in scores)
    assert "natural-language-processing" in {t["tag"] for t in tags}


def test_suggest_matches_in_process_bundle(client):
    """One serving path: the API answers exactly what ``bundle.suggest`` does."""
    served = client.app.state.holder.get()
    expected = served.bundle.suggest([(BERT["title"], BERT["description"])], k=2)[0]
    r = client.post("/v1/suggest", json={**BERT, "k": 2})
    assert [(t["tag"], t["score"]) for t in r.json()["tags"]] == [
        (s.tag, s.score) for s in expected
    ]


def test_k_and_min_score_limit_the_answer(client):
    assert len(client.post("/v1/suggest", json={**BERT, "k": 1}).json()["tags"]) == 1
    high = client.post("/v1/suggest", json={**BERT, "min_score": 1.0}).json()["tags"]
    assert all(t["score"] >= 1.0 for t in high)


def test_description_is_optional(client):
    assert client.post("/v1/suggest", json={"title": "object detection"}).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "", "description": "x"}, "title"),
        ({"title": "   "}, "title"),
        ({"description": "no title"}, "title"),
        ({"title": 3}, "title"),
        ({"title": "ok", "description": ["a"]}, "description"),
        ({"title": "x" * 301}, "title"),
        ({"title": "ok", "description": "y" * 5001}, "description"),
        ({"title": "ok", "k": 0}, "k"),
        ({"title": "ok", "k": 51}, "k"),
        ({"title": "ok", "k": "many"}, "k"),
        ({"title": "ok", "k": "3"}, "k"),  # a JSON number, as the schema says
        ({"title": "ok", "min_score": "0.5"}, "min_score"),
        ({"title": "ok", "min_score": 1.5}, "min_score"),
        ({"title": "ok", "min_score": -0.1}, "min_score"),
        ({"title": "ok", "unexpected": 1}, "unexpected"),
        ({"title": "a\u0000b"}, "title"),  # PostgreSQL cannot store U+0000
        ({"title": "\u001c"}, "title"),
        ({"title": "\u200b\ufeff "}, "title"),  # only zero-width characters and a space
        ({"title": "ok", "description": "bad \u0007 bell"}, "description"),
    ],
)
def test_invalid_fields_are_422_problems_naming_the_field(client, problem, body, field):
    assert problem(client.post("/v1/suggest", json=body), 422, field)


def test_text_errors_say_what_is_wrong_not_the_regex(client):
    def message(body):
        r = client.post("/v1/suggest", json=body)
        assert r.status_code == 422
        return r.json()["errors"][0]["message"]

    assert message({"title": "a\u0007b"}) == "control character U+0007 at position 1 is not allowed"
    assert (
        message({"title": "  \u200b "}) == "must not be blank (only spaces or invisible characters)"
    )
    assert "control character U+0000" in message({"title": "ok", "description": "\u0000"})
    r = client.post("/v1/suggest", content=b'{"title": "ok", "min_score": NaN}',
                    headers={"content-type": "application/json"})  # fmt: skip
    assert r.status_code in (400, 422) and "less than" not in r.text


def test_tabs_newlines_and_unicode_are_fine_in_text(client):
    body = {"title": "Détection\td'objets 🚀", "description": "line one\r\nline two"}
    assert client.post("/v1/suggest", json=body).status_code == 200


def test_body_that_is_not_an_object_is_422(client, problem):
    assert problem(client.post("/v1/suggest", json=["title"]), 422)


def test_invalid_json_is_400(client, problem):
    r = client.post(
        "/v1/suggest", content=b'{"title": "x",', headers={"content-type": "application/json"}
    )
    body = problem(r, 400, "body")
    assert "JSON" in body["detail"]


@pytest.mark.parametrize(
    "raw",
    [
        b'{"title": "\xff\xfe"}',  # not UTF-8
        b'{"title": "a", "description": ' + b"[" * 2000 + b"]" * 2000 + b"}",  # too deep
        b'{"title": "a", "k": ' + b"9" * 5000 + b"}",  # a number too long to convert
    ],
)
def test_undecodable_bodies_are_the_invalid_json_problem(client, problem, raw):
    r = client.post("/v1/suggest", content=raw, headers={"content-type": "application/json"})
    body = problem(r, 400, "body")
    assert body["type"].endswith("/invalid-json")


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", None])
def test_non_json_body_is_415(client, problem, content_type):
    headers = {"content-type": content_type} if content_type else {}
    r = client.post("/v1/suggest", content=json.dumps(BERT).encode(), headers=headers)
    assert problem(r, 415, "content-type")


def test_json_with_charset_is_accepted(client):
    r = client.post(
        "/v1/suggest",
        content=json.dumps(BERT).encode(),
        headers={"content-type": "application/json; charset=utf-8"},
    )
    assert r.status_code == 200


def test_body_over_the_limit_is_413(client, problem):
    big = json.dumps({"title": "x", "description": "y" * 1_100_000}).encode()
    r = client.post("/v1/suggest", content=big, headers={"content-type": "application/json"})
    assert problem(r, 413, "body")


def test_chunked_body_over_the_limit_is_413(client, problem):
    def chunks():
        yield b'{"title": "x", "description": "'
        for _ in range(12):
            yield b"y" * 100_000
        yield b'"}'

    r = client.post("/v1/suggest", content=chunks(), headers={"content-type": "application/json"})
    assert problem(r, 413, "body")


def test_batch_answers_each_item_in_order(client):
    items = [BERT, {"title": "pedestrian detection", "description": "yolo object detection"}]
    r = client.post("/v1/suggest/batch", json={"items": items, "k": 3})
    assert r.status_code == 200
    body = r.json()
    assert len(body["results"]) == 2 and all(len(row) <= 3 for row in body["results"])
    single = client.post("/v1/suggest", json={**items[1], "k": 3}).json()["tags"]
    assert body["results"][1] == single
    assert body["model"]["version"] == "1"


def test_batch_of_the_maximum_size_is_accepted(client):
    r = client.post("/v1/suggest/batch", json={"items": [{"title": "gan images"}] * 1000})
    assert r.status_code == 200 and len(r.json()["results"]) == 1000


def test_batch_over_the_limit_is_413_with_a_clear_message(client, problem):
    r = client.post("/v1/suggest/batch", json={"items": [{"title": "t"}] * 1001})
    body = problem(r, 413, "items")
    assert "1000" in body["detail"]


def test_empty_batch_and_bad_item_are_422(client, problem):
    assert problem(client.post("/v1/suggest/batch", json={"items": []}), 422, "items")
    r = client.post("/v1/suggest/batch", json={"items": [{"title": "ok"}, {"title": ""}]})
    assert problem(r, 422, "items[1].title")
