"""A self-contained model directory: model + decision policy + labels + vocabulary.

Optionally also a long-tail scorer (``tail/``): zero-/few-shot suggestions of the
vocabulary tags outside the label space, returned apart from the head tags. A bundle
saved without one loads as before and suggests no long-tail tags.

Saved atomically (written to a temporary sibling, then renamed) with a manifest that
records the tagwise version, config hash, dataset digests, reference statistics and a
sha256 of every file. Loading verifies every checksum first, so a tampered or truncated
file is refused before anything reads it.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tagwise import __version__
from tagwise.errors import ConfigError, IntegrityError, UnknownModelError
from tagwise.models.base import TagModel
from tagwise.models.registry import backend_class
from tagwise.models.zeroshot import TailScorer, TailSuggestion
from tagwise.policy import DecisionPolicy
from tagwise.taxonomy import LabelSpace, Taxonomy
from tagwise.text import project_text

MANIFEST = "manifest.json"
FORMAT_VERSION = 1
TAIL_DIR = "tail"


@dataclass(frozen=True)
class Suggestion:
    """One suggested tag and its score."""

    tag: str
    score: float


@dataclass(frozen=True)
class Suggestions:
    """The whole answer for a batch of projects, aligned with the input order.

    ``tags``: head tags after the decision policy; ``long_tail``: low-confidence tags
    from outside the label space (never one of that project's head tags); ``top``: each
    project's best raw head score before the policy (what drift monitoring logs).
    """

    tags: list[list[Suggestion]]
    long_tail: list[list[TailSuggestion]]
    top: np.ndarray


@dataclass
class ModelBundle:
    """Everything needed to turn a (title, description) into suggested tags."""

    model: TagModel
    policy: DecisionPolicy
    taxonomy: Taxonomy
    info: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] | None = None  # drift reference (monitoring.drift), if built
    tail: TailScorer | None = None  # long-tail scorer, if fitted

    @property
    def labels(self) -> LabelSpace:
        """The label space the model predicts."""
        return self.model.labels_

    def use_threads(self, threads: int) -> int:
        """Encode with ``threads`` threads when predicting; returns how many models changed.

        Serving keeps the saved 1 (steadiest latency beside other requests); a batch job
        such as ``tagwise predict`` on a file is faster with every core (int8 MiniLM
        encodes one text per thread, so the vectors do not change). Models without a
        sentence encoder have no such parameter and are left alone.
        """
        if threads < 1:
            raise ValueError(f"threads must be ≥ 1, got {threads}")
        changed = 0
        todo: list[Any] = [self.model, self.tail]
        while todo:
            model = todo.pop()
            if model is None:
                continue
            params = getattr(model, "params", None)
            if isinstance(params, dict) and "threads" in params and "encoder" in params:
                params["threads"] = threads
                changed += 1
            todo += list(getattr(model, "members_", ()) or ())
        return changed

    def scores(self, texts: Sequence[str]) -> np.ndarray:
        """Model scores for already-normalised texts."""
        return self.model.predict_proba(texts)

    def suggest_texts(
        self, texts: Sequence[str], *, k: int | None = None, min_score: float | None = None
    ) -> list[list[Suggestion]]:
        """Suggestions for normalised texts, after the decision policy."""
        decided = self.policy.decide(self.scores(texts), k=k, min_score=min_score)
        names = self.labels.labels
        return [[Suggestion(names[j], round(s, 6)) for j, s in row] for row in decided]

    def suggest_scored(
        self,
        projects: Sequence[tuple[str, str]],
        *,
        k: int | None = None,
        min_score: float | None = None,
    ) -> tuple[list[list[Suggestion]], np.ndarray]:
        """:meth:`suggest` plus each project's top raw score (what drift monitoring logs).

        The top score is taken before the policy, so a project no tag passes for still
        tells the monitor how confident the model was.
        """
        answer = self.suggest_all(projects, k=k, min_score=min_score, long_tail=False)
        return answer.tags, answer.top

    def suggest(
        self,
        projects: Sequence[tuple[str, str]],
        *,
        k: int | None = None,
        min_score: float | None = None,
    ) -> list[list[Suggestion]]:
        """Head-tag suggestions for raw ``(title, description)`` pairs."""
        texts = [project_text(t, d) for t, d in projects]
        return self.suggest_texts(texts, k=k, min_score=min_score)

    def suggest_all(
        self,
        projects: Sequence[tuple[str, str]],
        *,
        k: int | None = None,
        min_score: float | None = None,
        long_tail: bool = True,
    ) -> Suggestions:
        """Head and long-tail suggestions for raw pairs — the one serving path (API, CLI).

        ``k`` caps the head tags (the long tail has its own cap, saved with the scorer);
        ``min_score`` applies to both lists; ``long_tail=False`` skips the long tail.
        """
        texts = [project_text(t, d) for t, d in projects]
        scores = self.scores(texts)
        decided = self.policy.decide(scores, k=k, min_score=min_score)
        names = self.labels.labels
        rows = [[Suggestion(names[j], round(s, 6)) for j, s in row] for row in decided]
        top = scores.max(axis=1) if scores.size else np.zeros(len(projects))
        tail = (
            self.suggest_long_tail(texts, rows, min_score=min_score)
            if long_tail
            else [[] for _ in rows]
        )
        return Suggestions(tags=rows, long_tail=tail, top=top)

    def suggest_long_tail(
        self,
        texts: Sequence[str],
        head: Sequence[Sequence[Suggestion]] | None = None,
        *,
        min_score: float | None = None,
    ) -> list[list[TailSuggestion]]:
        """Long-tail tags for normalised texts, skipping each text's ``head`` tags."""
        if self.tail is None or not texts:
            return [[] for _ in texts]
        exclude = [[s.tag for s in row] for row in head] if head is not None else None
        rows = self.tail.suggest(texts, exclude=exclude)
        if min_score is not None:
            rows = [[s for s in row if s.score >= min_score] for row in rows]
        return rows

    def with_vocabulary(self, taxonomy: Taxonomy) -> ModelBundle:
        """This model serving a newer vocabulary (e.g. ``tags.json`` edited after training).

        Feedback, the tag listing and search use ``taxonomy``; the long-tail scorer gets
        zero-shot prototypes for its new tags and drops tags it no longer has. The head
        model, label space and policy are unchanged. ``self`` is not modified.
        """
        if not taxonomy.entries:
            return self
        tail = self.tail.for_vocabulary(taxonomy, self.labels.labels) if self.tail else None
        return replace(self, taxonomy=taxonomy, tail=tail)

    def save(self, directory: Path | str) -> Path:
        """Write the bundle atomically to ``directory`` (replacing an existing bundle).

        A directory that holds anything else is refused (:func:`check_writable`): an
        export must never delete files it did not write.
        """
        directory = Path(directory)
        check_writable(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        tmp.chmod(0o755)  # mkdtemp makes it private; a model directory is shared like a file
        try:
            model_dir = tmp / "model"
            model_dir.mkdir()
            self.model.save(model_dir)
            (tmp / "policy.json").write_text(json.dumps(self.policy.to_dict(), indent=2))
            (tmp / "taxonomy.json").write_text(json.dumps(self.taxonomy.to_records()))
            if self.reference is not None:
                (tmp / "reference.json").write_text(json.dumps(self.reference))
            if self.tail is not None:
                self.tail.save(tmp / TAIL_DIR)
            files = {
                str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()
            }
            manifest = {
                "format_version": FORMAT_VERSION,
                "tagwise_version": __version__,
                "backend": self.model.name,
                "labels": list(self.labels.labels),
                **self.info,
                "files": files,
            }
            (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
            if directory.exists():
                shutil.rmtree(directory)
            os.replace(tmp, directory)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        return directory

    @classmethod
    def load(cls, directory: Path | str) -> ModelBundle:
        """Load and verify a bundle written by :meth:`save`."""
        directory = Path(directory)
        manifest_path = directory / MANIFEST
        if not manifest_path.is_file():
            raise UnknownModelError(f"{directory}: not a tagwise model directory (no {MANIFEST})")
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("format_version") != FORMAT_VERSION:
            raise IntegrityError(
                f"{directory}: model format {manifest.get('format_version')} is not "
                f"{FORMAT_VERSION}; retrain it with this tagwise version"
            )
        if manifest.get("tagwise_version") != __version__:
            warnings.warn(
                f"{directory} was saved by tagwise {manifest.get('tagwise_version')}, "
                f"this is {__version__}",
                stacklevel=2,
            )
        _verify_files(directory, manifest["files"])
        model = backend_class(manifest["backend"]).load(directory / "model")
        policy = DecisionPolicy.from_dict(json.loads((directory / "policy.json").read_text()))
        taxonomy = Taxonomy.from_records(json.loads((directory / "taxonomy.json").read_text()))
        ref_path = directory / "reference.json"
        reference = json.loads(ref_path.read_text()) if ref_path.is_file() else None
        tail_dir = directory / TAIL_DIR
        tail = TailScorer.load(tail_dir) if (tail_dir / "tail.json").is_file() else None
        info = {k: v for k, v in manifest.items() if k != "files"}
        return cls(
            model=model,
            policy=policy,
            taxonomy=taxonomy,
            info=info,
            reference=reference,
            tail=tail,
        )


def check_writable(directory: Path | str) -> None:
    """Refuse a target that exists and is neither empty nor a model bundle (nor a dir).

    Called before training starts too, so a typo in ``--out`` fails in a second rather
    than after minutes of training — and never deletes what is there.
    """
    directory = Path(directory)
    if not directory.exists():
        return
    if not directory.is_dir():
        raise ConfigError(f"{directory}: exists and is not a directory; choose another --out")
    if (directory / MANIFEST).is_file() or not any(directory.iterdir()):
        return
    raise ConfigError(
        f"{directory}: not empty and holds no tagwise model ({MANIFEST}); refusing to "
        "replace it — choose a new or empty directory"
    )


def verify_checksums(directory: Path | str) -> None:
    """Refuse a bundle folder whose files do not match its manifest (:class:`IntegrityError`).

    What :meth:`ModelBundle.load` checks first, without loading anything.
    """
    directory = Path(directory)
    manifest_path = directory / MANIFEST
    if not manifest_path.is_file():
        raise IntegrityError(f"{directory}: not a tagwise model directory (no {MANIFEST})")
    _verify_files(directory, json.loads(manifest_path.read_text())["files"])


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _verify_files(directory: Path, files: dict[str, str]) -> None:
    present = {str(p.relative_to(directory)) for p in directory.rglob("*") if p.is_file()}
    extra = present - set(files) - {MANIFEST}
    if extra:
        raise IntegrityError(f"{directory}: files not in the manifest: {sorted(extra)}")
    for name, digest in files.items():
        path = directory / name
        if not path.is_file():
            raise IntegrityError(f"{directory}: {name} is missing")
        if _sha256(path) != digest:
            raise IntegrityError(f"{directory}: {name} does not match its checksum")
