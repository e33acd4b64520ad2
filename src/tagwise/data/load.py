"""Read project files (JSON, JSONL, CSV, Parquet) into records and load them as a Dataset.

This is the shell around the pure validator: it reads bytes, says exactly where a file
cannot be parsed (``DataFormatError`` with the 1-based line), and writes the quarantine
file atomically. The file is read once and hashed from the same bytes it is parsed
from, so the digest always describes the data that was actually loaded.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tagwise.data.schema import Dataset, LabelMode, LoadResult, QuarantinedRow, UnreadableRow
from tagwise.data.validate import EXTRA_FIELDS_KEY, check_mode, infer_mode, validate_records
from tagwise.errors import DataFormatError, NotSupportedError
from tagwise.fileio import atomic_write_text

_JSONL_SUFFIXES = (".jsonl", ".ndjson")
_SUPPORTED = ".json, .jsonl, .ndjson, .csv or .parquet"
_INT_STRING = re.compile(r"^\s*[-+]?\d+\s*$")
_TAG_SEPARATORS = re.compile(r"[,;|]")
_CHUNK = 1 << 20


class Record(dict):
    """A raw record that remembers the 1-based line it starts on (JSONL/CSV), or None."""

    __slots__ = ("line",)

    def __init__(self, fields: dict[str, Any], line: int | None = None) -> None:
        super().__init__(fields)
        self.line = line


def file_digest(path: Path) -> str:
    """``"sha256:<hex>"`` of the file's bytes, streamed so large files use little memory."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for chunk in iter(lambda: handle.read(_CHUNK), b""):
            digest.update(chunk)
    return f"sha256:{digest.hexdigest()}"


def _bytes_digest(data: bytes) -> str:
    return f"sha256:{hashlib.sha256(data).hexdigest()}"


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise DataFormatError(str(path), "file not found") from None
    except IsADirectoryError:
        raise DataFormatError(str(path), "is a directory, not a data file") from None


def _decode(data: bytes, path: Path) -> str:
    """UTF-8 (a BOM is tolerated); a bad byte is reported with its line."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise DataFormatError(str(path), "is not valid UTF-8 text", line=line) from None


def _parse_jsonl(text: str, path: Path) -> list[Any]:
    """One JSON object per line; blank lines are skipped, a bad line is kept for quarantine."""
    records: list[Any] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except json.JSONDecodeError as error:
            records.append(UnreadableRow(number, f"row: invalid JSON ({error.msg})", line))
            continue
        if not isinstance(value, dict):
            reason = f"row: must be a JSON object, got {type(value).__name__}"
            records.append(UnreadableRow(number, reason, line))
            continue
        records.append(Record(value, line=number))
    if records and not any(isinstance(r, Record) for r in records):
        # not one line parses: the file is not JSONL at all, say so instead of quarantining
        first = records[0]
        raise DataFormatError(str(path), first.reason.removeprefix("row: "), line=first.line)
    return records


def _parse_json(text: str, path: Path) -> list[Any]:
    """A JSON list of objects; a ``.json`` file that actually holds JSONL is accepted too.

    An item that is not an object is kept for validation to quarantine with its reason.
    """
    if not text.strip():
        raise DataFormatError(str(path), "file is empty; expected a JSON list of objects")
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        if error.msg == "Extra data" and text.lstrip().startswith("{"):
            return _parse_jsonl(text, path)
        raise DataFormatError(str(path), f"invalid JSON: {error.msg}", line=error.lineno) from None
    if not isinstance(value, list):
        raise DataFormatError(
            str(path), f"expected a JSON list of objects, got a {type(value).__name__}"
        )
    return [Record(item) if isinstance(item, dict) else item for item in value]


def _parse_tags_cell(cell: str) -> Any:
    """A CSV ``tags`` cell: a JSON list, or tags separated by ``,`` ``;`` or ``|``."""
    stripped = cell.strip()
    if stripped.startswith("["):
        try:
            return json.loads(stripped)
        except json.JSONDecodeError:
            return cell  # left as a string, so validation quarantines it with a reason
    return [t.strip() for t in _TAG_SEPARATORS.split(stripped) if t.strip()]


def _typed_csv_row(row: dict[str, Any]) -> dict[str, Any]:
    """CSV has no types: an int-valued id string becomes an int, a tags cell a list."""
    if isinstance(row.get("id"), str) and _INT_STRING.match(row["id"]):
        row["id"] = int(row["id"])
    if isinstance(row.get("tags"), str):
        row["tags"] = _parse_tags_cell(row["tags"])
    return row


def _csv_rows(text: str, path: Path) -> Iterator[Record]:
    reader = csv.DictReader(io.StringIO(text, newline=""), restkey=EXTRA_FIELDS_KEY)
    start = 2  # the header is line 1
    try:
        for row in reader:
            yield Record(_typed_csv_row(row), line=start)
            start = reader.line_num + 1
    except csv.Error as error:
        raise DataFormatError(str(path), f"invalid CSV: {error}", line=reader.line_num) from None


def _parse_csv(text: str, path: Path) -> list[dict]:
    """CSV with a header row; each record remembers the line it starts on."""
    if not text.strip():
        raise DataFormatError(str(path), "file is empty; expected a CSV header row")
    return list(_csv_rows(text, path))


def _parse_parquet(data: bytes, path: Path) -> list[dict]:
    """Parquet via the optional pyarrow; a missing extra says how to install it."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise NotSupportedError(
            "reading Parquet needs pyarrow: pip install tagwise[parquet]"
        ) from None
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowException, OSError) as error:
        raise DataFormatError(str(path), f"invalid Parquet: {error}") from None
    return [Record(row) for row in table.to_pylist()]


