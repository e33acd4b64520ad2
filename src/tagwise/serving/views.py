"""Pure functions that turn core objects into API response bodies.

Kept out of the routes so the routes stay parse → call → format, and so the shapes can
be tested without HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence

from tagwise.bundle import ModelBundle, Suggestion
from tagwise.models.zeroshot import TailSuggestion
from tagwise.serving.holder import Served
from tagwise.serving.schemas import (
    LabelEntry,
    LongTailTag,
    ModelRef,
    ModelsResponse,
    ModelVersionOut,
    TagDetail,
    TagScore,
    TagsResponse,
    VocabularyEntry,
)
from tagwise.taxonomy import TagInfo


def model_ref(served: Served) -> ModelRef:
    """The ``model`` object of a response."""
    return ModelRef(name=served.name, version=served.version)


def tag_scores(row: Sequence[Suggestion]) -> list[TagScore]:
    """Suggestions → response items (scores clipped into [0, 1] for the schema)."""
    return [TagScore(tag=s.tag, score=min(1.0, max(0.0, float(s.score)))) for s in row]


def long_tail_tags(row: Sequence[TailSuggestion]) -> list[LongTailTag]:
    """Long-tail suggestions → response items (clipped into the schema's ranges)."""
    return [
        LongTailTag(
            tag=s.tag,
            score=min(1.0, max(0.0, float(s.score))),
            similarity=min(1.0, max(-1.0, float(s.similarity))),
            source=s.source,  # type: ignore[arg-type]
        )
        for s in row
    ]


def _entry(bundle: ModelBundle, tag: str) -> TagInfo:
    tax = bundle.taxonomy
    return tax.info(tag) if tax.entries and tax.canonical(tag) else TagInfo(tag=tag)


def tags_listing(served: Served) -> TagsResponse:
    """Label space with counts, plus the vocabulary for autocomplete."""
    bundle = served.bundle
    space = bundle.labels
    in_space = set(space.labels)
    labels = []
    for tag, count in zip(space.labels, space.counts, strict=True):
        info = _entry(bundle, tag)
        labels.append(
            LabelEntry(tag=tag, count=count, aliases=list(info.aliases), parents=list(info.parents))
        )
    entries = bundle.taxonomy.entries or tuple(TagInfo(tag=t) for t in space.labels)
    vocabulary = [
        VocabularyEntry(
            tag=e.tag,
            aliases=list(e.aliases),
            parents=list(e.parents),
            in_label_space=e.tag in in_space,
        )
        for e in entries
    ]
    return TagsResponse(model=model_ref(served), labels=labels, vocabulary=vocabulary)


def tag_detail(bundle: ModelBundle, tag: str) -> TagDetail:
    """One tag by name or alias; raises :class:`UnknownTagError` (404) if unknown."""
    space = bundle.labels
    tax = bundle.taxonomy
    if tax.entries:
        info = tax.info(tag)
    else:
        space.index(tag)  # single-label model: the label space is the vocabulary
        info = TagInfo(tag=tag)
    counts = dict(zip(space.labels, space.counts, strict=True))
    children = [e.tag for e in tax.entries if info.tag in e.parents]
    return TagDetail(
        tag=info.tag,
        aliases=list(info.aliases),
        parents=list(info.parents),
        ancestors=sorted(tax.ancestors(info.tag)),
        children=children,
        in_label_space=info.tag in counts,
        count=counts.get(info.tag),
    )


def models_listing(served: Served | None, versions, *, name: str, ref: str) -> ModelsResponse:
    """Registered versions (newest first) and which one this server answers with."""
    current = served.version if served else None
    manifest_metrics = (served.bundle.info.get("metrics") or {}) if served else {}
    return ModelsResponse(
        name=name,
        serving=model_ref(served) if served else None,
        ref=ref,
        metrics={k: float(v) for k, v in manifest_metrics.items() if isinstance(v, int | float)},
        versions=[
            ModelVersionOut(
                version=v.version,
                aliases=list(v.aliases),
                run_id=v.run_id,
                created=int(v.created or 0),
                metrics={k: float(x) for k, x in v.metrics.items()},
                serving=served is not None and served.name == name and str(v.version) == current,
            )
            for v in versions
        ],
    )
