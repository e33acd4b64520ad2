"""Long tail: suggest vocabulary tags the classifier was never trained on.

Tags below ``min_freq`` — and tags added to ``tags.json`` after training, with no
examples at all — are outside the model's label space. :class:`TailScorer` scores them
by cosine similarity between a text's embedding and each tag's *prototype*:

* zero-shot: the embedding of the tag's description, built from the vocabulary only
  (``"<name>. also: <aliases>. a kind of <parents>"``);
* few-shot: when a tag has training examples, the prototype moves towards their mean
  embedding (``shot_weight`` per example, saturating), which helps most.

Similarities are mapped to a confidence that is capped at ``max_confidence`` (0.5 by
default), so a long-tail suggestion never outranks a calibrated head-tag suggestion,
and every suggestion says ``source="zero-shot"`` or ``"few-shot"``. The vocabulary is
read at scoring time, so a newly added tag works without retraining.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tagwise.errors import ConfigError, NotTrainedError
from tagwise.models.base import load_array, save_array
from tagwise.models.embedding import ENCODER_DEFAULTS, EncoderMixin
from tagwise.taxonomy import Taxonomy


@dataclass(frozen=True)
class TailSuggestion:
    """A long-tail tag with its (deliberately low) confidence and where it comes from."""

    tag: str
    score: float
    similarity: float
    source: str  # "zero-shot" | "few-shot"


def tag_description(taxonomy: Taxonomy, tag: str) -> str:
    """The text a tag is embedded as: name, aliases, parents (hyphens as spaces)."""
    info = taxonomy.info(tag)

    def words(t: str) -> str:
        return t.replace("-", " ")

    parts = [words(info.tag)]
    if info.aliases:
        parts.append("also: " + ", ".join(words(a) for a in info.aliases))
    if info.parents:
        parts.append("a kind of " + ", ".join(words(p) for p in info.parents))
    return ". ".join(parts)


class TailScorer(EncoderMixin):
    """Zero-/few-shot scores for vocabulary tags outside a model's label space."""

    name = "tail"
    defaults: ClassVar[dict[str, Any]] = {
        **ENCODER_DEFAULTS,
        "shot_weight": 0.25,  # weight of each example's embedding in the prototype
        "max_shots": 8,
        "center": 0.45,  # similarity that maps to half of max_confidence
        "scale": 0.05,
        "max_confidence": 0.5,
        "min_similarity": 0.35,  # below this a tag is never suggested
    }

    def __init__(self, **params: Any) -> None:
        unknown = set(params) - set(self.defaults)
        if unknown:
            raise ConfigError(
                f"{self.name}: unknown parameter(s) {sorted(unknown)}; "
                f"valid: {sorted(self.defaults)}"
            )
        self.params = {**self.defaults, **params}

    def fit(
        self,
        taxonomy: Taxonomy,
        exclude: Iterable[str],
        texts: Sequence[str] = (),
        tag_sets: Sequence[Iterable[str]] = (),
    ) -> TailScorer:
        """Prototypes for every vocabulary tag not in ``exclude`` (the head labels).

        ``texts`` with their P1 tag sets (optional) give the few-shot examples.
        """
        self._validate_encoder_params()
        if len(texts) != len(tag_sets):
            raise ConfigError(f"{len(texts)} texts but {len(tag_sets)} tag sets")
        excluded = set(exclude)
        tags = [t for t in taxonomy.tags if t not in excluded]
        D = self.embed([tag_description(taxonomy, t) for t in tags], fitting=True)
        shots = np.zeros(len(tags), dtype=np.int32)
        if texts:
            col = {t: j for j, t in enumerate(tags)}
            members: dict[int, list[int]] = {}
            for i, ts in enumerate(tag_sets):
                for t in ts:
                    if t in col and len(members.setdefault(col[t], [])) < self.params["max_shots"]:
                        members[col[t]].append(i)
            if members:
                E = self.embed(list(texts), fitting=True)
                for j, rows in members.items():
                    w = self.params["shot_weight"] * len(rows)
                    D[j] = D[j] + w * E[rows].mean(axis=0)
                    shots[j] = len(rows)
        D /= np.maximum(np.linalg.norm(D, axis=1, keepdims=True), 1e-12)
        self.tags_ = tuple(tags)
        self.prototypes_ = D.astype(np.float32)
        self.shots_ = shots
        return self

    def with_tags(self, taxonomy: Taxonomy, exclude: Iterable[str]) -> TailScorer:
        """Add zero-shot prototypes for vocabulary tags this scorer does not know yet."""
        self.check_fitted()
        known = set(self.tags_) | set(exclude)
        new = [t for t in taxonomy.tags if t not in known]
        if new:
            D = self.embed([tag_description(taxonomy, t) for t in new])
            self.tags_ = (*self.tags_, *new)
            self.prototypes_ = np.vstack([self.prototypes_, D.astype(np.float32)])
            self.shots_ = np.concatenate([self.shots_, np.zeros(len(new), dtype=np.int32)])
        return self

    def check_fitted(self) -> None:
        """Raise :class:`NotTrainedError` before ``fit``/``load``."""
        if not hasattr(self, "tags_"):
            raise NotTrainedError("tail scorer is not fitted; call fit() or load() first")

    def similarities(self, texts: Sequence[str]) -> np.ndarray:
        """(n × n_tail) cosine similarity of each normalised text to each tag prototype."""
        self.check_fitted()
        if not texts:
            return np.zeros((0, len(self.tags_)))
        E = self.embed(list(texts))
        return np.vstack([self.prototypes_ @ e for e in E]).astype(np.float64)

    def confidence(self, sims: np.ndarray) -> np.ndarray:
        """Similarity → capped confidence in [0, max_confidence]."""
        p = self.params
        z = (sims - p["center"]) / p["scale"]
        return p["max_confidence"] / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def suggest(self, texts: Sequence[str], *, k: int = 3) -> list[list[TailSuggestion]]:
        """Up to ``k`` long-tail tags per text, best first, above ``min_similarity``."""
        sims = self.similarities(texts)
        conf = self.confidence(sims)
        out = []
        for i in range(sims.shape[0]):
            order = np.argsort(-sims[i], kind="stable")[:k]
            out.append(
                [
                    TailSuggestion(
                        tag=self.tags_[j],
                        score=round(float(conf[i, j]), 6),
                        similarity=round(float(sims[i, j]), 6),
                        source="few-shot" if self.shots_[j] else "zero-shot",
                    )
                    for j in order
                    if sims[i, j] >= self.params["min_similarity"]
                ]
            )
        return out

    def save(self, directory: Path) -> None:
        """Params, tag names (JSON), prototypes and shot counts (``.npy``)."""
        self.check_fitted()
        directory.mkdir(parents=True, exist_ok=True)
        (directory / "tail.json").write_text(
            json.dumps({"params": self.params, "tags": list(self.tags_)}, indent=2)
        )
        self._save_encoder(directory)
        save_array(directory / "prototypes.npy", self.prototypes_)
        save_array(directory / "shots.npy", self.shots_)

    @classmethod
    def load(cls, directory: Path) -> TailScorer:
        """Inverse of :meth:`save`."""
        meta = json.loads((directory / "tail.json").read_text())
        scorer = cls(**meta["params"])
        scorer._check_encoder(directory)
        scorer.tags_ = tuple(meta["tags"])
        scorer.prototypes_ = load_array(directory / "prototypes.npy")
        scorer.shots_ = load_array(directory / "shots.npy")
        return scorer


def tail_recall_at_k(
    scorer: TailScorer, texts: Sequence[str], tag_sets: Sequence[Iterable[str]], k: int = 10
) -> dict[str, float]:
    """Recall@k of the long-tail tags: of the (doc, tail tag) pairs, how many rank ≤ k."""
    sims = scorer.similarities(texts)
    col = {t: j for j, t in enumerate(scorer.tags_)}
    hits = total = docs = 0
    for i, ts in enumerate(tag_sets):
        wanted = [col[t] for t in ts if t in col]
        if not wanted:
            continue
        docs += 1
        top = set(np.argsort(-sims[i], kind="stable")[:k].tolist())
        hits += sum(j in top for j in wanted)
        total += len(wanted)
    return {
        f"tail_recall_at_{k}": hits / total if total else 0.0,
        "tail_pairs": float(total),
        "tail_docs": float(docs),
        "tail_tags": float(len(scorer.tags_)),
    }