def _parse(data: bytes, path: Path) -> list[dict]:
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return _parse_parquet(data, path)
    if suffix == ".csv":
        return _parse_csv(_decode(data, path), path)
    if suffix in _JSONL_SUFFIXES:
        return _parse_jsonl(_decode(data, path), path)
    if suffix == ".json":
        return _parse_json(_decode(data, path), path)
    raise DataFormatError(str(path), f"unsupported file type {suffix!r}; expected {_SUPPORTED}")


def read_records(path: Path) -> list[dict]:
    """Read a data file into raw records, choosing the format by extension.

    Records are plain dicts (a ``Record`` subclass whose ``line`` attribute holds the
    1-based starting line for JSONL and CSV). Raises ``DataFormatError`` naming the
    file and line when the file cannot be parsed at all; rows that parse but are
    invalid are left for validation to quarantine.
    """
    path = Path(path)
    return _parse(_read_bytes(path), path)


def _quarantine_line(row: QuarantinedRow) -> str:
    fields = {"index": row.index, "line": row.line, "id": row.id, "reason": row.reason}
    return json.dumps({**fields, "raw": row.raw}, ensure_ascii=False, default=str)


def write_quarantine(path: Path, rows: tuple[QuarantinedRow, ...]) -> None:
    """Write rows as JSONL atomically (temp file + ``os.replace``); no rows -> no file.

    A stale file from an earlier run is removed when there is nothing to quarantine,
    so the file's presence always means "this load rejected rows".
    """
    path = Path(path)
    if not rows:
        path.unlink(missing_ok=True)
        return
    atomic_write_text(path, "".join(_quarantine_line(row) + "\n" for row in rows))


def load_dataset(
    path: Path | str,
    *,
    quarantine_path: Path | None = None,
    mode: LabelMode | None = None,
) -> LoadResult:
    """Read, validate and quarantine one file; the label mode comes from the data if None.

    The file is read once; the digest is computed from the same bytes that are parsed.
    """
    source = str(path)
    file_path = Path(path)
    if mode is not None:
        check_mode(mode)
    data = _read_bytes(file_path)
    records = _parse(data, file_path)
    resolved: LabelMode = mode or infer_mode(records)
    projects, quarantined = validate_records(records, mode=resolved)
    if quarantine_path is not None:
        write_quarantine(Path(quarantine_path), tuple(quarantined))
    dataset = Dataset(
        projects=tuple(projects), mode=resolved, digest=_bytes_digest(data), source=source
    )
    return LoadResult(dataset=dataset, quarantined=tuple(quarantined), n_rows=len(records))
