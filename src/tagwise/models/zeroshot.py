"""Long tail: suggest vocabulary tags the classifier was never trained on.

Tags below ``min_freq`` — and tags added to ``tags.json`` after training, with no
examples at all — are outside the model's label space. :class:`TailScorer` scores them
by cosine similarity between a text's embedding and each tag's *prototype*:

* zero-shot: the embedding of the tag's description, built from the vocabulary only
  (``"<name>. also: <aliases>. a kind of <parents>"``);
* few-shot: when a tag has training examples, the prototype moves towards their mean
  embedding (``shot_weight`` per example, saturating), which helps most.

A tag is suggested only above a similarity *floor*. Fitted with example texts, the
floor is calibrated for the encoder: the similarity that only ``false_alarm_rate`` (one
in a thousand by default) of the (text, tag it does not carry) pairs reach, one floor
for zero-shot and one for few-shot prototypes (they sit at different similarities), and
never below ``min_similarity``. Similarities are mapped to a confidence that is capped
at ``max_confidence`` (0.5 by default; a tag at its floor gets half of that), so a
long-tail suggestion reads as "low confidence" beside a calibrated head-tag suggestion,
and every suggestion says ``source="zero-shot"`` or ``"few-shot"``. :meth:`with_tags`
adds tags that appeared in the vocabulary after fitting, zero-shot.
"""

from __future__ import annotations

