"""A self-contained model directory: model + decision policy + labels + vocabulary.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tagwise import __version__
from tagwise.errors import IntegrityError, UnknownModelError
from tagwise.models.base import TagModel
from tagwise.models.registry import backend_class
from tagwise.policy import DecisionPolicy
from tagwise.taxonomy import LabelSpace, Taxonomy
from tagwise.text import project_text

MANIFEST = "manifest.json"
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Suggestion:
    """One suggested tag and its score."""

    tag: str
    score: float


@dataclass
class ModelBundle:
    """Everything needed to turn a (title, description) into suggested tags."""

    model: TagModel
    policy: DecisionPolicy
    taxonomy: Taxonomy
    info: dict[str, Any] = field(default_factory=dict)
    reference: dict[str, Any] | None = None  # drift reference (monitoring.drift), if built

    @property
    def labels(self) -> LabelSpace:
        """The label space the model predicts."""
        return self.model.labels_

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
        scores = self.scores([project_text(t, d) for t, d in projects])
        decided = self.policy.decide(scores, k=k, min_score=min_score)
        names = self.labels.labels
        rows = [[Suggestion(names[j], round(s, 6)) for j, s in row] for row in decided]
        top = scores.max(axis=1) if scores.size else np.zeros(len(projects))
        return rows, top

    def suggest(
        self,
        projects: Sequence[tuple[str, str]],
        *,
        k: int | None = None,
        min_score: float | None = None,
    ) -> list[list[Suggestion]]:
        """Suggestions for raw ``(title, description)`` pairs — the one serving path."""
        texts = [project_text(t, d) for t, d in projects]
        return self.suggest_texts(texts, k=k, min_score=min_score)

    def save(self, directory: Path | str) -> Path:
        """Write the bundle atomically to ``directory`` (replacing an existing one)."""
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{directory.name}.", dir=directory.parent))
        try:
            model_dir = tmp / "model"
            model_dir.mkdir()
            self.model.save(model_dir)
            (tmp / "policy.json").write_text(json.dumps(self.policy.to_dict(), indent=2))
            (tmp / "taxonomy.json").write_text(json.dumps(self.taxonomy.to_records()))
            if self.reference is not None:
                (tmp / "reference.json").write_text(json.dumps(self.reference))
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
        info = {k: v for k, v in manifest.items() if k != "files"}
        return cls(model=model, policy=policy, taxonomy=taxonomy, info=info, reference=reference)


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
