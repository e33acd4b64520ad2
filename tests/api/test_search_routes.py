"""Search, projects, stats and impact over HTTP (TestClient, the tiny model and corpus).

Each app gets its own home (search index, feedback, impact.json) and serves the
exported tiny model by path, so nothing here touches the shared registry home.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from api_support import TINY
from fastapi.testclient import TestClient

from tagwise.config import SearchConfig, Settings
from tagwise.feedback import FeedbackRecord
from tagwise.serving import create_app


@contextlib.contextmanager
def started(settings: Settings, registry_home: Path, home: Path) -> Iterator[TestClient]:
    """An app on ``home`` (its index built from the tiny corpus), ready to search."""
    s = settings.model_copy(
        update={
            "home": home,
            "database_url": f"sqlite:///{home / 'feedback.db'}",
            "search": SearchConfig(catalogue=TINY),
        }
    )
    app = create_app(s, model_ref=str(registry_home / "exported"))
    with TestClient(app) as client:
        assert app.state.search.wait(60), app.state.search.error
        yield client


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("search-home")


@pytest.fixture(scope="module")
def api(settings, registry_home, home) -> Iterator[TestClient]:
    with started(settings, registry_home, home) as client:
        yield client


def ids(response) -> list[int]:
    assert response.status_code == 200, response.text
    return [h["id"] for h in response.json()["hits"]]


def add(api: TestClient, pid: int, title: str, description: str = "", tags=(), **extra):
    body = {"id": pid, "title": title, "description": description, "tags": list(tags), **extra}
    return api.post("/v1/projects", json=body)


def test_index_is_built_from_the_catalogue_on_first_start(api):
    body = api.get("/v1/search", params={"limit": 100}).json()
    assert body["total"] == 60
    assert {f["tag"] for f in body["facets"]} >= {"computer-vision", "natural-language-processing"}
    assert all(h["suggested_tags"] for h in body["hits"][:5]), "suggestions were attached"


def test_text_query_highlights_and_facets(api):
    body = api.get("/v1/search", params={"q": "yolov4"}).json()
    assert body["total"] >= 1
    top = body["hits"][0]
    assert "<mark>" in top["highlights"]["title"] + top["highlights"]["description"]
    assert all(f["count"] >= 1 for f in body["facets"])


def test_alias_works_like_its_canonical_tag(api):
    add(api, 9101, "Zorblax sentence tagger", "Tags sentences.", ["nlp"])
    by_alias = ids(api.get("/v1/search", params={"tags": "nlp", "limit": 100}))
    by_name = ids(
        api.get("/v1/search", params={"tags": "natural-language-processing", "limit": 100})
    )
    assert 9101 in by_alias
    assert by_alias == by_name
    echoed = api.get("/v1/search", params=[("tags", "nlp"), ("tags", "cv")]).json()["tags"]
    assert echoed == ["natural-language-processing", "computer-vision"]  # filters, canonical


def test_parent_tag_finds_projects_tagged_with_a_child(api):
    add(api, 9102, "Quibbly agent", "Plays a grid world.", ["q-learning"])
    found = ids(api.get("/v1/search", params={"tags": "reinforcement-learning", "limit": 100}))
    assert 9102 in found
    hit = api.get("/v1/search", params={"q": "quibbly"}).json()["hits"][0]
    assert hit["id"] == 9102 and hit["author_tags"][0] == "q-learning"


def test_all_of_and_any_of(api):
    params = [("tags", "computer-vision"), ("tags", "natural-language-processing")]
    all_of = set(ids(api.get("/v1/search", params=[*params, ("limit", 100)])))
    any_of = set(ids(api.get("/v1/search", params=[*params, ("mode", "any"), ("limit", 100)])))
    assert all_of < any_of


def test_posted_project_is_searchable_at_once_and_replaced_by_id(api):
    created = add(api, 9103, "Flumpification of graphs", "A new method.", ["gnn"])
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["author_tags"][0] == "graph-neural-networks" and body["tags"] == ["gnn"]
    assert all(0 <= s["score"] <= 1 for s in body["suggested_tags"])
    assert created.headers["location"] == "/v1/projects/9103"
    assert ids(api.get("/v1/search", params={"q": "flumpification"})) == [9103]

    replaced = add(api, 9103, "Wibbleization of graphs", "Edited.", ["gnn"])
    assert replaced.status_code == 200
    assert ids(api.get("/v1/search", params={"q": "flumpification"})) == []
    assert ids(api.get("/v1/search", params={"q": "wibbleization"})) == [9103]
    assert api.get("/v1/projects/9103").json()["title"] == "Wibbleization of graphs"


def test_related_and_unknown_project(api, problem):
    related = api.get("/v1/projects/101/related", params={"limit": 3})
    assert related.status_code == 200
    body = related.json()
    assert body["project_id"] == 101 and 1 <= len(body["related"]) <= 3
    assert 101 not in [h["id"] for h in body["related"]]
    assert problem(api.get("/v1/projects/424242"), 404)
    assert problem(api.get("/v1/projects/424242/related"), 404)


def test_dates_filter_inclusively(api):
    add(api, 9104, "Snorkelwise dated", "x", created_on="2031-05-06T12:00:00Z")
    assert ids(api.get("/v1/search", params={"q": "snorkelwise", "from": "2031-05-06"})) == [9104]
    assert ids(api.get("/v1/search", params={"q": "snorkelwise", "to": "2031-05-06"})) == [9104]
    assert ids(api.get("/v1/search", params={"q": "snorkelwise", "to": "2031-05-05"})) == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"tags": "no-such-tag"}, "tags"),
        ({"limit": -1}, "limit"),
        ({"limit": 0}, "limit"),
        ({"offset": 10**9}, "offset"),
        ({"offset": -5}, "offset"),
        ({"from": "yesterday"}, "from"),
        ({"to": "2020-13-45"}, "to"),
        ({"from": "2021-01-02", "to": "2021-01-01"}, "from"),
        ({"mode": "some"}, "mode"),
        ({"q": "x" * 501}, "q"),
        ({"q": "bert\u0000"}, "q"),
        ({"q": "\u0007"}, "q"),
    ],
)
def test_bad_queries_are_422_problems_naming_the_parameter(api, problem, params, field):
    assert problem(api.get("/v1/search", params=params), 422, field)


def test_bad_project_bodies_are_problems(api, problem):
    assert problem(add(api, -1, "t"), 422, "id")
    assert problem(add(api, 1, "   "), 422, "title")
    assert problem(api.post("/v1/projects", json={"title": "no id"}), 422, "id")
    for not_an_int in (True, False, "5", 2.5):  # a boolean must not replace project 1 or 0
        assert problem(api.post("/v1/projects", json={"id": not_an_int, "title": "t"}), 422, "id")
    assert problem(add(api, 9107, "a\u0000b"), 422, "title")
    body = {"id": 9108, "title": "t", "created_on": 253402300799}  # not Unix time: ISO only
    assert problem(api.post("/v1/projects", json=body), 422, "created_on")


@pytest.mark.parametrize("value", ["2020", "20200401", "1700000000"])
def test_search_dates_must_be_iso_8601(api, problem, value):
    assert problem(api.get("/v1/search", params={"from": value}), 422, "from")
    assert problem(api.get("/v1/search", params={"to": value}), 422, "to")
    ok = api.get("/v1/search", params={"from": "2020-03-01", "to": "2020-06-01T12:00:00Z"})
    assert ok.status_code == 200
    assert problem(
        api.post("/v1/projects", content=b"{", headers={"content-type": "application/json"}), 400
    )


def test_index_persists_across_restart(settings, registry_home, home, api):
    add(api, 9105, "Persistoid survives restarts", "x")
    with started(settings, registry_home, home) as again:
        assert ids(again.get("/v1/search", params={"q": "persistoid"})) == [9105]
        assert again.get("/v1/search").json()["total"] == api.get("/v1/search").json()["total"]


def test_search_is_503_before_the_index_is_open(settings, registry_home, tmp_path, problem):
    s = settings.model_copy(update={"home": tmp_path, "search": SearchConfig(catalogue=TINY)})
    app = create_app(s, model_ref=str(registry_home / "exported"))
    client = TestClient(app)  # lifespan not run: no index yet
    assert problem(client.get("/v1/search"), 503)


def test_stats_on_a_small_fixture(settings, registry_home, tmp_path):
    with started(settings, registry_home, tmp_path) as client:
        store = client.app.state.store
        day1, day2 = datetime(2026, 11, 2, 9, tzinfo=UTC), datetime(2026, 11, 3, 9, tzinfo=UTC)
        for created, suggested, accepted, added in [
            (day1, ["bert", "transformers"], ["bert", "transformers"], []),
            (day1, ["bert", "computer-vision"], ["bert"], ["pytorch"]),
            (day2, ["transformers"], [], ["pytorch", "attention"]),
        ]:
            record = FeedbackRecord("t", "", tuple(suggested), tuple(accepted), tuple(added))
            store.add(record, created=created)
        body = client.get("/v1/stats").json()
        assert body["records"] == 3 and body["suggested"] == 5 and body["accepted"] == 3
        assert body["acceptance_rate"] == pytest.approx(0.6)
        per_tag = {t["tag"]: (t["suggested"], t["accepted"]) for t in body["per_tag"]}
        assert per_tag == {"bert": (2, 2), "transformers": (2, 1), "computer-vision": (1, 0)}
        assert body["missed_tags"][0] == {"tag": "pytorch", "count": 2}
        assert [(p["start"], p["rate"]) for p in body["over_time"]] == [
            ("2026-11-02", 0.75),
            ("2026-11-03", 0.0),
        ]
        assert body["avg_tags_suggested"] == pytest.approx(5 / 3)
        assert body["avg_tags_final"] == pytest.approx((2 + 2 + 2) / 3)
        weekly = client.get("/v1/stats", params={"period": "week"}).json()["over_time"]
        assert [p["start"] for p in weekly] == ["2026-11-02"]


def _count_stats(monkeypatch) -> list[int]:
    """Count the aggregations ``GET /v1/stats`` runs (the real one still answers)."""
    from tagwise.serving import routes_impact

    calls: list[int] = []
    real = routes_impact.feedback_stats

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(routes_impact, "feedback_stats", counting)
    return calls


def test_stats_are_computed_once_within_the_ttl(settings, registry_home, tmp_path, monkeypatch):
    calls = _count_stats(monkeypatch)
    with started(settings, registry_home, tmp_path) as client:
        assert client.app.state.settings.serving.stats_ttl_s == 5.0
        first = client.get("/v1/stats").json()
        assert client.get("/v1/stats").json() == first
        assert len(calls) == 1
        client.get("/v1/stats", params={"period": "week"})  # another query, its own entry
        client.get("/v1/stats", params={"period": "week"})
        assert len(calls) == 2


def test_posted_feedback_is_in_the_next_stats(settings, registry_home, tmp_path, monkeypatch):
    calls = _count_stats(monkeypatch)
    with started(settings, registry_home, tmp_path) as client:
        assert client.get("/v1/stats").json()["records"] == 0
        body = {"title": "BERT for QA", "suggested": ["transformers"], "accepted": ["transformers"]}
        assert client.post("/v1/feedback", json=body).status_code == 201
        after = client.get("/v1/stats").json()
        assert after["records"] == 1 and after["accepted"] == 1
        assert len(calls) == 2
        client.get("/v1/stats")
        assert len(calls) == 2, "cached again until the next write"
        problem = client.post("/v1/feedback", json={**body, "accepted": ["not-a-tag"]})
        assert problem.status_code == 422
        client.get("/v1/stats")
        assert len(calls) == 2, "a refused write stores nothing and keeps the cache"


def test_stats_ttl_zero_recomputes_every_request(settings, registry_home, tmp_path, monkeypatch):
    calls = _count_stats(monkeypatch)
    serving = settings.serving.model_copy(update={"stats_ttl_s": 0.0})
    with started(settings.model_copy(update={"serving": serving}), registry_home, tmp_path) as c:
        c.get("/v1/stats")
        c.get("/v1/stats")
        assert len(calls) == 2


def test_impact_is_404_until_computed(settings, registry_home, tmp_path, problem):
    from tagwise.impact_run import save_impact

    with started(settings, registry_home, tmp_path) as client:
        assert problem(client.get("/v1/impact"), 404)
        payload = {
            "computed_at": "2026-12-01T10:00:00+00:00",
            "model": {"name": "dir", "version": "exported"},
            "n_projects": 9,
            "n_queries": 3,
            "summary": "With suggestions, more projects are found.",
            "markdown": "| a |",
            "results": [{"scenario": "complete", "variant": "a", "tag_recall_at_10": 0.4}],
            "plot": "data:image/png;base64,iVBORw0KGgo=",
        }
        save_impact(tmp_path, payload)
        body = client.get("/v1/impact").json()
        assert body["summary"].startswith("With suggestions") and body["plot"].startswith("data:")
        assert (tmp_path / "impact.png").read_bytes().startswith(b"\x89PNG")


def test_pages_are_served(api):
    for path in ("/search", "/impact"):
        r = api.get(path)
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")


def test_prefix_search_as_you_type(api, problem):
    whole = api.get("/v1/search", params={"q": "learnin"}).json()
    typed = api.get("/v1/search", params={"q": "learnin", "prefix": "true"}).json()
    full = api.get("/v1/search", params={"q": "learning"}).json()
    assert whole["total"] == 0 and typed["total"] >= full["total"] > 0
    assert problem(api.get("/v1/search", params={"q": "x", "prefix": "maybe"}), 422, "prefix")


def test_a_project_is_read_as_a_data_file_row_would_be(api):
    r = add(api, 9301, "Null description", None, created_on=" 2020-01-01 ")
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["description"] == "" and body["created_on"].startswith("2020-01-01")