import copy
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

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the API and ``tagwise predict`` (marked low confidence)."""
        return {
            "tag": self.tag,
            "score": self.score,
            "similarity": self.similarity,
            "source": self.source,
            "confidence": "low",
        }


def tag_description(taxonomy: Taxonomy, tag: str) -> str:
    """The text a tag is embedded as: name, aliases, parents, description (hyphens as spaces)."""
    info = taxonomy.info(tag)

    def words(t: str) -> str:
        return t.replace("-", " ")

    parts = [words(info.tag)]
    if info.aliases:
        parts.append("also: " + ", ".join(words(a) for a in info.aliases))
    if info.parents:
        parts.append("a kind of " + ", ".join(words(p) for p in info.parents))
    if info.description:
        parts.append(info.description.strip().lower())
    return ". ".join(parts)


CALIBRATION_ROWS = 2000
"""At most this many example texts (evenly spaced) calibrate the similarity floors."""


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
        "false_alarm_rate": 0.001,  # calibrated floor: share of unrelated pairs above it
        "k": 3,  # long-tail suggestions per text (at most)
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
        self._validate_policy_params()
        excluded = set(exclude)
        tags = [t for t in taxonomy.tags if t not in excluded]
        descriptions = [tag_description(taxonomy, t) for t in tags]
        D = self.embed(descriptions, fitting=True)
        zero = _unit_rows(D.copy())
        shots = np.zeros(len(tags), dtype=np.int32)
        self.floors_: dict[str, float | None] | None = None
        E = np.zeros((0, D.shape[1]), dtype=np.float32)
        col: dict[str, int] = {}
        if texts:
            col = {t: j for j, t in enumerate(tags)}
            members: dict[int, list[int]] = {}
            for i, ts in enumerate(tag_sets):
                for t in ts:
                    if t in col and len(members.setdefault(col[t], [])) < self.params["max_shots"]:
                        members[col[t]].append(i)
            E = self.embed(list(texts), fitting=True)
            for j, rows in members.items():
                if not rows:  # max_shots = 0: zero-shot only
                    continue
                w = self.params["shot_weight"] * len(rows)
                D[j] = D[j] + w * E[rows].mean(axis=0)
                shots[j] = len(rows)
        D = _unit_rows(D)
        if texts and tags and self.params["false_alarm_rate"] is not None:
            sets = [set(ts) for ts in tag_sets]
            self.floors_ = self._calibrate(E, zero, D, shots, sets, col)
        self.tags_ = tuple(tags)
        self.descriptions_: tuple[str, ...] | None = tuple(descriptions)
        self.prototypes_ = D.astype(np.float32)
        self.shots_ = shots
        return self

    def _validate_policy_params(self) -> None:
        p = self.params
        rate = p["false_alarm_rate"]
        if rate is not None and not (isinstance(rate, int | float) and 0 < rate < 1):
            raise ConfigError(f"{self.name}: false_alarm_rate={rate!r} must be in (0, 1) or null")
        if isinstance(p["k"], bool) or not isinstance(p["k"], int) or p["k"] < 0:
            raise ConfigError(f"{self.name}: k={p['k']!r} must be an integer ≥ 0")
        if not p["scale"] > 0:
            raise ConfigError(f"{self.name}: scale={p['scale']!r} must be > 0")

    def _calibrate(
        self,
        E: np.ndarray,
        zero: np.ndarray,
        few: np.ndarray,
        shots: np.ndarray,
        tag_sets: list[set[str]],
        col: dict[str, int],
    ) -> dict[str, float | None]:
        """Floors: the (1 - false_alarm_rate) quantile of similarities to tags a text lacks.

        Only negatives are used, so a text's own few-shot contribution to a prototype
        does not inflate them. A group with fewer than 1 / rate negatives gets no floor
        of its own (few-shot falls back to the zero-shot floor, that to ``min_similarity``).
        """
        rate = float(self.params["false_alarm_rate"])
        rows = np.unique(np.linspace(0, len(E) - 1, min(len(E), CALIBRATION_ROWS)).astype(int))
        carried = np.zeros((len(rows), len(col)), dtype=bool)
        for r, i in enumerate(rows):
            for t in tag_sets[i]:
                if t in col:
                    carried[r, col[t]] = True
        Er = E[rows].astype(np.float64)

        def floor(P: np.ndarray, mask: np.ndarray) -> float | None:
            negatives = (Er @ P.T.astype(np.float64))[~mask]
            if negatives.size * rate < 1:
                return None
            return round(float(np.quantile(negatives, 1.0 - rate)), 6)

        has_shots = shots > 0
        return {
            "zero-shot": floor(zero, carried),
            "few-shot": floor(few[has_shots], carried[:, has_shots]) if has_shots.any() else None,
        }

    def floors(self) -> np.ndarray:
        """The similarity floor of each known tag (calibrated, never below min_similarity)."""
        self.check_fitted()
        base = float(self.params["min_similarity"])
        floors = self.floors_ or {}
        zero = floors.get("zero-shot")
        few = floors.get("few-shot")
        zero = base if zero is None else max(base, zero)
        few = zero if few is None else max(base, few)
        return np.where(self.shots_ > 0, few, zero)

    def with_tags(self, taxonomy: Taxonomy, exclude: Iterable[str]) -> TailScorer:
        """Add zero-shot prototypes for vocabulary tags this scorer does not know yet."""
        self.check_fitted()
        known = set(self.tags_) | set(exclude)
        new = [t for t in taxonomy.tags if t not in known]
        if new:
            descriptions = [tag_description(taxonomy, t) for t in new]
            D = self.embed(descriptions)
            if self.descriptions_ is not None:
                self.descriptions_ = (*self.descriptions_, *descriptions)
            self.tags_ = (*self.tags_, *new)
            self.prototypes_ = np.vstack([self.prototypes_, D.astype(np.float32)])
            self.shots_ = np.concatenate([self.shots_, np.zeros(len(new), dtype=np.int32)])
        return self

    def for_vocabulary(self, taxonomy: Taxonomy, exclude: Iterable[str]) -> TailScorer:
        """A new scorer for a (newer) vocabulary; ``self`` is unchanged.

        New tags are added zero-shot; a zero-shot tag whose entry changed (e.g. new
        aliases or a description) is embedded again; tags the vocabulary no longer has
        are dropped (feedback would refuse them). Few-shot prototypes are kept as
        trained: their examples outweigh the entry.
        """
        self.check_fitted()
        excluded = set(exclude)
        keep = [
            j for j, t in enumerate(self.tags_) if taxonomy.canonical(t) == t and t not in excluded
        ]
        other = copy.copy(self)  # the arrays are replaced below, never written in place
        other.params = dict(self.params)
        other.tags_ = tuple(self.tags_[j] for j in keep)
        other.prototypes_ = self.prototypes_[keep].copy()
        other.shots_ = self.shots_[keep].copy()
        if self.descriptions_ is not None:
            old = [self.descriptions_[j] for j in keep]
            now = [tag_description(taxonomy, t) for t in other.tags_]
            changed = [i for i in range(len(now)) if now[i] != old[i] and not other.shots_[i]]
            if changed:
                other.prototypes_[changed] = self.embed([now[i] for i in changed])
            other.descriptions_ = tuple(now)
        return other.with_tags(taxonomy, excluded)

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
        """Similarity → capped confidence in [0, max_confidence].

        Centred on each tag's calibrated floor when there is one (a tag at its floor
        scores ``max_confidence / 2``), else on the ``center`` parameter.
        """
        p = self.params
        center = self.floors() if getattr(self, "floors_", None) else p["center"]
        z = (sims - center) / p["scale"]
        return p["max_confidence"] / (1.0 + np.exp(-np.clip(z, -40, 40)))

    def suggest(
        self,
        texts: Sequence[str],
        *,
        k: int | None = None,
        exclude: Sequence[Iterable[str]] | None = None,
    ) -> list[list[TailSuggestion]]:
        """Up to ``k`` (default: the ``k`` parameter) long-tail tags per text, best first,
        each above its floor; ``exclude[i]`` are tags never returned for text ``i``.
        """
        k = self.params["k"] if k is None else k
        sims = self.similarities(texts)
        conf = self.confidence(sims)
        floors = self.floors()
        lowest = float(floors.min()) if floors.size else 0.0
        out = []
        for i in range(sims.shape[0]):
            skip = set(exclude[i]) if exclude is not None else set()
            row: list[TailSuggestion] = []
            for j in np.argsort(-sims[i], kind="stable"):
                if len(row) >= k or sims[i, j] < lowest:
                    break  # full, or no tag further down can pass its floor
                if sims[i, j] < floors[j] or self.tags_[j] in skip:
                    continue
                row.append(
                    TailSuggestion(
                        tag=self.tags_[j],
                        score=round(float(conf[i, j]), 6),
                        similarity=round(float(sims[i, j]), 6),
                        source="few-shot" if self.shots_[j] else "zero-shot",
                    )
                )
            out.append(row)
        return out

    def save(self, directory: Path) -> None:
        """Params, tag names (JSON), prototypes and shot counts (``.npy``)."""
        self.check_fitted()
        directory.mkdir(parents=True, exist_ok=True)
        meta = {
            "params": self.params,
            "tags": list(self.tags_),
            "floors": self.floors_,
            "descriptions": list(self.descriptions_) if self.descriptions_ is not None else None,
        }
        (directory / "tail.json").write_text(json.dumps(meta, indent=2))
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
        scorer.floors_ = meta.get("floors")
        descriptions = meta.get("descriptions")
        scorer.descriptions_ = tuple(descriptions) if descriptions is not None else None
        scorer.prototypes_ = load_array(directory / "prototypes.npy")
        scorer.shots_ = load_array(directory / "shots.npy")
        return scorer


def _unit_rows(M: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    return M / np.maximum(np.linalg.norm(M, axis=1, keepdims=True), 1e-12)


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
