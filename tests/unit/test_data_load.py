"""Reading files in every supported format, parse errors with lines, quarantine files."""

from __future__ import annotations

import csv
import hashlib
import json
import sys
from pathlib import Path

import pytest

from tagwise.data import file_digest, load_dataset, read_records
from tagwise.errors import ConfigError, DataFormatError, NotSupportedError

DATA = Path(__file__).parents[1] / "data"
TINY = DATA / "projects_tiny.json"
BROKEN = DATA / "broken_rows.jsonl"
CATEGORIES = DATA / "categories_tiny.csv"
BUNDLED = Path(__file__).parents[2] / "datasets"


def _tiny_rows() -> list[dict]:
    return json.loads(TINY.read_text(encoding="utf-8"))


def _write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _write_csv(path: Path, rows: list[dict], fields: list[str]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path


# --- formats -------------------------------------------------------------------------


def test_json_list_loads_in_multi_mode() -> None:
    result = load_dataset(TINY)
    assert result.n_rows == 60
    assert len(result.dataset) == 60
    assert result.quarantined == ()
    assert result.dataset.mode == "multi"
    assert result.dataset.source == str(TINY)
    assert result.dataset.ids[:3] == (100, 101, 102)


def test_source_is_the_path_as_given() -> None:
    assert load_dataset(str(TINY)).dataset.source == str(TINY)


def test_jsonl_gives_the_same_projects_with_line_numbers(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "p.jsonl", _tiny_rows())
    records = read_records(path)
    assert [r.line for r in records[:3]] == [1, 2, 3]  # type: ignore[attr-defined]
    assert load_dataset(path).dataset.projects == load_dataset(TINY).dataset.projects


def test_jsonl_skips_blank_lines_but_counts_them(tmp_path: Path) -> None:
    rows = _tiny_rows()[:2]
    path = tmp_path / "p.ndjson"
    path.write_text(f"{json.dumps(rows[0])}\n\n{json.dumps(rows[1])}\n", encoding="utf-8")
    assert [r.line for r in read_records(path)] == [1, 3]  # type: ignore[attr-defined]


def test_json_file_holding_jsonl_is_accepted(tmp_path: Path) -> None:
    path = _write_jsonl(tmp_path / "p.json", _tiny_rows()[:5])
    assert [r["id"] for r in read_records(path)] == [100, 101, 102, 103, 104]


def test_csv_with_tag_column_is_single_label() -> None:
    result = load_dataset(CATEGORIES)
    assert result.dataset.mode == "single"
    assert len(result.dataset) == 40
    assert result.quarantined == ()
    assert all(len(p.tags) == 1 for p in result.dataset.projects)
    assert {p.tags[0] for p in result.dataset.projects} == {
        "natural-language-processing",
        "computer-vision",
        "mlops",
        "other",
    }


def test_csv_lines_account_for_multi_line_cells() -> None:
    records = read_records(CATEGORIES)
    assert "\n" in records[3]["description"]
    assert [r.line for r in records[:6]] == [2, 3, 4, 5, 7, 8]  # type: ignore[attr-defined]
    assert records[0]["id"] == 500  # an int-valued id cell is read as an int


@pytest.mark.parametrize(
    "cell", ['["nlp", "bert"]', "nlp,bert", "nlp; bert", "nlp|bert", " nlp , bert ,"]
)
def test_csv_tags_cell_may_be_json_or_separated(tmp_path: Path, cell: str) -> None:
    row = {"id": "7", "created_on": "2020-03-01 10:00:00", "title": "t", "tags": cell}
    path = _write_csv(tmp_path / "p.csv", [row], list(row))
    result = load_dataset(path)
    assert result.dataset.mode == "multi"
    assert result.dataset.projects[0].tags == ("nlp", "bert")
    assert result.dataset.projects[0].id == 7


def test_csv_bad_cells_are_quarantined_with_their_line(tmp_path: Path) -> None:
    fields = ["id", "created_on", "title", "description", "tag"]
    rows = [
        {"id": "1", "created_on": "2020-03-01", "title": "ok", "description": "", "tag": "mlops"},
        {"id": "12abc", "created_on": "2020-03-01", "title": "x", "description": "", "tag": "a"},
        {"id": "3", "created_on": "", "title": "y", "description": "", "tag": "other"},
    ]
    result = load_dataset(_write_csv(tmp_path / "c.csv", rows, fields))
    assert [p.id for p in result.dataset.projects] == [1]
    assert [(q.line, q.id) for q in result.quarantined] == [(3, "12abc"), (4, 3)]
    assert result.quarantined[0].reason == "id: must be an integer"
    assert result.quarantined[1].reason.startswith("created_on: must be an ISO date-time")


def test_csv_row_with_surplus_cells_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text(
        "id,created_on,title,tag\n1,2020-03-01,ok,mlops\n2,2020-03-01,a,b,mlops\n",
        encoding="utf-8",
    )
    result = load_dataset(path)
    assert len(result.dataset) == 1
    assert result.quarantined[0].reason == "row: more fields than the header"
    assert result.quarantined[0].line == 3


def test_parquet_round_trip(tmp_path: Path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    path = tmp_path / "p.parquet"
    pq.write_table(pa.Table.from_pylist(_tiny_rows()), path)
    result = load_dataset(path)
    assert result.dataset.projects == load_dataset(TINY).dataset.projects
    assert result.dataset.digest == file_digest(path)


def test_parquet_without_pyarrow_names_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.parquet"
    path.write_bytes(b"PAR1")
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    with pytest.raises(NotSupportedError, match=r"pip install tagwise\[parquet\]"):
        read_records(path)


def test_corrupt_parquet_is_a_format_error(tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    path = tmp_path / "p.parquet"
    path.write_bytes(b"not parquet at all")
    with pytest.raises(DataFormatError, match="invalid Parquet"):
        read_records(path)


# --- files that cannot be parsed -----------------------------------------------------


def test_a_broken_jsonl_line_is_quarantined_with_its_number(tmp_path: Path) -> None:
    rows = [json.dumps(r) for r in _tiny_rows()[:4]]
    rows[2] = rows[2][:-5]  # truncated object on line 3
    rows.append("[1, 2]")  # line 5: JSON, but not an object
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    result = load_dataset(path, quarantine_path=tmp_path / "q.jsonl")
    assert len(result.dataset.projects) == 3 and result.n_rows == 5  # the good rows load
    bad = {q.line: q.reason for q in result.quarantined}
    assert (
        bad[3].startswith("row: invalid JSON") and bad[5] == "row: must be a JSON object, got list"
    )
    kept = [json.loads(line) for line in (tmp_path / "q.jsonl").read_text().splitlines()]
    assert kept[0]["raw"]["text"] == rows[2]  # the line itself, to fix and resubmit


def test_a_jsonl_file_where_no_line_parses_is_a_format_error(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_text("id,title\n1,a csv after all\n", encoding="utf-8")
    with pytest.raises(DataFormatError, match="invalid JSON") as info:
        read_records(path)
    assert info.value.line == 1


def test_broken_json_file_is_reported_with_its_line(tmp_path: Path) -> None:
    lines = TINY.read_text(encoding="utf-8").splitlines()
    target = next(i for i, line in enumerate(lines) if '"title"' in line and i > 20)
    lines[target] = lines[target].rstrip(",")  # drop a comma between two fields
    path = tmp_path / "p.json"
    path.write_text("\n".join(lines), encoding="utf-8")
    with pytest.raises(DataFormatError, match="invalid JSON") as info:
        read_records(path)
    assert info.value.line == target + 2  # the parser notices on the next line
    assert info.value.path == str(path)


def test_non_json_file_is_a_format_error() -> None:
    with pytest.raises(DataFormatError, match="invalid JSON") as info:
        load_dataset(DATA / "not_json.json")
    assert info.value.line == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"id": 1, "title": "one object"}', "expected a JSON list of objects, got a dict"),
        ("42", "expected a JSON list of objects, got a int"),
        ("", "file is empty"),
    ],
)
def test_json_that_is_not_a_list_of_objects(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(DataFormatError, match=message):
        read_records(path)


def test_a_json_list_item_that_is_not_an_object_is_quarantined(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    good = {"id": 1, "title": "One", "tags": ["nlp"], "created_on": "2020-01-01"}
    path.write_text(json.dumps([good, "two"]), encoding="utf-8")
    result = load_dataset(path)
    assert [p.id for p in result.dataset.projects] == [1]
    assert [q.reason for q in result.quarantined] == ["row: must be an object, got str"]


def test_invalid_utf8_is_reported_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "p.jsonl"
    path.write_bytes(b'{"id": 1}\n{"id": "\xff"}\n')
    with pytest.raises(DataFormatError, match="UTF-8") as info:
        read_records(path)
    assert info.value.line == 2


def test_unsupported_extension_lists_the_supported_ones(tmp_path: Path) -> None:
    path = tmp_path / "p.txt"
    path.write_text("[]", encoding="utf-8")
    with pytest.raises(DataFormatError, match=r"\.jsonl"):
        read_records(path)


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(DataFormatError, match="file not found"):
        load_dataset(tmp_path / "nope.json")


# --- validation through the loader, quarantine ---------------------------------------


def test_broken_rows_are_each_quarantined_with_a_specific_reason() -> None:
    result = load_dataset(BROKEN)
    assert result.n_rows == 11
    assert len(result.dataset) == 6
    got = [(q.index, q.line, q.id, q.reason) for q in result.quarantined]
    assert got == [
        (2, 3, "12abc", "id: must be an integer"),
        (4, 5, 107, "title: must not be empty"),
        (5, 6, 108, "description: must be a string"),
        (7, 8, 109, "created_on: must be an ISO date-time like '2020-02-17 06:41:45'"),
        (9, 10, 110, "tags: must be a list of strings"),
    ]
    assert result.quarantined[2].raw["description"] == 42


def test_quarantine_file_is_jsonl_and_written_atomically(tmp_path: Path) -> None:
    target = tmp_path / "var" / "quarantine.jsonl"
    result = load_dataset(BROKEN, quarantine_path=target)
    lines = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 5
    assert set(lines[0]) == {"index", "line", "id", "reason", "raw"}
    assert [entry["reason"] for entry in lines] == [q.reason for q in result.quarantined]
    assert lines[0]["raw"]["id"] == "12abc"
    assert sorted(p.name for p in target.parent.iterdir()) == ["quarantine.jsonl"]


def test_clean_load_removes_a_stale_quarantine_file(tmp_path: Path) -> None:
    target = tmp_path / "quarantine.jsonl"
    target.write_text('{"stale": true}\n', encoding="utf-8")
    load_dataset(TINY, quarantine_path=target)
    assert not target.exists()


def test_duplicate_ids_in_a_file_are_quarantined(tmp_path: Path) -> None:
    rows = _tiny_rows()[:4]
    rows.append({**rows[1], "title": "Re-submitted"})
    result = load_dataset(_write_jsonl(tmp_path / "d.jsonl", rows))
    assert len(result.dataset) == 4
    (dup,) = result.quarantined
    assert (dup.index, dup.line, dup.id, dup.reason) == (4, 5, 101, "id: duplicate of row 1")


def test_explicit_mode_overrides_inference(tmp_path: Path) -> None:
    rows = [{**r, "tags": r["tags"][:1]} for r in _tiny_rows()[:3]]
    rows.append({**_tiny_rows()[3]})
    result = load_dataset(_write_jsonl(tmp_path / "p.jsonl", rows), mode="single")
    assert result.dataset.mode == "single"
    assert len(result.dataset) == 3
    assert result.quarantined[0].reason == "tags: single-label mode needs exactly one tag"


def test_unknown_mode_is_refused_before_reading() -> None:
    with pytest.raises(ConfigError, match="multi, single"):
        load_dataset(TINY, mode="multilabel")  # type: ignore[arg-type]


# --- digest --------------------------------------------------------------------------


def test_digest_is_sha256_of_the_bytes_and_stable(tmp_path: Path) -> None:
    expected = "sha256:" + hashlib.sha256(TINY.read_bytes()).hexdigest()
    assert file_digest(TINY) == expected
    assert load_dataset(TINY).dataset.digest == expected
    assert load_dataset(TINY).dataset.digest == expected


def test_digest_changes_with_one_byte(tmp_path: Path) -> None:
    copy = tmp_path / "p.json"
    copy.write_bytes(TINY.read_bytes().replace(b"Fine-tuning", b"Fine-Tuning", 1))
    assert file_digest(copy) != file_digest(TINY)


# --- the bundled data ----------------------------------------------------------------


@pytest.mark.skipif(not BUNDLED.exists(), reason="bundled datasets not present")
def test_bundled_projects_load_completely() -> None:
    result = load_dataset(BUNDLED / "projects.json")
    assert (result.n_rows, len(result.dataset), result.dataset.mode) == (1751, 1751, "multi")
    assert result.dataset.digest == (
        "sha256:87cca02821c324533c4945eed9c30b8a3e7f8078aace85c4294d3971dc3d0f72"
    )


@pytest.mark.skipif(not BUNDLED.exists(), reason="bundled datasets not present")
def test_bundled_categories_load_as_single_label() -> None:
    result = load_dataset(BUNDLED / "categories.csv")
    assert (result.n_rows, len(result.dataset), result.dataset.mode) == (661, 661, "single")
