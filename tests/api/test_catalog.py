"""GET /v1/tags, /v1/tags/{tag} and /v1/models."""

from __future__ import annotations


def test_tags_lists_the_label_space_with_counts_and_the_vocabulary(client):
    bundle = client.app.state.holder.get().bundle
    body = client.get("/v1/tags").json()
    labels = {e["tag"]: e for e in body["labels"]}
    assert list(labels) == list(bundle.labels.labels)
    assert [e["count"] for e in body["labels"]] == list(bundle.labels.counts)
    nlp = labels["natural-language-processing"]
    assert "nlp" in nlp["aliases"]
    vocab = {e["tag"]: e for e in body["vocabulary"]}
    assert len(vocab) == len(bundle.taxonomy.entries)
    assert vocab["natural-language-processing"]["in_label_space"] is True
    outside = [t for t, e in vocab.items() if not e["in_label_space"]]
    assert outside and not set(outside) & set(labels)
    assert body["model"]["version"] == "1"


def test_tag_detail_accepts_an_alias(client):
    r = client.get("/v1/tags/nlp")
    assert r.status_code == 200
    body = r.json()
    assert body["tag"] == "natural-language-processing"
    assert body["in_label_space"] is True and body["count"] > 0
    assert body["children"]


def test_tag_detail_shows_parents_and_ancestors(client, taxonomy):
    child = next(e for e in taxonomy.entries if e.parents)
    body = client.get(f"/v1/tags/{child.tag}").json()
    assert body["parents"] == list(child.parents)
    assert set(child.parents) <= set(body["ancestors"])


def test_unknown_tag_is_a_404_problem(client, problem):
    body = problem(client.get("/v1/tags/no-such-tag"), 404)
    assert "no-such-tag" in body["detail"]


def test_models_lists_versions_and_which_one_serves(client):
    body = client.get("/v1/models").json()
    assert body["serving"] == {"name": "tagwise", "version": "1"}
    assert body["ref"] == "models:/tagwise@champion"
    v1 = next(v for v in body["versions"] if v["version"] == 1)
    assert v1["serving"] is True and "champion" in v1["aliases"]
    assert 0 < v1["metrics"]["test_micro_f1"] <= 1
    assert body["metrics"]["test_micro_f1"] == v1["metrics"]["test_micro_f1"]
