"""What one feedback write holds, and the pure check of its tags against the vocabulary."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tagwise.errors import TagwiseError
from tagwise.taxonomy import Taxonomy


class InvalidTagsError(TagwiseError):
    """Tags that are neither vocabulary tags nor aliases; ``errors`` names each field."""

    http_status = 422

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__("; ".join(f"{f}: {m}" for f, m in errors))
        self.errors = errors


@dataclass(frozen=True)
class FeedbackRecord:
    """One author's verdict on the suggestions for one project (tags canonical)."""

    title: str
    description: str
    suggested: tuple[str, ...]
    accepted: tuple[str, ...]
    added: tuple[str, ...]
    project_id: str | None = None
    model_version: str | None = None


def canonical_tags(
    taxonomy: Taxonomy, fields: dict[str, Sequence[str]], *, fallback: Sequence[str] = ()
) -> dict[str, tuple[str, ...]]:
    """Map each field's tags to canonical vocabulary tags (deduplicated, order kept).

    Every unknown tag is reported at once with its field and position, so a client
    fixes all of them in one round. A model without a vocabulary (single-label data)
    checks against ``fallback`` — its label space — instead.
    """
    known = set(fallback)
    errors: list[tuple[str, str]] = []
    out: dict[str, tuple[str, ...]] = {}
    for name, tags in fields.items():
        kept: list[str] = []
        for i, tag in enumerate(tags):
            canonical = taxonomy.canonical(tag) if taxonomy.entries else None
            if canonical is None and tag in known:
                canonical = tag
            if canonical is None:
                errors.append((f"{name}[{i}]", f"unknown tag {tag!r}: not in the vocabulary"))
            elif canonical not in kept:
                kept.append(canonical)
        out[name] = tuple(kept)
    if errors:
        raise InvalidTagsError(errors)
    return out
