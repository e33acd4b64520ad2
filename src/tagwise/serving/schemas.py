"""Request and response bodies of the public API.

Request models are built per app by :func:`request_models`, because their limits
(text length, batch size, ``k``) are settings; they land in the OpenAPI schema, so
clients and the fuzzer see the same contract the server enforces.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from tagwise.config import ServingConfig

EXAMPLE_TITLE = "BERT for question answering"
EXAMPLE_DESCRIPTION = "Fine-tuning transformers on SQuAD with PyTorch."
# Control characters (but tab, CR and LF) are refused in every text field: none belongs
# in a title or a tag, and PostgreSQL cannot store U+0000 in text. In the patterns, so
# the OpenAPI schema (and the fuzzer) states exactly what the server accepts.
_TEXT_CHAR = r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]"
# Zero-width characters (U+200B–U+200F, U+2060, U+FEFF) do not make a title either;
# written as the characters themselves, which every regex engine reads alike.
_INVISIBLE = f"{chr(0x200B)}-{chr(0x200F)}{chr(0x2060)}{chr(0xFEFF)}"
_VISIBLE_CHAR = rf"[^\s\x00-\x1f\x7f-\x9f{_INVISIBLE}]"
TEXT_PATTERN = rf"^{_TEXT_CHAR}*$"
"""Any text without control characters (descriptions)."""
LINE_PATTERN = rf"^{_TEXT_CHAR}*{_VISIBLE_CHAR}{_TEXT_CHAR}*$"
"""Text without control characters, not only spaces or zero-width ones (titles, tags, ids)."""


def pattern_message(value: object) -> str | None:
    """Why a text failed :data:`TEXT_PATTERN` / :data:`LINE_PATTERN`, in words.

    Pydantic's own message quotes the regex, which tells a client nothing; this names
    the offending character, or says the text is blank. ``None`` for a non-text.
    """
    if not isinstance(value, str):
        return None
    bad = re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]", value)
    if bad:
        return (
            f"control character U+{ord(bad.group()):04X} at position {bad.start()} is not allowed"
        )
    return "must not be blank (only spaces or invisible characters)"


TagName = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=LINE_PATTERN)]


def json_number(value: object) -> object:
    """A finite JSON number: never ``true`` (Python's bool is an int), ``"3"`` or NaN.

    Pydantic's lax mode would read ``"3"`` as 3, and NaN fails ``le=1`` with the
    misleading "should be less than or equal to 1".
    """
    if isinstance(value, bool):
        raise ValueError("must be a number, not a boolean")
    if isinstance(value, str):
        raise ValueError("must be a JSON number, not a string")
    if isinstance(value, float) and not math.isfinite(value):
        raise ValueError("must be a finite number")
    return value


def json_integer(value: object) -> object:
    """A JSON integer: ``5`` or ``5.0`` (JSON Schema counts both), never ``true`` or ``"5"``.

    Python's bool is an int and pydantic's lax mode parses numeric strings: without this
    ``{"id": true}`` would silently replace project 1.
    """
    if isinstance(value, bool | str):
        raise ValueError("must be an integer")
    return value


def iso_datetime(value: object) -> object:
    """A date-time as ISO 8601 text; a JSON number would be read as Unix time (or ms)."""
    if isinstance(value, bool | int | float):
        raise ValueError("must be an ISO 8601 date-time string, e.g. 2026-11-30T10:00:00Z")
    return value.strip() if isinstance(value, str) else value  # as the data loader reads it


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# ---- responses (fixed shape) ----------------------------------------------------------


class TagScore(BaseModel):
    """One suggested tag."""

    tag: str = Field(examples=["natural-language-processing"])
    score: float = Field(ge=0, le=1, examples=[0.93])


class LongTailTag(BaseModel):
    """A low-confidence suggestion of a vocabulary tag outside the model's label space.

    Scored by embedding similarity to the tag's name, aliases, parents and description
    (zero-shot), moved towards its few training examples where there are some
    (few-shot); shown only above a similarity floor calibrated at training.
    """

    tag: str = Field(examples=["quantum-machine-learning"])
    score: float = Field(
        ge=0, le=1, examples=[0.31], description="Capped confidence, at most 0.5 by default"
    )
    similarity: float = Field(ge=-1, le=1, description="Cosine similarity to the tag prototype")
    source: Literal["zero-shot", "few-shot"] = Field(
        description="zero-shot: from the vocabulary entry only; few-shot: also from examples"
    )
    confidence: Literal["low"] = Field("low", description="Always low: show it apart")


class ModelRef(BaseModel):
    """Which model answered."""

    name: str = Field(examples=["tagwise"])
    version: str = Field(examples=["3"])


class SuggestResponse(BaseModel):
    """Suggested tags, best first, after the decision policy."""

    tags: list[TagScore]
    long_tail: list[LongTailTag] = Field(
        default_factory=list,
        description="Low-confidence tags from outside the label space, best first; never "
        "one of `tags`. Empty when the request sets `long_tail: false` or the model has none",
    )
    model: ModelRef
    took_ms: float = Field(ge=0, description="Server time spent on this request")
    prediction_id: str | None = Field(
        None, description="Id of the logged prediction; send it back with the feedback"
    )


class BatchResponse(BaseModel):
    """One list of suggestions per item, in request order."""

    results: list[list[TagScore]]
    long_tail: list[list[LongTailTag]] = Field(
        default_factory=list, description="Long-tail tags per item, in request order"
    )
    model: ModelRef
    took_ms: float = Field(ge=0)
    prediction_ids: list[str] | None = Field(None, description="Logged prediction per item")


class LabelEntry(BaseModel):
    """A tag the model predicts, with its training-set count."""

    tag: str
    count: int = Field(ge=0)
    aliases: list[str]
    parents: list[str]


class VocabularyEntry(BaseModel):
    """A vocabulary tag (for autocomplete); ``in_label_space`` = the model predicts it."""

    tag: str
    aliases: list[str]
    parents: list[str]
    in_label_space: bool


class TagsResponse(BaseModel):
    """The served model's label space and the whole vocabulary."""

    model: ModelRef
    labels: list[LabelEntry]
    vocabulary: list[VocabularyEntry]


class TagDetail(BaseModel):
    """One tag, looked up by name or alias."""

    tag: str
    aliases: list[str]
    parents: list[str]
    ancestors: list[str]
    children: list[str]
    in_label_space: bool
    count: int | None = Field(None, description="Training projects with the tag, if a label")


class ModelVersionOut(BaseModel):
    """A registered model version."""

    version: int
    aliases: list[str]
    run_id: str | None
    created: int = Field(description="Milliseconds since the epoch")
    metrics: dict[str, float]
    serving: bool


class ModelsResponse(BaseModel):
    """The registry's versions and what this server serves."""

    name: str
    serving: ModelRef | None
    ref: str
    metrics: dict[str, float] = Field(description="Metrics of the served model (its manifest)")
    versions: list[ModelVersionOut]


class FeedbackCreated(BaseModel):
    """The stored feedback record's id (the write is durable when this is sent)."""

    id: int = Field(examples=[42])


class Health(BaseModel):
    """Liveness / readiness."""

    status: str = Field(examples=["ok"])
    model: ModelRef | None = None


class ReloadResponse(BaseModel):
    """What an admin reload did."""

    previous: str | None
    current: str
    swapped: bool


# ---- requests (limits from settings) --------------------------------------------------


@dataclass(frozen=True)
class RequestModels:
    """The request body classes of one app."""

    project: type[BaseModel]
    suggest: type[BaseModel]
    batch: type[BaseModel]
    feedback: type[BaseModel]


def request_models(cfg: ServingConfig) -> RequestModels:
    """Build the request classes with ``cfg``'s limits baked into their schema."""
    Title = Annotated[
        str,
        StringConstraints(min_length=1, max_length=cfg.max_title_chars, pattern=LINE_PATTERN),
        Field(
            description=f"Project title, 1–{cfg.max_title_chars} characters, not only spaces, "
            "no control characters"
        ),
    ]
    Description = Annotated[
        str,
        StringConstraints(max_length=cfg.max_description_chars, pattern=TEXT_PATTERN),
        Field(description=f"Project description, up to {cfg.max_description_chars} characters"),
    ]
    K = Annotated[
        int | None,
        Field(ge=1, le=cfg.max_k, description="At most this many tags"),
        BeforeValidator(json_number),
    ]
    MinScore = Annotated[
        float | None,
        Field(ge=0, le=1, description="Drop tags scoring below this"),
        BeforeValidator(json_number),
    ]
    TagList = Annotated[list[TagName], Field(max_length=cfg.max_feedback_tags)]
    LongTail = Annotated[
        StrictBool,
        Field(description="Also return low-confidence long-tail tags (`long_tail` field)"),
    ]

    class Project(_Strict):
        """A project to tag."""

        title: Title
        description: Description = ""

    class SuggestRequest(Project):
        """A project and optional overrides of the decision policy."""

        model_config = ConfigDict(
            extra="forbid",
            json_schema_extra={
                "examples": [{"title": EXAMPLE_TITLE, "description": EXAMPLE_DESCRIPTION, "k": 5}]
            },
        )
        k: K = None
        min_score: MinScore = None
        long_tail: LongTail = True

    class BatchRequest(_Strict):
        """Many projects in one request (same ``k``/``min_score`` for all)."""

        model_config = ConfigDict(
            extra="forbid",
            json_schema_extra={
                "examples": [
                    {
                        "items": [
                            {"title": EXAMPLE_TITLE, "description": EXAMPLE_DESCRIPTION},
                            {"title": "Pedestrian detection", "description": "YOLO on video"},
                        ]
                    }
                ]
            },
        )
        items: Annotated[list[Project], Field(min_length=1, max_length=cfg.max_batch)]
        k: K = None
        min_score: MinScore = None
        long_tail: LongTail = True

    class FeedbackRequest(_Strict):
        """What the author did with the suggestions; tags may be aliases."""

        model_config = ConfigDict(
            extra="forbid",
            json_schema_extra={
                "examples": [
                    {
                        "project_id": "p-123",
                        "title": EXAMPLE_TITLE,
                        "description": EXAMPLE_DESCRIPTION,
                        "suggested": ["natural-language-processing", "transformers"],
                        "accepted": ["transformers"],
                        "added": ["question-answering"],
                    }
                ]
            },
        )
        project_id: (
            Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=LINE_PATTERN)]
            | None
        ) = None
        title: Title
        description: Description = ""
        suggested: TagList = Field(default_factory=list)
        accepted: TagList = Field(default_factory=list)
        added: TagList = Field(default_factory=list)
        prediction_id: (
            Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")]
            | None
        ) = Field(None, description="The `prediction_id` of the suggestion this answers")

    return RequestModels(Project, SuggestRequest, BatchRequest, FeedbackRequest)
