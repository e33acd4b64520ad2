"""Confident learning: which of the given labels are probably wrong?

Authors tag their own projects, quickly and unevenly, so some "ground truth" is wrong:
a missing tag the project clearly deserves, or a tag that does not fit. A model
trained on the rest can point at them. This module implements the core of confident
learning (Northcutt, Jiang & Chuang, "Confident Learning: Estimating Uncertainty in
Dataset Labels", JAIR 2021 — the algorithm behind cleanlab) in numpy, without the
cleanlab dependency:

1. per class ``j`` a threshold ``t_j`` = the mean predicted probability of ``j`` over
   the examples *labelled* ``j`` — how confident the model typically is when the label
   is right, which adapts to classes the model is systematically unsure about;
2. each example is assigned to the class with the highest probability among the
   classes whose probability reaches their threshold (no class reaches → unassigned);
3. the *confident joint* ``C[given, suggested]`` counts those assignments; its
   off-diagonal cells are the suspected label issues, ranked by self-confidence (the
   probability the model gives to the given label) ascending, so the most blatant
   come first; the estimated noise rate is the off-diagonal count over ``n``.

Not done here (cleanlab does): calibrating ``C`` to the label counts and pruning by
the estimated noise matrix ("prune by noise rate"). The plain off-diagonal rule is the
paper's ``C_{ỹ,y*}`` method; it is enough for telling an operator which labels to
review. The probabilities must be *out of sample* (a held-out split or
cross-validation): on its own training data a model simply agrees with the labels.

The multi-label variant treats every tag as its own binary problem (has the tag / does
not) with the same rule, giving per tag the estimated *missing* labels (given 0,
confidently 1) and *extra* labels (given 1, confidently 0).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Probabilities equal to a threshold count as reaching it; float noise from averaging
# must not push the example that set a threshold (e.g. a one-example class) below it.
_TOLERANCE = 1e-9


@dataclass(frozen=True)
class LabelIssues:
    """Single-label confident-learning result.

    ``issues`` are example indices whose confident class differs from the given one,
    most suspicious first; ``suggested[i]`` is the confident class of example ``i``
    (``-1`` when no class reached its threshold). ``thresholds[j]`` is ``inf`` for a
    class no example is labelled with: there is no evidence of what "confident" means
    for it, so it is never suggested.
    """

    issues: np.ndarray  # (m,) int, ranked
    given: np.ndarray  # (n,) int
    suggested: np.ndarray  # (n,) int, -1 = unassigned
    self_confidence: np.ndarray  # (n,) float: probs[i, given[i]]
    thresholds: np.ndarray  # (k,) float
    confident_joint: np.ndarray  # (k, k) int, rows = given, columns = suggested

    @property
    def n_issues(self) -> int:
        """Number of suspected label issues (off-diagonal count of the confident joint)."""
        return int(self.issues.size)

    @property
    def noise_rate(self) -> float:
        """Estimated fraction of wrong labels: off-diagonal count / n."""
        n = self.given.size
        return self.n_issues / n if n else 0.0


@dataclass(frozen=True)
class MultiLabelIssues:
    """Multi-label confident-learning result: one binary problem per tag.

    ``issues`` are ``(doc, tag)`` pairs, most suspicious first; ``kind[m]`` is
    ``"missing"`` (the author did not give the tag, the model is confident it applies)
    or ``"extra"`` (given, but the model is confident it does not apply).
    ``confident_joint[j]`` is tag ``j``'s 2×2 joint, rows = given (0, 1), columns =
    suggested (0, 1).
    """

    issues: np.ndarray  # (m, 2) int: (doc, tag), ranked
    kind: tuple[str, ...]  # (m,) "missing" | "extra"
    self_confidence: np.ndarray  # (m,) float: probability of the given value
    n_missing: np.ndarray  # (k,) int per tag
    n_extra: np.ndarray  # (k,) int per tag
    thresholds: np.ndarray  # (k, 2) float: threshold of "absent", of "present"
    confident_joint: np.ndarray  # (k, 2, 2) int
    n_docs: int

    @property
    def n_issues(self) -> int:
        """Number of suspected (doc, tag) label issues."""
        return int(self.issues.shape[0])

    @property
    def noise_rate(self) -> float:
        """Estimated fraction of wrong (doc, tag) cells: issues / (n_docs × n_tags)."""
        cells = self.n_docs * self.n_missing.size
        return self.n_issues / cells if cells else 0.0


def _check_probs(probs: np.ndarray, n: int) -> np.ndarray:
    p = np.asarray(probs, dtype=float)
    if p.ndim != 2 or p.shape[0] != n:
        raise ValueError(f"probs must have shape ({n}, k), got {p.shape}")
    if not np.isfinite(p).all() or (p < 0).any():
        raise ValueError("probs must be finite and non-negative")
    return p


def _class_thresholds(given: np.ndarray, probs: np.ndarray) -> np.ndarray:
    """t_j = mean of probs[:, j] over the examples labelled j (inf if there are none)."""
    k = probs.shape[1]
    counts = np.bincount(given, minlength=k).astype(float)
    sums = np.zeros(k)
    np.add.at(sums, given, probs[np.arange(given.size), given])
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(counts > 0, sums / counts, np.inf)


def _confident_classes(probs: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Argmax over the classes reaching their threshold; -1 if none does."""
    reaching = probs >= thresholds - _TOLERANCE
    masked = np.where(reaching, probs, -np.inf)
    suggested = np.argmax(masked, axis=1)
    return np.where(reaching.any(axis=1), suggested, -1)


