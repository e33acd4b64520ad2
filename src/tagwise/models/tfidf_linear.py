"""TF-IDF (word + character n-grams) with one logistic regression per label.

Fitting uses scikit-learn's liblinear solver label by label; prediction folds all labels
into one sparse × dense product plus a sigmoid. The features of a text to predict are
computed by a short loop over the fitted analyzers, vocabularies and idf weights (equal
to ``vectorizer_.transform``, without its per-call validation, which costs about a
millisecond per suggestion) into one CSR matrix per call, so a single suggestion stays a
fraction of a millisecond and a batch is one sparse product.
The vectorizers are saved as JSON (parameters and vocabulary) plus ``.npy`` idf weights:
loading rebuilds them and never unpickles.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from scipy.sparse import csr_matrix

from tagwise.errors import ConfigError, IntegrityError
from tagwise.models.base import FitContext, TagModel, load_array, save_array
from tagwise.models.heads import fit_linear_heads


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


class TfidfLinearModel(TagModel):
    """One-vs-rest logistic regression on a union of word and char TF-IDF features."""

    name = "tfidf-linear"
    defaults: ClassVar[dict[str, Any]] = {
        "word_ngrams": [1, 2],
        "char_ngrams": [2, 5],
        "min_df": 2,
        "max_features": 200_000,
        "C": 10.0,
        "class_weight": "balanced",
        "sublinear_tf": True,
    }

    def _validate_params(self) -> None:
        p = self.params
        for key in ("word_ngrams", "char_ngrams"):
            lo, hi = p[key]
            if not 1 <= lo <= hi <= 8:
                raise ConfigError(f"{self.name}: {key}={p[key]} must be [lo, hi], 1 ≤ lo ≤ hi ≤ 8")
        if p["C"] <= 0:
            raise ConfigError(f"{self.name}: C={p['C']} must be > 0")
        if p["class_weight"] not in (None, "balanced"):
            raise ConfigError(f"{self.name}: class_weight must be null or 'balanced'")

    def _vectorizer(self):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        p = self.params
        common = {
            "min_df": p["min_df"],
            "sublinear_tf": p["sublinear_tf"],
            "dtype": np.float32,
            "max_features": p["max_features"],
        }
        return FeatureUnion(
            [
                ("word", TfidfVectorizer(ngram_range=tuple(p["word_ngrams"]), **common)),
                (
                    "char",
                    TfidfVectorizer(
                        analyzer="char_wb", ngram_range=tuple(p["char_ngrams"]), **common
                    ),
                ),
            ]
        )

    def _fit(self, texts: list[str], Y: np.ndarray, context: FitContext) -> None:
        self.vectorizer_ = self._vectorizer()
        X = self.vectorizer_.fit_transform(texts)
        self._parts = _compile(self.vectorizer_)
        self.coef_, self.intercept_ = fit_linear_heads(  # coef_: (n_features, n_labels)
            X,
            Y,
            C=self.params["C"],
            class_weight=self.params["class_weight"],
            seed=context.seed,
            solver="liblinear",
            max_iter=100,  # scikit-learn's default, what this backend has always used
        )

    def decision_function(self, texts: list[str]) -> np.ndarray:
        """Raw margins, before the sigmoid (used by calibration and ensembles)."""
        parts = getattr(self, "_parts", None)
        if parts is None:  # fitted before the parts existed (an unpickled model)
            parts = self._parts = _compile(self.vectorizer_)
        if not parts:  # vectorizer options the short loop does not implement
            X = self.vectorizer_.transform(texts)
            return np.asarray(X @ self.coef_, dtype=np.float64) + self.intercept_
        # One CSR matrix for the batch, one sparse × dense product: a row's margins are
        # computed the same way whatever else is in the batch (batch-invariant), and a
        # batch of thousands costs one product instead of one small product per text.
        if not texts:
            return np.zeros((0, self.coef_.shape[1])) + self.intercept_
        indptr, cols, vals = [0], [], []
        for text in texts:
            for part in parts:
                c, v = part.features(text)
                cols.append(c)
                vals.append(v)
                indptr.append(indptr[-1] + len(c))
        X = csr_matrix(
            (np.concatenate(vals), np.concatenate(cols), np.asarray(indptr[:: len(parts)])),
            shape=(len(texts), self.coef_.shape[0]),
        )
        return np.asarray(X @ self.coef_, dtype=np.float64) + self.intercept_

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return _sigmoid(self.decision_function(texts))

    def _save(self, directory: Path) -> None:
        parts = []
        for name, vec in self.vectorizer_.transformer_list:
            save_array(directory / f"idf_{name}.npy", vec.idf_)
            parts.append(
                {
                    "name": name,
                    "params": _json_params(vec),
                    "vocabulary": {t: int(i) for t, i in vec.vocabulary_.items()},
                }
            )
        (directory / "vectorizer.json").write_text(json.dumps(parts, ensure_ascii=False))
        save_array(directory / "coef.npy", self.coef_)
        save_array(directory / "intercept.npy", self.intercept_)

    def _load(self, directory: Path) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.pipeline import FeatureUnion

        path = directory / "vectorizer.json"
        try:
            parts = json.loads(path.read_text(encoding="utf-8"))
            transformers = []
            for part in parts:
                unsafe = sorted(set(part["params"]) - set(_SAFE_PARAMS))
                if unsafe:
                    raise IntegrityError(f"{path}: refusing vectorizer parameters {unsafe}")
                params = {
                    **part["params"],
                    "dtype": np.dtype(part["params"]["dtype"]),
                    "ngram_range": tuple(part["params"]["ngram_range"]),
                }
                vec = TfidfVectorizer(**params)
                vec.vocabulary_ = part["vocabulary"]
                vec.idf_ = load_array(directory / f"idf_{part['name']}.npy")
                transformers.append((part["name"], vec))
        except (KeyError, TypeError, ValueError) as exc:
            raise IntegrityError(f"{path}: not a valid vectorizer description ({exc})") from None
        self.vectorizer_ = FeatureUnion(transformers)
        self._parts = _compile(self.vectorizer_)
        self.coef_ = load_array(directory / "coef.npy")
        self.intercept_ = load_array(directory / "intercept.npy")


class _Part:
    """One fitted TfidfVectorizer of the union, as plain lookups (see :func:`_compile`)."""

    def __init__(self, vec, offset: int) -> None:
        self.analyzer = vec.build_analyzer()
        self.vocabulary = vec.vocabulary_
        self.offset = offset
        self.binary, self.sublinear = bool(vec.binary), bool(vec.sublinear_tf)
        self.idf = np.asarray(vec.idf_, dtype=vec.dtype) if vec.use_idf else None
        self.normalize = vec.norm == "l2"
        self.dtype = vec.dtype

    def features(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        """Union columns and TF-IDF values of one text, as ``transform`` computes them."""
        vocabulary = self.vocabulary
        counts = Counter(j for j in map(vocabulary.get, self.analyzer(text)) if j is not None)
        cols = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        vals = np.fromiter(counts.values(), dtype=self.dtype, count=len(counts))
        if self.binary:
            vals[:] = 1
        elif self.sublinear:
            vals = np.log(vals) + 1
        if self.idf is not None:
            vals = vals * self.idf[cols]
        if self.normalize and len(vals):
            vals = vals / np.sqrt(vals @ vals)
        return cols + self.offset, vals


def _compile(union) -> list[_Part]:
    """The union's vectorizers as :class:`_Part` lookups, or ``[]`` if one has options
    the short loop does not reproduce (then ``transform`` is used)."""
    parts, offset = [], 0
    for _, vec in union.transformer_list:
        if vec.norm not in ("l2", None):
            return []
        parts.append(_Part(vec, offset))
        offset += len(vec.vocabulary_)
    return parts


_SAFE_PARAMS = (
    "analyzer",
    "binary",
    "dtype",
    "lowercase",
    "max_df",
    "max_features",
    "min_df",
    "ngram_range",
    "norm",
    "smooth_idf",
    "sublinear_tf",
    "token_pattern",
    "use_idf",
)


def _json_params(vec) -> dict:
    """The vectorizer parameters as plain JSON (no callables: nothing to execute on load)."""
    params = vec.get_params()
    out = {k: params[k] for k in _SAFE_PARAMS}
    out["dtype"] = np.dtype(out["dtype"]).name
    out["ngram_range"] = list(out["ngram_range"])
    return out
