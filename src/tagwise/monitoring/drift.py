"""Drift statistics: pure functions comparing a window of live traffic with the reference.

Which tests, and why:

* **text length** — two-sample Kolmogorov–Smirnov on word counts (scipy);
* **out-of-vocabulary rate** — Mann–Whitney U on per-project OOV rates against held-out
  reference texts (in-sample OOV would be zero); it alerts only when significant *and*
  the mean rate rose by at least ``oov_increase`` (new words arrive every week: a tiny
  but significant rise is not worth a page);
* **content (embedding) drift** — a domain classifier: TF-IDF + logistic regression
  tries to tell window texts from reference texts; cross-validated ROC AUC near 0.5
  means "indistinguishable", well above means the topics moved;
* **prediction drift** — chi-squared on suggested-tag counts, and KS on the top
  suggestion score (its population stability index is reported too, but PSI's usual
  0.25 rule fires on small windows by chance, so it does not alert);
* **label drift** — chi-squared on the tags authors finally chose;
* **performance** — precision / recall / F1 of suggestions against the authors' tags;
  decay alerts when F1 falls more than ``f1_drop`` below the reference F1 *and* a
  bootstrap over the window's projects says the fall is not chance.

Every test has a threshold; a window *alerts* when any test fires. The per-test
significance is Bonferroni-corrected (``family_alpha`` / number of p-value tests) so the
false-alarm rate on windows drawn from the reference stays near ``family_alpha`` —
`tagwise simulate` measures it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """Tokens used for length and vocabulary statistics."""
    return _WORD.findall(text.lower())


@dataclass(frozen=True)
class DriftTest:
    """One statistic on one window, with its threshold and verdict."""

    name: str
    statistic: float
    threshold: float
    drifted: bool
    p_value: float | None = None
    detail: str = ""


@dataclass(frozen=True)
class Thresholds:
    """Decision thresholds; defaults chosen so reference windows rarely alert."""

    family_alpha: float = 0.05
    domain_auc: float = 0.70
    f1_drop: float = 0.05
    oov_increase: float = 0.02
    min_window: int = 20


@dataclass(frozen=True)
class Reference:
    """What the monitor compares against: statistics of the training-time data."""

    lengths: np.ndarray
    vocabulary: frozenset[str]
    oov_rates: np.ndarray
    texts: tuple[str, ...]
    suggested_counts: dict[str, int]
    top_scores: np.ndarray
    label_counts: dict[str, int]
    n: int
    performance: dict[str, float] = field(default_factory=dict)
    feedback_counts: np.ndarray = field(default_factory=lambda: np.zeros((0, 3)))


def build_reference(
    train_texts: Sequence[str],
    texts: Sequence[str],
    suggested: Sequence[Sequence[str]],
    top_scores: Sequence[float],
    labels: Sequence[Sequence[str]],
    *,
    max_texts: int = 2000,
) -> Reference:
    """Reference statistics of the training period.

    ``train_texts`` give the vocabulary the model knows; ``texts`` (with the model's
    ``suggested`` tags, ``top_scores`` and the authors' ``labels``) must be *held out*
    from training — e.g. the validation split — because a model's scores on its own
    training texts are over-confident and would make every live window look drifted.
    """
    vocabulary = frozenset(w for t in train_texts for w in words(t))
    return Reference(
        lengths=np.array([len(words(t)) for t in texts], dtype=float),
        vocabulary=vocabulary,
        oov_rates=np.array([oov_rate(vocabulary, t) for t in texts]),
        texts=tuple(texts[:max_texts]),
        suggested_counts=dict(Counter(t for row in suggested for t in row)),
        top_scores=np.asarray(top_scores, dtype=float),
        label_counts=dict(Counter(t for row in labels for t in row)),
        n=len(texts),
        performance=suggestion_quality(suggested, labels),
        feedback_counts=_counts(suggested, labels),
    )


def oov_rate(vocabulary: frozenset[str], text: str) -> float:
    """Share of a text's tokens never seen in the reference vocabulary."""
    toks = words(text)
    return sum(t not in vocabulary for t in toks) / len(toks) if toks else 0.0


def psi(reference: np.ndarray, window: np.ndarray, bins: int = 10) -> float:
    """Population stability index over reference-quantile bins (0 = identical)."""
    edges = np.unique(np.quantile(reference, np.linspace(0, 1, bins + 1)))
    if len(edges) < 3:
        return 0.0
    edges[0], edges[-1] = -np.inf, np.inf
    ref = np.histogram(reference, edges)[0] / len(reference)
    win = np.histogram(window, edges)[0] / max(len(window), 1)
    ref, win = np.clip(ref, 1e-4, None), np.clip(win, 1e-4, None)
    return float(np.sum((win - ref) * np.log(win / ref)))


def chi2_counts(
    reference: dict[str, int], window: dict[str, int], min_expected: float = 5.0
) -> tuple[float, float]:
    """Chi-squared test of homogeneity between two tag-count tables (rare tags pooled)."""
    from scipy.stats import chi2_contingency

    tags = sorted(set(reference) | set(window))
    ref = np.array([reference.get(t, 0) for t in tags], dtype=float)
    win = np.array([window.get(t, 0) for t in tags], dtype=float)
    if ref.sum() == 0 or win.sum() == 0:
        return 0.0, 1.0
    expected = (ref + win) * win.sum() / (ref.sum() + win.sum())
    common = expected >= min_expected
    table = np.vstack(
        [
            np.append(ref[common], ref[~common].sum()),
            np.append(win[common], win[~common].sum()),
        ]
    )
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return 0.0, 1.0
    stat, p, _, _ = chi2_contingency(table)
    return float(stat), float(p)


def domain_auc(
    reference_texts: Sequence[str], window_texts: Sequence[str], *, seed: int = 42
) -> float:
    """Cross-validated ROC AUC of a classifier separating window from reference texts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    rng = np.random.default_rng(seed)
    n = min(len(reference_texts), max(len(window_texts) * 3, 50))
    ref = [reference_texts[i] for i in rng.choice(len(reference_texts), n, replace=False)]
    texts = ref + list(window_texts)
    y = np.r_[np.zeros(len(ref)), np.ones(len(window_texts))]
    X = TfidfVectorizer(min_df=2, sublinear_tf=True).fit_transform(texts)
    folds = StratifiedKFold(
        n_splits=min(5, int(y.sum()), len(ref)), shuffle=True, random_state=seed
    )
    proba = cross_val_predict(
        LogisticRegression(C=1.0, max_iter=1000), X, y, cv=folds, method="predict_proba"
    )[:, 1]
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, proba))


@dataclass(frozen=True)
class Window:
    """Live traffic in one time window (texts, what was suggested, what authors chose)."""

    label: str
    texts: tuple[str, ...]
    suggested: tuple[tuple[str, ...], ...]
    top_scores: tuple[float, ...]
    # None when no feedback yet; a None *entry* = that project has no feedback (yet):
    # labels arrive late, so performance uses only the projects that have them.
    final: tuple[tuple[str, ...] | None, ...] | None = None

    def labelled(self) -> tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]:
        """``(suggested, final)`` of the projects that have feedback."""
        if self.final is None:
            return ()
        return tuple(
            (s, f) for s, f in zip(self.suggested, self.final, strict=True) if f is not None
        )


@dataclass(frozen=True)
class WindowReport:
    """All drift tests and the performance of one window."""

    label: str
    n: int
    tests: tuple[DriftTest, ...]
    performance: dict[str, float] = field(default_factory=dict)

    @property
    def alert(self) -> bool:
        """True when any drift test fired."""
        return any(t.drifted for t in self.tests)

    def fired(self) -> list[str]:
        """Names of the tests that fired."""
        return [t.name for t in self.tests if t.drifted]


def suggestion_quality(
    suggested: Sequence[Sequence[str]], final: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Micro precision / recall / F1 of suggestions against the author's final tags."""
    tp = sum(len(set(s) & set(f)) for s, f in zip(suggested, final, strict=True))
    n_s = sum(len(set(s)) for s in suggested)
    n_f = sum(len(set(f)) for f in final)
    p = tp / n_s if n_s else 0.0
    r = tp / n_f if n_f else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0}