def find_label_issues(given: np.ndarray, probs: np.ndarray) -> LabelIssues:
    """Suspected label issues of single-label data (see the module docstring).

    ``given`` holds class codes in ``[0, k)``; ``probs`` is (n, k) out-of-sample
    predicted probabilities (rows need not sum to one, but columns must be on one
    scale: the rule compares classes by their probability).
    """
    y = np.asarray(given).ravel()
    if y.size and not np.issubdtype(y.dtype, np.integer):
        raise ValueError("given must hold integer class codes")
    y = y.astype(int)
    p = _check_probs(probs, y.size)
    k = p.shape[1]
    if y.size and (y.min() < 0 or y.max() >= k):
        raise ValueError(f"class codes must lie in [0, {k})")
    thresholds = _class_thresholds(y, p)
    suggested = _confident_classes(p, thresholds)
    assigned = suggested >= 0
    joint = np.zeros((k, k), dtype=int)
    np.add.at(joint, (y[assigned], suggested[assigned]), 1)
    self_confidence = p[np.arange(y.size), y] if y.size else np.zeros(0)
    off = np.flatnonzero(assigned & (suggested != y))
    # most suspicious first: lowest probability of the given label; ties by index
    ranked = off[np.argsort(self_confidence[off], kind="stable")]
    return LabelIssues(ranked, y, suggested, self_confidence, thresholds, joint)


def find_multilabel_issues(Y: np.ndarray, probs: np.ndarray) -> MultiLabelIssues:
    """Suspected missing / extra tags: confident learning per tag, as a binary problem.

    For tag ``j`` the two "classes" are absent (probability ``1 - p``) and present
    (``p``), with thresholds the mean of each over the documents given that value.
    ``probs`` must be per-tag probabilities in [0, 1] (one-vs-rest, not a softmax).
    """
    yt = np.asarray(Y)
    if yt.ndim != 2:
        raise ValueError(f"Y must be 2-D (n_docs, n_tags), got shape {yt.shape}")
    if not np.isin(yt, (0, 1)).all():
        raise ValueError("Y must contain only 0/1 or booleans")
    yt = yt.astype(bool)
    p = _check_probs(probs, yt.shape[0])
    if p.shape != yt.shape:
        raise ValueError(f"probs {p.shape} and Y {yt.shape} differ in shape")
    if (p > 1).any():
        raise ValueError("multi-label probs must lie in [0, 1]")
    n, k = yt.shape
    thresholds = np.full((k, 2), np.inf)
    joint = np.zeros((k, 2, 2), dtype=int)
    docs: list[np.ndarray] = []
    tags: list[np.ndarray] = []
    conf: list[np.ndarray] = []
    for j in range(k):
        given = yt[:, j].astype(int)
        binary = np.stack([1.0 - p[:, j], p[:, j]], axis=1)
        thresholds[j] = _class_thresholds(given, binary)
        suggested = _confident_classes(binary, thresholds[j])
        assigned = suggested >= 0
        np.add.at(joint[j], (given[assigned], suggested[assigned]), 1)
        off = np.flatnonzero(assigned & (suggested != given))
        docs.append(off)
        tags.append(np.full(off.size, j))
        conf.append(binary[off, given[off]])
    doc_idx = np.concatenate(docs) if docs else np.zeros(0, dtype=int)
    tag_idx = np.concatenate(tags) if tags else np.zeros(0, dtype=int)
    self_conf = np.concatenate(conf) if conf else np.zeros(0)
    order = np.lexsort((tag_idx, doc_idx, self_conf))  # by confidence, then doc, tag
    pairs = np.stack([doc_idx[order], tag_idx[order]], axis=1).astype(int).reshape(-1, 2)
    kind = tuple("extra" if yt[d, t] else "missing" for d, t in pairs)
    return MultiLabelIssues(
        issues=pairs,
        kind=kind,
        self_confidence=self_conf[order],
        n_missing=joint[:, 0, 1].copy(),
        n_extra=joint[:, 1, 0].copy(),
        thresholds=thresholds,
        confident_joint=joint,
        n_docs=n,
    )
