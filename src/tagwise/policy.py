"""Decision policy: turns a model's scores into the few tags an author sees.

Kept apart from the models and saved with them, so the CLI, the API and the UI apply
exactly the rule that was tuned — on validation data only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from tagwise.taxonomy import LabelSpace, Taxonomy

THRESHOLD_GRID = np.round(np.arange(0.02, 0.96, 0.01), 2)


@dataclass(frozen=True)
class DecisionPolicy:
    """Threshold (global or per tag) → taxonomy closure → top-k cap.

    ``parents[j]`` lists the label columns that are ancestors of label ``j``; with
    ``closure`` on, a chosen tag brings its ancestors along (scored at least as high as
    the child, so they survive the cap). In single-label mode the policy returns exactly
    the best class.
    """

    threshold: float = 0.5
    top_k: int = 5
    closure: bool = True
    mode: str = "multi"
    per_tag: tuple[float, ...] | None = None
    parents: tuple[tuple[int, ...], ...] = field(default_factory=tuple)

    def thresholds(self, n_labels: int) -> np.ndarray:
        """The threshold applied to each label column."""
        if self.per_tag is not None:
            return np.asarray(self.per_tag, dtype=np.float64)
        return np.full(n_labels, self.threshold)

    def adjusted_scores(self, scores: np.ndarray) -> np.ndarray:
        """Scores after closure: an ancestor scores at least its best chosen descendant."""
        if not self.closure or not self.parents or self.mode == "single":
            return scores
        out = scores.copy()
        chosen = scores >= self.thresholds(scores.shape[1])
        for j, ancestors in enumerate(self.parents):
            if ancestors:
                lifted = np.where(chosen[:, j], scores[:, j], 0.0)
                for a in ancestors:
                    out[:, a] = np.maximum(out[:, a], lifted)
        return out

    def _depth(self, n_labels: int) -> np.ndarray:
        """How many label ancestors each column has (0 without closure)."""
        if not self.closure or len(self.parents) != n_labels:
            return np.zeros(n_labels)
        return np.array([len(p) for p in self.parents], dtype=np.float64)

    def _best_first(self, adjusted: np.ndarray) -> np.ndarray:
        """Columns by score, a child before the parent it lifted to the same score.

        With ``k=1`` the one tag shown is then ``object-detection``, not the generic
        ``computer-vision`` its closure scored alike (the child implies the parent).
        """
        depth = np.broadcast_to(-self._depth(adjusted.shape[1]), adjusted.shape)
        return np.lexsort((depth, -adjusted), axis=-1)

    def select(
        self, scores: np.ndarray, *, k: int | None = None, min_score: float | None = None
    ) -> np.ndarray:
        """Boolean (n_docs × n_labels) matrix of suggested tags."""
        n, n_labels = scores.shape
        selected = np.zeros((n, n_labels), dtype=bool)
        if n == 0 or n_labels == 0:
            return selected
        if self.mode == "single":
            selected[np.arange(n), np.argmax(scores, axis=1)] = True
            return selected
        adjusted = self.adjusted_scores(scores)
        passing = adjusted >= self.thresholds(n_labels)
        if min_score is not None:
            passing &= adjusted >= min_score
        cap = min(k or self.top_k, n_labels)
        order = self._best_first(adjusted)[:, :cap]
        rows = np.arange(n)[:, None]
        selected[rows, order] = passing[rows, order]
        return selected

    def decide(
        self, scores: np.ndarray, *, k: int | None = None, min_score: float | None = None
    ) -> list[list[tuple[int, float]]]:
        """Per document, the chosen ``(label column, score)`` pairs, best first."""
        selected = self.select(scores, k=k, min_score=min_score)
        adjusted = self.adjusted_scores(scores) if self.mode == "multi" else scores
        out = []
        depth = self._depth(scores.shape[1])
        for i in range(scores.shape[0]):
            cols = np.flatnonzero(selected[i])
            cols = cols[np.lexsort((-depth[cols], -adjusted[i, cols]))]
            out.append([(int(j), float(adjusted[i, j])) for j in cols])
        return out

    def to_dict(self) -> dict:
        """JSON form, saved in the model bundle."""
        return {
            "threshold": self.threshold,
            "top_k": self.top_k,
            "closure": self.closure,
            "mode": self.mode,
            "per_tag": list(self.per_tag) if self.per_tag is not None else None,
            "parents": [list(p) for p in self.parents],
        }

    @classmethod
    def from_dict(cls, d: dict) -> DecisionPolicy:
        """Inverse of :meth:`to_dict`."""
        per_tag = d.get("per_tag")
        return cls(
            threshold=float(d["threshold"]),
            top_k=int(d["top_k"]),
            closure=bool(d["closure"]),
            mode=d.get("mode", "multi"),
            per_tag=tuple(float(t) for t in per_tag) if per_tag is not None else None,
            parents=tuple(tuple(int(a) for a in p) for p in d.get("parents", [])),
        )


def label_parents(labels: LabelSpace, taxonomy: Taxonomy) -> tuple[tuple[int, ...], ...]:
    """For each label column, the columns of its ancestors that are also labels."""
    col = {t: i for i, t in enumerate(labels.labels)}
    return tuple(
        tuple(sorted(col[a] for a in taxonomy.ancestors(t) if a in col)) for t in labels.labels
    )


def _micro_f1(Y: np.ndarray, P: np.ndarray) -> float:
    tp = float(np.logical_and(Y, P).sum())
    denom = float(Y.sum() + P.sum())
    return 2 * tp / denom if denom else 0.0


def tune_policy(
    base: DecisionPolicy,
    scores_val: np.ndarray,
    Y_val: np.ndarray,
    *,
    per_tag: bool = False,
    shrinkage: float = 20.0,
    grid: Sequence[float] = tuple(THRESHOLD_GRID),
) -> tuple[DecisionPolicy, list[float]]:
    """Choose the global threshold maximising validation micro-F1 of the whole policy.

    Returns the tuned policy and the validation F1 for every grid point (for the
    threshold-vs-F1 plot). Per-tag thresholds, when asked for, are each tag's own best
    threshold shrunk towards the global one by ``shrinkage`` pseudo-positives, so a tag
    with few validation examples keeps close to the global value.
    """
    if base.mode == "single":
        return base, []
    Yb = Y_val.astype(bool)
    curve = [
        _micro_f1(Yb, replace(base, threshold=float(t), per_tag=None).select(scores_val))
        for t in grid
    ]
    best = float(grid[int(np.argmax(curve))])
    policy = replace(base, threshold=best, per_tag=None)
    if per_tag:
        per = []
        for j in range(Y_val.shape[1]):
            f1s = [_micro_f1(Yb[:, j], scores_val[:, j] >= t) for t in grid]
            own, n_pos = float(grid[int(np.argmax(f1s))]), float(Yb[:, j].sum())
            per.append((n_pos * own + shrinkage * best) / (n_pos + shrinkage))
        policy = replace(policy, per_tag=tuple(per))
    return policy, curve