def _counts(suggested: Sequence[Sequence[str]], final: Sequence[Sequence[str]]) -> np.ndarray:
    """Per project: (true positives, suggested, final) — enough to bootstrap micro-F1."""
    return np.array(
        [
            (len(set(s) & set(f)), len(set(s)), len(set(f)))
            for s, f in zip(suggested, final, strict=True)
        ],
        dtype=float,
    ).reshape(-1, 3)


def _boot_f1(counts: np.ndarray, rng: np.random.Generator, n_boot: int) -> np.ndarray:
    idx = rng.integers(0, len(counts), size=(n_boot, len(counts)))
    sums = counts[idx].sum(axis=1)
    denom = sums[:, 1] + sums[:, 2]
    return np.divide(2 * sums[:, 0], denom, out=np.zeros(n_boot), where=denom > 0)


def _p_not_below(
    reference: np.ndarray, window: np.ndarray, *, seed: int, n_boot: int = 500
) -> float:
    """Two-sample bootstrap p-value that the window's F1 is not below the reference's.

    Both samples are resampled: the reference is finite too, and ignoring its noise
    made reference-only windows alert about twice as often as ``alpha``.
    """
    rng = np.random.default_rng(seed)
    diff = _boot_f1(window, rng, n_boot) - _boot_f1(reference, rng, n_boot)
    return float((diff >= 0).mean())


