"""The curated tag vocabulary: aliases, parents, and the label space a model predicts.

Implements label protocol P1 (DESIGN.md): map author tags through aliases to canonical
tags, drop tags unknown to the vocabulary, add every ancestor transitively, and keep as
labels the canonical tags present in at least ``min_freq`` projects.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tagwise.errors import DataFormatError, UnknownTagError


def clean_tag(tag: str) -> str:
    """Spelling-normalise a tag as authors type it: trim, lower-case, spaces to hyphens."""
    return "-".join(tag.strip().lower().replace("_", "-").split())


@dataclass(frozen=True)
class TagInfo:
    """One vocabulary entry as written in ``tags.json``."""

    tag: str
    aliases: tuple[str, ...] = ()
    parents: tuple[str, ...] = ()
    description: str = ""  # optional short text; long-tail tags are matched against it


@dataclass(frozen=True)
class Taxonomy:
    """Aliases → canonical tags and the transitive parent closure, computed once.

    Problems in the vocabulary (a cycle, a parent that is not a tag, an alias claimed by
    two tags) are collected in :attr:`problems` instead of raising: a flawed vocabulary
    still works, and the operator is told what to fix.
    """

    entries: tuple[TagInfo, ...]
    _alias: dict[str, str] = field(repr=False, compare=False)
    _ancestors: dict[str, frozenset[str]] = field(repr=False, compare=False)
    problems: tuple[str, ...] = ()

    @classmethod
    def from_records(cls, records: Iterable[dict]) -> Taxonomy:
        """Build from ``tags.json``-style records ``{tag, aliases, parents, description?}``."""
        entries = tuple(
            TagInfo(
                tag=clean_tag(r["tag"]),
                aliases=tuple(clean_tag(a) for a in r.get("aliases") or ()),
                parents=tuple(clean_tag(p) for p in r.get("parents") or ()),
                description=str(r.get("description") or "").strip(),
            )
            for r in records
        )
        problems: list[str] = []
        alias: dict[str, str] = {e.tag: e.tag for e in entries}
        for e in entries:
            for a in e.aliases:
                if a in alias and alias[a] != e.tag:
                    problems.append(
                        f"alias {a!r} of {e.tag!r} is already {alias[a]!r}; kept the first"
                    )
                    continue
                alias[a] = e.tag
        ancestors, closure_problems = _ancestor_closure({e.tag: e.parents for e in entries})
        problems.extend(closure_problems)
        return cls(entries=entries, _alias=alias, _ancestors=ancestors, problems=tuple(problems))

    @classmethod
    def from_file(cls, path: Path | str) -> Taxonomy:
        """Read ``tags.json``; an unparseable file fails with the file and line."""
        path = Path(path)
        try:
            records = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise DataFormatError(str(path), exc.msg, line=exc.lineno) from None
        except OSError as exc:
            raise DataFormatError(str(path), exc.strerror or str(exc)) from None
        if not isinstance(records, list) or not all(
            isinstance(r, dict)
            and isinstance(r.get("tag"), str)
            and isinstance(r.get("description") or "", str)
            for r in records
        ):
            raise DataFormatError(
                str(path), "expected a list of {tag, aliases, parents, description?} objects"
            )
        return cls.from_records(records)

    @property
    def tags(self) -> tuple[str, ...]:
        """Canonical tags in vocabulary order."""
        return tuple(e.tag for e in self.entries)

    def info(self, tag: str) -> TagInfo:
        """The entry of a canonical tag or alias; raises :class:`UnknownTagError`."""
        canonical = self.canonical(tag)
        if canonical is None:
            raise UnknownTagError(f"unknown tag {tag!r}")
        return next(e for e in self.entries if e.tag == canonical)

    def canonical(self, tag: str) -> str | None:
        """The canonical tag for a tag or alias, or ``None`` if the vocabulary lacks it."""
        return self._alias.get(clean_tag(tag))

    def ancestors(self, tag: str) -> frozenset[str]:
        """All transitive parents of a canonical tag (never the tag itself)."""
        return self._ancestors.get(tag, frozenset())

    def closure(self, tags: Iterable[str]) -> set[str]:
        """P1 mapping of author tags: canonicalise, drop unknown, add all ancestors."""
        out: set[str] = set()
        for raw in tags:
            canonical = self.canonical(raw)
            if canonical is not None:
                out.add(canonical)
                out |= self._ancestors[canonical]
        return out

    def aliases_of(self, tag: str) -> tuple[str, ...]:
        """Alias spellings of a canonical tag."""
        return self.info(tag).aliases

    def to_records(self) -> list[dict]:
        """Back to ``tags.json`` form (saved inside every model bundle).

        ``description`` is written only when a tag has one, so a vocabulary without
        descriptions round-trips to exactly the records it always did.
        """
        records = []
        for e in self.entries:
            record: dict = {"tag": e.tag, "aliases": list(e.aliases), "parents": list(e.parents)}
            if e.description:
                record["description"] = e.description
            records.append(record)
        return records


def _ancestor_closure(
    parents: dict[str, tuple[str, ...]],
) -> tuple[dict[str, frozenset[str]], list[str]]:
    """Transitive parents by iterative DFS; reports cycles and unknown parents."""
    problems: list[str] = []
    for tag, ps in parents.items():
        for p in ps:
            if p not in parents:
                problems.append(f"parent {p!r} of {tag!r} is not in the vocabulary; ignored")
    result: dict[str, frozenset[str]] = {}
    cycles: set[frozenset[str]] = set()
    for start in parents:
        seen: set[str] = set()
        stack = [p for p in parents[start] if p in parents]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            if node == start:
                cycles.add(frozenset(seen | {start}))
                continue
            seen.add(node)
            stack.extend(p for p in parents[node] if p in parents)
        result[start] = frozenset(seen)
    for cyc in sorted(cycles, key=sorted):
        problems.append(f"parent cycle through {sorted(cyc)}; the closure stops at the cycle")
    return result, problems


@dataclass(frozen=True)
class LabelSpace:
    """The ordered labels a model predicts, with their training-set frequencies."""

    labels: tuple[str, ...]
    counts: tuple[int, ...]

    def __len__(self) -> int:
        return len(self.labels)

    def index(self, tag: str) -> int:
        """Column of a label; raises :class:`UnknownTagError` for a tag outside the space."""
        try:
            return self.labels.index(tag)
        except ValueError:
            raise UnknownTagError(f"tag {tag!r} is not in the label space") from None

    def to_dict(self) -> dict:
        """JSON form, saved with the model."""
        return {"labels": list(self.labels), "counts": list(self.counts)}

    @classmethod
    def from_dict(cls, d: dict) -> LabelSpace:
        """Inverse of :meth:`to_dict`."""
        return cls(labels=tuple(d["labels"]), counts=tuple(int(c) for c in d["counts"]))


def build_label_space(
    label_sets: Sequence[Iterable[str]], *, min_freq: int = 30, exclude: Iterable[str] = ()
) -> LabelSpace:
    """Labels present in ≥ ``min_freq`` of the given (already P1-mapped) label sets.

    Ordered by descending frequency, then name, so the order is deterministic.
    """
    excluded = set(exclude)
    counter: Counter[str] = Counter(t for s in label_sets for t in set(s))
    kept = sorted(
        ((t, c) for t, c in counter.items() if c >= min_freq and t not in excluded),
        key=lambda tc: (-tc[1], tc[0]),
    )
    return LabelSpace(labels=tuple(t for t, _ in kept), counts=tuple(c for _, c in kept))


def single_label_space(labels: Sequence[str]) -> LabelSpace:
    """Label space of single-label data: every class seen, by frequency (no threshold)."""
    counter = Counter(labels)
    kept = sorted(counter.items(), key=lambda tc: (-tc[1], tc[0]))
    return LabelSpace(labels=tuple(t for t, _ in kept), counts=tuple(c for _, c in kept))
