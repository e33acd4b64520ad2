"""The shape of one project record and of a loaded data set.

``Project`` is the single definition of "a valid row": loaders, the CLI's
``data validate``, training and the API all check rows through it, so a record accepted
in one place is accepted everywhere. Checks are strict on purpose (a boolean is not an
id, a number is not a description): silent coercion hides broken exports, and a
quarantined row with a reason is cheaper to fix than a model trained on garbage.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

LabelMode = Literal["multi", "single"]
LABEL_MODES: tuple[LabelMode, ...] = ("multi", "single")


def _parse_datetime(value: Any) -> datetime:
    """ISO string or datetime -> timezone-naive UTC, so every date compares with every other.

    Numbers are refused: an epoch integer in a date column is almost always a broken
    export, and guessing seconds vs. milliseconds would be silent corruption.
    """
    if value is None:
        raise ValueError("is required")
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and value.strip():
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("must be an ISO date-time like '2020-02-17 06:41:45'") from None
    else:
        raise ValueError("must be an ISO date-time string like '2020-02-17 06:41:45'")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


class Project(BaseModel):
    """One catalogue project: what the model reads (title, description) and its labels.

    ``tags`` holds the author's raw tags (trimmed, de-duplicated, order kept); mapping
    them to the vocabulary is the taxonomy's job, not the loader's. In single-label
    mode it holds exactly one element.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    id: int
    created_on: datetime
    title: str
    description: str = ""
    tags: tuple[str, ...]

    @field_validator("id", mode="before")
    @classmethod
    def _strict_id(cls, value: Any) -> int:
        # bool is an int subclass and "12abc" is not a number: both are refused.
        if value is None:
            raise ValueError("is required")
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("must be an integer")
        return value

    @field_validator("created_on", mode="before")
    @classmethod
    def _iso_datetime(cls, value: Any) -> datetime:
        return _parse_datetime(value)

    @field_validator("title", mode="before")
    @classmethod
    def _non_empty_title(cls, value: Any) -> str:
        if value is None:
            raise ValueError("is required")
        if not isinstance(value, str):
            raise ValueError("must be a string")
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()

    @field_validator("description", mode="before")
    @classmethod
    def _string_description(cls, value: Any) -> str:
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError("must be a string")
        return value.strip()

    @field_validator("tags", mode="before")
    @classmethod
    def _string_tags(cls, value: Any) -> tuple[str, ...]:
        if value is None:
            raise ValueError("is required")
        if not isinstance(value, list | tuple) or not all(isinstance(t, str) for t in value):
            raise ValueError("must be a list of strings")
        cleaned = [t.strip() for t in value]
        if not all(cleaned):
            raise ValueError("must not contain empty tags")
        return tuple(dict.fromkeys(cleaned))


@dataclass(frozen=True)
class QuarantinedRow:
    """A row that failed validation, kept with its reason so nothing is silently lost.

    ``index`` is the 0-based position among the file's records; ``line`` the 1-based
    line where the record starts (JSONL/CSV only); ``reason`` is one or more
    ``"field: problem"`` parts joined by ``"; "``.
    """

    index: int
    line: int | None
    id: object | None
    reason: str
    raw: dict


@dataclass(frozen=True)
class Dataset:
    """The accepted projects of one file, with the digest that identifies that file."""

    projects: tuple[Project, ...]
    mode: LabelMode
    digest: str
    source: str

    def __len__(self) -> int:
        return len(self.projects)

    @property
    def ids(self) -> tuple[int, ...]:
        """Project ids in file order (handy for joins and leak checks)."""
        return tuple(p.id for p in self.projects)

    @property
    def dates(self) -> tuple[datetime, ...]:
        """Creation dates in file order (handy for temporal splits)."""
        return tuple(p.created_on for p in self.projects)


@dataclass(frozen=True)
class LoadResult:
    """What loading a file produced: the data set, the rejected rows, the total read."""

    dataset: Dataset
    quarantined: tuple[QuarantinedRow, ...]
    n_rows: int


@dataclass(frozen=True)
class UnreadableRow:
    """A line of a JSONL file that is not a JSON object: quarantined with its reason.

    One bad line must not cost the rest of the file, so the reader keeps it as this
    placeholder (with its line and text) for validation to quarantine, like any row.
    """

    line: int | None
    reason: str
    text: str
