"""Turn raw records into ``Project`` objects, quarantining the ones that do not fit.

Pure: no I/O, no clock. One bad row never stops the others (DESIGN principle 5); each
rejected row carries a human-readable reason made of ``"field: problem"`` parts whose
wording is stable, so reports can group rows by reason.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

from pydantic import ValidationError

from tagwise.data.schema import LABEL_MODES, LabelMode, Project, QuarantinedRow, UnreadableRow
from tagwise.errors import ConfigError

#: Key a CSV reader puts surplus cells under (a row with more cells than the header).
EXTRA_FIELDS_KEY = "__extra_fields__"

_REASON_SEPARATOR = "; "
_SPECIFICS = re.compile(r" of row \d+$")


def check_mode(mode: str) -> LabelMode:
    """Refuse an unknown label mode with an error that lists the valid ones."""
    if mode not in LABEL_MODES:
        raise ConfigError(f"label mode must be one of {', '.join(LABEL_MODES)}; got {mode!r}")
    return cast(LabelMode, mode)


def infer_mode(records: Sequence[Mapping[str, Any]]) -> LabelMode:
    """Single-label when records carry a ``tag`` field and none carries ``tags``."""
    rows = [r for r in records if isinstance(r, Mapping)]  # not unreadable lines
    has_tag = any("tag" in r for r in rows)
    has_tags = any("tags" in r for r in rows)
    return "single" if has_tag and not has_tags else "multi"


def reason_categories(reason: str) -> list[str]:
    """Split a reason into its field-level parts without row-specific details.

    ``"id: duplicate of row 3; title: must not be empty"`` ->
    ``["id: duplicate", "title: must not be empty"]``, so summaries can count rows per
    kind of problem.
    """
    return [_SPECIFICS.sub("", part) for part in reason.split(_REASON_SEPARATOR) if part]


def _format_errors(error: ValidationError) -> str:
    """Pydantic errors -> ``"field: problem"`` parts in our own stable wording."""
    parts = []
    for err in error.errors(include_url=False):
        field = ".".join(str(p) for p in err["loc"][:1]) or "row"
        if err["type"] == "missing":
            problem = "is required"
        elif err["type"] == "value_error":
            problem = str(err["ctx"]["error"])
        else:
            problem = err["msg"]
        parts.append(f"{field}: {problem}")
    return _REASON_SEPARATOR.join(parts)


def _single_label_tags(record: Mapping[str, Any]) -> tuple[list[str] | None, str | None]:
    """The one-element tag list of a single-label record, or the reason it has none."""
    if "tag" in record:
        tag = record["tag"]
        if not isinstance(tag, str) or not tag.strip():
            return None, "tag: must be a non-empty string"
        return [tag], None
    tags = record.get("tags")
    if isinstance(tags, list | tuple) and len(tags) == 1:
        return list(tags), None
    if tags is None:
        return None, "tag: is required"
    return None, "tags: single-label mode needs exactly one tag"


def _prepare(record: Mapping[str, Any], mode: LabelMode) -> tuple[dict[str, Any], list[str]]:
    """Map the record onto ``Project`` fields; collect problems pydantic cannot see."""
    fields = dict(record)
    problems: list[str] = []
    if EXTRA_FIELDS_KEY in fields:
        problems.append("row: more fields than the header")
        del fields[EXTRA_FIELDS_KEY]
    if mode == "single":
        tags, problem = _single_label_tags(record)
        fields.pop("tag", None)
        if problem:
            problems.append(problem)
            fields["tags"] = []  # keep the other fields' checks running
        else:
            fields["tags"] = tags
    elif "tags" not in fields and isinstance(fields.get("tag"), str):
        fields["tags"] = [fields.pop("tag")]
    return fields, problems


def validate_record(record: Mapping[str, Any], *, mode: LabelMode) -> Project | str:
    """One record -> a ``Project``, or the reason it is not one."""
    if isinstance(record, UnreadableRow):
        return record.reason
    if not isinstance(record, Mapping):
        return f"row: must be an object, got {type(record).__name__}"
    fields, problems = _prepare(record, mode)
    try:
        project = Project.model_validate(fields)
    except ValidationError as error:
        problems.append(_format_errors(error))
        return _REASON_SEPARATOR.join(problems)
    return _REASON_SEPARATOR.join(problems) if problems else project


def _raw(record: Any) -> dict:
    if isinstance(record, UnreadableRow):
        return {"text": record.text}
    return dict(record) if isinstance(record, Mapping) else {"value": record}


def validate_records(
    records: Sequence[Mapping[str, Any]], *, mode: LabelMode
) -> tuple[list[Project], list[QuarantinedRow]]:
    """Validate every record; return the accepted projects and the quarantined rows.

    The first valid row with a given id wins; later valid rows with that id are
    quarantined as ``"id: duplicate of row N"`` (N = 0-based index of the winner), so a
    re-submitted project cannot appear twice and leak across a train/test split.
    Line numbers come from a ``line`` attribute on the record when the reader set one.
    """
    check_mode(mode)
    accepted: list[Project] = []
    quarantined: list[QuarantinedRow] = []
    first_index: dict[int, int] = {}
    for index, record in enumerate(records):
        outcome = validate_record(record, mode=mode)
        if isinstance(outcome, Project) and outcome.id in first_index:
            outcome = f"id: duplicate of row {first_index[outcome.id]}"
        if isinstance(outcome, Project):
            first_index[outcome.id] = index
            accepted.append(outcome)
            continue
        quarantined.append(
            QuarantinedRow(
                index=index,
                line=getattr(record, "line", None),  # Record and UnreadableRow have one
                id=record.get("id") if isinstance(record, Mapping) else None,
                reason=outcome,
                raw=_raw(record),
            )
        )
    return accepted, quarantined
