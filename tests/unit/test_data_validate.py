"""Row validation: what a valid project is and the exact reason an invalid one gets."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest

from tagwise.data.schema import Project
from tagwise.data.validate import (
    EXTRA_FIELDS_KEY,
    infer_mode,
    reason_categories,
    validate_record,
    validate_records,
)
from tagwise.errors import ConfigError


def _row(**overrides: object) -> dict:
    row = {
        "id": 1,
        "created_on": "2020-02-17 06:41:45",
        "title": "Fine-tuning BERT for sentiment analysis",
        "description": "A notebook with Hugging Face Transformers.",
        "tags": ["natural-language-processing", "bert"],
    }
    row.update(overrides)
    return row


def test_valid_row_becomes_a_frozen_project() -> None:
    project = validate_record(_row(), mode="multi")
    assert isinstance(project, Project)
    assert project.id == 1
    assert project.created_on == datetime(2020, 2, 17, 6, 41, 45)
    assert project.tags == ("natural-language-processing", "bert")
    with pytest.raises(ValueError):
        project.title = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("bad_id", [True, "12abc", "12", 12.0, [12]])
def test_id_must_be_a_real_integer(bad_id: object) -> None:
    assert validate_record(_row(id=bad_id), mode="multi") == "id: must be an integer"


@pytest.mark.parametrize(
    ("field", "reason"),
    [
        ("id", "id: is required"),
        ("created_on", "created_on: is required"),
        ("title", "title: is required"),
        ("tags", "tags: is required"),
    ],
)
def test_missing_required_field_is_named(field: str, reason: str) -> None:
    row = _row()
    del row[field]
    assert validate_record(row, mode="multi") == reason


@pytest.mark.parametrize("title", ["", "   ", "\n\t"])
def test_blank_title_is_refused(title: str) -> None:
    assert validate_record(_row(title=title), mode="multi") == "title: must not be empty"


def test_title_and_description_are_trimmed() -> None:
    project = validate_record(_row(title="  GNNs  ", description=" text\n"), mode="multi")
    assert isinstance(project, Project)
    assert (project.title, project.description) == ("GNNs", "text")


@pytest.mark.parametrize("missing", [None, "absent"])
def test_missing_description_becomes_empty(missing: object) -> None:
    row = _row(description=None)
    if missing == "absent":
        del row["description"]
    project = validate_record(row, mode="multi")
    assert isinstance(project, Project)
    assert project.description == ""


@pytest.mark.parametrize("description", [42, ["a", "b"], {"text": "x"}])
def test_non_string_description_is_refused(description: object) -> None:
    reason = validate_record(_row(description=description), mode="multi")
    assert reason == "description: must be a string"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2020-02-17 06:41:45", datetime(2020, 2, 17, 6, 41, 45)),
        ("2020-02-17T06:41:45", datetime(2020, 2, 17, 6, 41, 45)),
        ("2020-02-17T08:41:45+02:00", datetime(2020, 2, 17, 6, 41, 45)),
        ("2020-02-17T06:41:45Z", datetime(2020, 2, 17, 6, 41, 45)),
        ("2020-02-17", datetime(2020, 2, 17)),
    ],
)
def test_dates_become_naive_utc(value: str, expected: datetime) -> None:
    project = validate_record(_row(created_on=value), mode="multi")
    assert isinstance(project, Project)
    assert project.created_on == expected
    assert project.created_on.tzinfo is None


@pytest.mark.parametrize("value", ["yesterday", "2020-13-45", 1581921705, ""])
def test_bad_dates_are_refused(value: object) -> None:
    reason = validate_record(_row(created_on=value), mode="multi")
    assert isinstance(reason, str)
    assert reason.startswith("created_on: must be an ISO date-time")


def test_tags_are_trimmed_and_deduplicated_in_order() -> None:
    project = validate_record(_row(tags=[" nlp", "bert", "nlp "]), mode="multi")
    assert isinstance(project, Project)
    assert project.tags == ("nlp", "bert")


def test_empty_tag_list_is_allowed_for_untagged_projects() -> None:
    project = validate_record(_row(tags=[]), mode="multi")
    assert isinstance(project, Project)
    assert project.tags == ()


@pytest.mark.parametrize(
    ("tags", "reason"),
    [
        ("nlp, bert", "tags: must be a list of strings"),
        (["nlp", 3], "tags: must be a list of strings"),
        (["nlp", "  "], "tags: must not contain empty tags"),
    ],
)
def test_bad_tags_are_refused(tags: object, reason: str) -> None:
    assert validate_record(_row(tags=tags), mode="multi") == reason


def test_all_problems_of_a_row_are_reported() -> None:
    reason = validate_record(_row(id="x", title=""), mode="multi")
    assert reason == "id: must be an integer; title: must not be empty"


def test_non_object_record_is_quarantined() -> None:
    accepted, quarantined = validate_records([_row(), 7], mode="multi")  # type: ignore[list-item]
    assert len(accepted) == 1
    assert quarantined[0].reason == "row: must be an object, got int"
    assert quarantined[0].raw == {"value": 7}


def test_csv_row_with_surplus_cells_is_quarantined() -> None:
    reason = validate_record(_row(**{EXTRA_FIELDS_KEY: ["oops"]}), mode="multi")
    assert reason == "row: more fields than the header"


def test_single_mode_takes_the_tag_field() -> None:
    row = _row(tag="computer-vision")
    del row["tags"]
    project = validate_record(row, mode="single")
    assert isinstance(project, Project)
    assert project.tags == ("computer-vision",)


def test_single_mode_accepts_a_one_element_tags_list() -> None:
    project = validate_record(_row(tags=["mlops"]), mode="single")
    assert isinstance(project, Project)
    assert project.tags == ("mlops",)


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"tag": ""}, "tag: must be a non-empty string"),
        ({"tag": ["mlops"]}, "tag: must be a non-empty string"),
        ({"tags": ["mlops", "other"]}, "tags: single-label mode needs exactly one tag"),
        ({}, "tag: is required"),
    ],
)
def test_single_mode_refuses_anything_but_one_tag(fields: dict, reason: str) -> None:
    row = _row()
    del row["tags"]
    row.update(fields)
    assert validate_record(row, mode="single") == reason


def test_multi_mode_reads_a_lone_tag_field_as_one_tag() -> None:
    row = _row(tag="other")
    del row["tags"]
    project = validate_record(row, mode="multi")
    assert isinstance(project, Project)
    assert project.tags == ("other",)


def test_duplicate_ids_keep_the_first_and_quarantine_the_rest() -> None:
    records = [_row(id=1), _row(id=2), _row(id=1, title="again"), _row(id=1)]
    accepted, quarantined = validate_records(records, mode="multi")
    assert [p.id for p in accepted] == [1, 2]
    assert accepted[0].title == "Fine-tuning BERT for sentiment analysis"
    assert [(q.index, q.id, q.reason) for q in quarantined] == [
        (2, 1, "id: duplicate of row 0"),
        (3, 1, "id: duplicate of row 0"),
    ]


def test_an_invalid_first_row_does_not_claim_its_id() -> None:
    accepted, quarantined = validate_records([_row(id=1, title=""), _row(id=1)], mode="multi")
    assert [p.id for p in accepted] == [1]
    assert [q.reason for q in quarantined] == ["title: must not be empty"]


def test_validation_is_pure() -> None:
    records = [_row(), _row(id="bad")]
    before = copy.deepcopy(records)
    validate_records(records, mode="multi")
    assert records == before


def test_plain_dicts_have_no_line_number() -> None:
    _, quarantined = validate_records([_row(id="bad")], mode="multi")
    assert quarantined[0].line is None
    assert quarantined[0].index == 0
    assert quarantined[0].raw == _row(id="bad")


def test_unknown_mode_lists_the_valid_ones() -> None:
    with pytest.raises(ConfigError, match="multi, single"):
        validate_records([_row()], mode="both")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("records", "mode"),
    [
        ([{"tags": []}], "multi"),
        ([{"tag": "x"}], "single"),
        ([{"tag": "x"}, {"tags": ["y"]}], "multi"),
        ([], "multi"),
    ],
)
def test_mode_is_inferred_from_the_fields(records: list[dict], mode: str) -> None:
    assert infer_mode(records) == mode


def test_reason_categories_drop_row_specifics() -> None:
    reason = "id: duplicate of row 12; title: must not be empty"
    assert reason_categories(reason) == ["id: duplicate", "title: must not be empty"]