def check_window(
    reference: Reference, window: Window, thresholds: Thresholds = Thresholds(), *, seed: int = 42
) -> WindowReport:
    """Run every drift test on one window."""
    from scipy.stats import ks_2samp, mannwhitneyu

    pairs = window.labelled()
    with_labels = len(pairs) >= thresholds.min_window
    n_p_tests = 4 + 2 * with_labels  # 2 KS, MW, chi2 (+ label, F1)
    alpha = thresholds.family_alpha / n_p_tests
    lengths = np.array([len(words(t)) for t in window.texts], dtype=float)
    tests: list[DriftTest] = []
    ks = ks_2samp(reference.lengths, lengths)
    tests.append(
        DriftTest(
            "text_length_ks",
            float(ks.statistic),
            alpha,
            ks.pvalue < alpha,
            float(ks.pvalue),
            f"median {np.median(lengths):.0f} words vs {np.median(reference.lengths):.0f}",
        )
    )
    oov = np.array([oov_rate(reference.vocabulary, t) for t in window.texts])
    mw = mannwhitneyu(oov, reference.oov_rates, alternative="greater")
    tests.append(
        DriftTest(
            "oov_rate_mannwhitney",
            float(oov.mean()),
            alpha,
            bool(mw.pvalue < alpha)
            and oov.mean() - reference.oov_rates.mean() >= thresholds.oov_increase,
            float(mw.pvalue),
            f"mean OOV {oov.mean():.3f} vs reference {reference.oov_rates.mean():.3f}",
        )
    )
    auc = domain_auc(reference.texts, window.texts, seed=seed)
    tests.append(
        DriftTest(
            "content_domain_auc",
            auc,
            thresholds.domain_auc,
            auc >= thresholds.domain_auc,
            None,
            "AUC of telling window texts from training texts",
        )
    )
    counts = dict(Counter(t for row in window.suggested for t in row))
    stat, p = chi2_counts(reference.suggested_counts, counts)
    tests.append(DriftTest("suggested_tags_chi2", stat, alpha, p < alpha, p))
    window_scores = np.asarray(window.top_scores, dtype=float)
    ks_scores = ks_2samp(reference.top_scores, window_scores)
    tests.append(
        DriftTest(
            "top_score_ks",
            float(ks_scores.statistic),
            alpha,
            ks_scores.pvalue < alpha,
            float(ks_scores.pvalue),
            f"PSI {psi(reference.top_scores, window_scores):.3f}",
        )
    )
    performance: dict[str, float] = {}
    if with_labels:
        suggested = [s for s, _ in pairs]
        final = [f for _, f in pairs]
        stat, p = chi2_counts(
            reference.label_counts, dict(Counter(t for row in final for t in row))
        )
        tests.append(DriftTest("label_chi2", stat, alpha, p < alpha, p))
        performance = suggestion_quality(suggested, final)
        performance["n_labelled"] = float(len(pairs))
        ref_f1 = reference.performance.get("f1", 0.0)
        drop = ref_f1 - performance["f1"]
        p_drop = _p_not_below(reference.feedback_counts, _counts(suggested, final), seed=seed)
        tests.append(
            DriftTest(
                "performance_f1_drop",
                drop,
                thresholds.f1_drop,
                drop > thresholds.f1_drop and p_drop < alpha,
                p_drop,
                f"F1 {performance['f1']:.3f} vs reference {ref_f1:.3f}",
            )
        )
    return WindowReport(window.label, len(window.texts), tuple(tests), performance)


def reference_to_dict(ref: Reference) -> dict:
    """JSON form, saved as ``reference.json`` in the model bundle."""
    return {
        "lengths": ref.lengths.tolist(),
        "vocabulary": sorted(ref.vocabulary),
        "oov_rates": ref.oov_rates.round(5).tolist(),
        "texts": list(ref.texts),
        "suggested_counts": ref.suggested_counts,
        "top_scores": ref.top_scores.round(6).tolist(),
        "label_counts": ref.label_counts,
        "n": ref.n,
        "performance": ref.performance,
        "feedback_counts": ref.feedback_counts.astype(int).tolist(),
    }


def reference_from_dict(d: dict) -> Reference:
    """Inverse of :func:`reference_to_dict`."""
    return Reference(
        lengths=np.asarray(d["lengths"], dtype=float),
        vocabulary=frozenset(d["vocabulary"]),
        oov_rates=np.asarray(d["oov_rates"], dtype=float),
        texts=tuple(d["texts"]),
        suggested_counts={k: int(v) for k, v in d["suggested_counts"].items()},
        top_scores=np.asarray(d["top_scores"], dtype=float),
        label_counts={k: int(v) for k, v in d["label_counts"].items()},
        n=int(d["n"]),
        performance={k: float(v) for k, v in d["performance"].items()},
        feedback_counts=np.asarray(d["feedback_counts"], dtype=float).reshape(-1, 3),
    )
