"""Summaries: counts per reason and tag, date range, a JSON-able form."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

from tagwise.data import load_dataset, summarize, summary_to_dict
from tagwise.data.schema import Dataset, LoadResult

DATA = Path(__file__).parents[1] / "data"


def test_summary_counts_rows_and_reasons() -> None:
    summary = summarize(load_dataset(DATA / "broken_rows.jsonl"))
    assert (summary.n_rows, summary.n_accepted, summary.n_quarantined) == (11, 6, 5)
    assert summary.mode == "multi"
    assert summary.quarantined_by_reason == {
        "created_on: must be an ISO date-time like '2020-02-17 06:41:45'": 1,
        "description: must be a string": 1,
        "id: must be an integer": 1,
        "tags: must be a list of strings": 1,
        "title: must not be empty": 1,
    }


def test_duplicates_are_grouped_under_one_reason(tmp_path: Path) -> None:
    rows = json.loads((DATA / "projects_tiny.json").read_text(encoding="utf-8"))[:3]
    path = tmp_path / "d.jsonl"
    path.write_text(
        "".join(json.dumps(r) + "\n" for r in [*rows, rows[0], rows[1]]), encoding="utf-8"
    )
    summary = summarize(load_dataset(path))
    assert summary.quarantined_by_reason == {"id: duplicate": 2}


def test_tag_counts_are_most_common_first() -> None:
    summary = summarize(load_dataset(DATA / "projects_tiny.json"))
    counts = list(summary.tag_counts.values())
    assert counts == sorted(counts, reverse=True)
    assert summary.tag_counts["object-detection"] == 12
    assert summary.tag_counts["transformers"] == 12
    assert sum(summary.tag_counts.values()) == sum(
        len(p.tags) for p in load_dataset(DATA / "projects_tiny.json").dataset.projects
    )


def test_single_label_summary_counts_categories() -> None:
    summary = summarize(load_dataset(DATA / "categories_tiny.csv"))
    assert summary.mode == "single"
    assert summary.tag_counts == {
        "computer-vision": 10,
        "mlops": 10,
        "natural-language-processing": 10,
        "other": 10,
    }


def test_date_range_covers_accepted_projects() -> None:
    summary = summarize(load_dataset(DATA / "projects_tiny.json"))
    assert summary.date_min == datetime(2020, 2, 20, 6, 30)
    assert summary.date_max is not None
    assert summary.date_min < summary.date_max


def test_summary_dict_is_json_able() -> None:
    result = load_dataset(DATA / "broken_rows.jsonl")
    as_dict = summary_to_dict(summarize(result))
    assert json.loads(json.dumps(as_dict)) == as_dict
    assert as_dict["digest"] == result.dataset.digest
    assert as_dict["date_min"] == "2020-02-20 06:30:00"


def test_empty_dataset_has_no_dates() -> None:
    empty = LoadResult(
        dataset=Dataset(projects=(), mode="multi", digest="sha256:0", source="x"),
        quarantined=(),
        n_rows=0,
    )
    summary = summarize(empty)
    assert (summary.date_min, summary.date_max, summary.tag_counts) == (None, None, {})
    assert summary_to_dict(summary)["date_min"] is None
