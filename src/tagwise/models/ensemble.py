"""An ensemble that is just another backend: members by name, combined and calibrated.

Members are resolved from the registry by name (``{"backend", "params", "link"}`` each,
from config). Fitting runs a k-fold over the *training* rows to get out-of-fold (OOF)
member scores, fits the combiner on them, then refits every member on all training
rows. Because the combiner only ever sees OOF scores, the validation split stays
untouched for the decision policy's threshold.

Combiners:

* ``stack`` (default): per tag, a logistic regression on the members' scores for that
  tag (each through its ``link``: ``logit`` for probability-like scores, ``identity``
  for votes and rule matches). This is multi-input Platt scaling: it learns the member
  weights and calibrates in one step, so the output is a probability.
* ``mean``: a weighted mean of member scores, then per-tag ``platt`` or ``isotonic``
  calibration (or ``none``) fit on the OOF means.

Saved flat (each member's files prefixed ``member<i>.``) plus ``.npy`` arrays for the combiner.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tagwise.errors import ConfigError, IntegrityError
from tagwise.models.base import FitContext, TagModel, load_array, save_array
from tagwise.models.registry import backend_class, create_model

DEFAULT_MEMBERS: tuple[dict[str, Any], ...] = (
    {"backend": "tfidf-linear", "params": {}, "link": "logit"},
    {"backend": "embedding", "params": {}, "link": "logit"},
    {"backend": "knn", "params": {}, "link": "identity"},
    {"backend": "vocab-match", "params": {}, "link": "identity"},
)
COMBINERS = ("stack", "mean")
CALIBRATIONS = ("platt", "isotonic", "none")
LINKS = ("logit", "identity")
_EPS = 1e-4


def _link(scores: np.ndarray, link: str) -> np.ndarray:
    if link == "logit":
        p = np.clip(scores, _EPS, 1 - _EPS)
        return np.log(p / (1 - p))
    return np.asarray(scores, dtype=np.float64)


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -40, 40)))


def _digest(texts: list[str], Y: np.ndarray | None = None) -> str:
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    if Y is not None:
        h.update(np.ascontiguousarray(Y, dtype=np.int8).tobytes())
    return h.hexdigest()


def fit_logistic(F: np.ndarray, y: np.ndarray, *, C: float, seed: int) -> tuple[np.ndarray, float]:
    """Logistic regression of ``y`` on features ``F`` (n × m): (coef (m,), intercept)."""
    from sklearn.linear_model import LogisticRegression

    if y.min() == y.max():
        return np.zeros(F.shape[1]), (40.0 if y.max() else -40.0)
    clf = LogisticRegression(C=C, max_iter=2000, random_state=seed).fit(F, y)
    return clf.coef_[0].astype(np.float64), float(clf.intercept_[0])


def fit_isotonic(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Isotonic calibration map as (x thresholds, y values) for ``np.interp``."""
    from sklearn.isotonic import IsotonicRegression

    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(x, y)
    return np.asarray(iso.X_thresholds_, dtype=np.float64), np.asarray(
        iso.y_thresholds_, dtype=np.float64
    )


class EnsembleModel(TagModel):
    """Members from the registry, combined by a stacker fit on out-of-fold scores."""

    name = "ensemble"
    defaults: ClassVar[dict[str, Any]] = {
        "members": [dict(m) for m in DEFAULT_MEMBERS],
        "combiner": "stack",
        "weights": None,
        "calibration": "platt",
        "cv_folds": 5,
        "C": 1.0,
        "n_jobs": 2,
        "C_single": 0.1,
    }

    # ----------------------------------------------------------------- parameters

    def _validate_params(self) -> None:
        p = self.params
        members = p["members"]
        if not isinstance(members, list) or not members:
            raise ConfigError(f"{self.name}: members must be a non-empty list")
        for i, m in enumerate(members):
            if not isinstance(m, dict) or "backend" not in m:
                raise ConfigError(f"{self.name}: members[{i}] needs a 'backend'")
            unknown = set(m) - {"backend", "params", "link"}
            if unknown:
                raise ConfigError(
                    f"{self.name}: members[{i}] has unknown key(s) {sorted(unknown)}; "
                    "valid: ['backend', 'link', 'params']"
                )
            if m["backend"] == self.name:
                raise ConfigError(f"{self.name}: an ensemble cannot contain an ensemble")
            backend_class(m["backend"])  # raises, listing the valid names
            if m.get("link", "logit") not in LINKS:
                raise ConfigError(f"{self.name}: members[{i}].link must be one of {LINKS}")
        if p["combiner"] not in COMBINERS:
            raise ConfigError(f"{self.name}: combiner={p['combiner']!r}; valid: {COMBINERS}")
        if p["calibration"] not in CALIBRATIONS:
            raise ConfigError(
                f"{self.name}: calibration={p['calibration']!r}; valid: {CALIBRATIONS}"
            )
        if p["combiner"] == "stack" and p["calibration"] != "platt":
            raise ConfigError(
                f"{self.name}: the stack combiner is itself Platt-calibrated; "
                "use calibration='platt' or combiner='mean'"
            )
        w = p["weights"]
        if w is not None and (len(w) != len(members) or min(w) < 0 or sum(w) <= 0):
            raise ConfigError(
                f"{self.name}: weights must be {len(members)} non-negative numbers, not all 0"
            )
        if not isinstance(p["cv_folds"], int) or p["cv_folds"] < 2:
            raise ConfigError(f"{self.name}: cv_folds={p['cv_folds']!r} must be an integer ≥ 2")
        if not p["C"] > 0:
            raise ConfigError(f"{self.name}: C={p['C']} must be > 0")
        if not p["C_single"] > 0:
            raise ConfigError(f"{self.name}: C_single={p['C_single']} must be > 0")
        if not isinstance(p["n_jobs"], int) or p["n_jobs"] < 1:
            raise ConfigError(f"{self.name}: n_jobs={p['n_jobs']!r} must be an integer ≥ 1")

    def set_member_cache(self, cache: dict | None) -> EnsembleModel:
        """Share fitted members between ensembles (tuning refits the same folds often)."""
        self._cache = cache
        return self

    # ----------------------------------------------------------------------- fit

    def _specs(self) -> list[dict[str, Any]]:
        return [
            {
                "backend": m["backend"],
                "params": dict(m.get("params") or {}),
                "link": m.get("link", "logit"),
            }
            for m in self.params["members"]
        ]

    def _fit_member(
        self, spec: dict, texts: list[str], Y: np.ndarray, context: FitContext
    ) -> TagModel:
        cache = getattr(self, "_cache", None)
        key = None
        if cache is not None:
            key = (
                json.dumps([spec["backend"], spec["params"]], sort_keys=True),
                _digest(texts, Y),
                context.seed,
            )
            if key in cache:
                return cache[key]
        model = create_model(spec["backend"], spec["params"]).fit(texts, Y, context)
        if cache is not None:
            cache[key] = model
        return model

    def _features(self, member_scores: list[np.ndarray]) -> np.ndarray:
        """(n × n_labels × n_members) linked member scores."""
        specs = self._specs()
        return np.stack(
            [_link(s, spec["link"]) for s, spec in zip(member_scores, specs, strict=True)], axis=2
        )

    def _fit(self, texts: list[str], Y: np.ndarray, context: FitContext) -> None:
        from concurrent.futures import ThreadPoolExecutor

        from tagwise.split import kfold_indices

        specs = self._specs()
        n, n_labels = Y.shape
        self._warm_encoders(specs, texts)
        folds = kfold_indices(Y, n_splits=min(self.params["cv_folds"], n), seed=context.seed)

        def fold_scores(fold: tuple) -> list[np.ndarray]:
            tr, va = fold
            tr_texts, va_texts = [texts[i] for i in tr], [texts[i] for i in va]
            return [
                self._fit_member(spec, tr_texts, Y[tr], context).predict_proba(va_texts)
                for spec in specs
            ]

        # Threads, not processes: liblinear and BLAS release the GIL, embeddings are cached.
        with ThreadPoolExecutor(max_workers=int(self.params["n_jobs"])) as pool:
            results = list(pool.map(fold_scores, folds))
        oof = [np.zeros((n, n_labels)) for _ in specs]
        for (_, va), scores in zip(folds, results, strict=True):
            for m, s in enumerate(scores):
                oof[m][va] = s
        self.softmax_ = context.mode == "single" and self.params["combiner"] == "stack"
        if self.softmax_:
            self._fit_softmax_stacker(oof, Y, context.seed)
        else:
            self._fit_combiner(oof, Y, context.seed)
        with ThreadPoolExecutor(max_workers=int(self.params["n_jobs"])) as pool:
            self.members_ = list(
                pool.map(lambda spec: self._fit_member(spec, texts, Y, context), specs)
            )

    @staticmethod
    def _warm_encoders(specs: list[dict], texts: list[str]) -> None:
        """Encode every text once up front, so parallel folds only read the cache."""
        from tagwise.models.embedding import EncoderMixin

        for spec in specs:
            member = create_model(spec["backend"], spec["params"])
            if isinstance(member, EncoderMixin):
                member._validate_params()
                member.embed(texts, fitting=True)

    def _weights(self) -> np.ndarray:
        w = self.params["weights"] or [1.0] * len(self.params["members"])
        w = np.asarray(w, dtype=np.float64)
        return w / w.sum()

    def _fit_softmax_stacker(self, oof: list[np.ndarray], Y: np.ndarray, seed: int) -> None:
        """Single-label data: one multinomial regression on every member's class scores."""
        from tagwise.models.embedding import fit_softmax_head

        F = self._features(oof).reshape(Y.shape[0], -1)
        self.coef_, self.intercept_ = fit_softmax_head(
            F, Y, C=float(self.params["C_single"]), seed=seed
        )

    def _fit_combiner(self, oof: list[np.ndarray], Y: np.ndarray, seed: int) -> None:
        n_labels = Y.shape[1]
        C = float(self.params["C"])
        if self.params["combiner"] == "stack":
            F = self._features(oof)
            coef = np.zeros((n_labels, len(oof)))
            intercept = np.zeros(n_labels)
            for j in range(n_labels):
                coef[j], intercept[j] = fit_logistic(F[:, j, :], Y[:, j], C=C, seed=seed)
            self.coef_, self.intercept_ = coef, intercept
            return
        mean = np.tensordot(np.stack(oof, axis=2), self._weights(), axes=([2], [0]))
        calibration = self.params["calibration"]
        if calibration == "platt":
            coef = np.zeros((n_labels, 1))
            intercept = np.zeros(n_labels)
            for j in range(n_labels):
                coef[j], intercept[j] = fit_logistic(
                    _link(mean[:, j : j + 1], "logit"), Y[:, j], C=C, seed=seed
                )
            self.coef_, self.intercept_ = coef, intercept
        elif calibration == "isotonic":
            maps = [fit_isotonic(mean[:, j], Y[:, j]) for j in range(n_labels)]
            width = max(len(x) for x, _ in maps)
            self.iso_x_ = np.full((n_labels, width), np.nan)
            self.iso_y_ = np.full((n_labels, width), np.nan)
            for j, (x, y) in enumerate(maps):
                self.iso_x_[j, : len(x)], self.iso_y_[j, : len(y)] = x, y

    # ------------------------------------------------------------------- predict

    def member_scores(self, texts: list[str]) -> list[np.ndarray]:
        """Each member's (uncalibrated) scores, in member order."""
        self.check_fitted()
        return [m.predict_proba(texts) for m in self.members_]

    def combine(self, member_scores: list[np.ndarray]) -> np.ndarray:
        """Calibrated ensemble scores from member scores."""
        if getattr(self, "softmax_", False):
            F = self._features(member_scores).reshape(member_scores[0].shape[0], -1)
            z = F @ self.coef_.astype(np.float64) + self.intercept_
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        if self.params["combiner"] == "stack":
            F = self._features(member_scores)
            return _sigmoid(np.einsum("nlm,lm->nl", F, self.coef_) + self.intercept_)
        mean = np.tensordot(np.stack(member_scores, axis=2), self._weights(), axes=([2], [0]))
        calibration = self.params["calibration"]
        if calibration == "platt":
            return _sigmoid(_link(mean, "logit") * self.coef_[:, 0] + self.intercept_)
        if calibration == "isotonic":
            out = np.empty_like(mean)
            for j in range(mean.shape[1]):
                ok = ~np.isnan(self.iso_x_[j])
                out[:, j] = np.interp(mean[:, j], self.iso_x_[j, ok], self.iso_y_[j, ok])
            return out
        return np.clip(mean, 0.0, 1.0)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return self.combine(self.member_scores(texts))

    # ---------------------------------------------------------------- save/load

    def _save(self, directory: Path) -> None:
        # Flat layout ("member0.params.json", ...): a model directory holds only files.
        for i, member in enumerate(self.members_):
            with tempfile.TemporaryDirectory() as tmp:
                member.save(Path(tmp))
                for path in sorted(Path(tmp).iterdir()):
                    if not path.is_file():
                        raise IntegrityError(f"member {i} wrote a sub-directory {path.name}")
                    shutil.move(str(path), directory / f"member{i}.{path.name}")
        (directory / "combiner.json").write_text(
            json.dumps({"softmax": bool(getattr(self, "softmax_", False))})
        )
        for attr in ("coef_", "intercept_", "iso_x_", "iso_y_"):
            if hasattr(self, attr):
                save_array(directory / f"{attr.rstrip('_')}.npy", getattr(self, attr))

    def _load(self, directory: Path) -> None:
        members = []
        for i, spec in enumerate(self._specs()):
            prefix = f"member{i}."
            files = sorted(directory.glob(f"{prefix}*"))
            if not any(f.name == f"{prefix}params.json" for f in files):
                raise IntegrityError(f"{directory}: member {i} is missing")
            saved = json.loads((directory / f"{prefix}params.json").read_text())["name"]
            if saved != spec["backend"]:
                raise IntegrityError(
                    f"{directory}: member {i} is {saved!r}, the params say {spec['backend']!r}"
                )
            with tempfile.TemporaryDirectory() as tmp:
                for f in files:
                    target = Path(tmp) / f.name[len(prefix) :]
                    try:
                        target.symlink_to(f.resolve())
                    except OSError:
                        shutil.copyfile(f, target)
                members.append(backend_class(spec["backend"]).load(Path(tmp)))
        self.members_ = members
        self.softmax_ = bool(json.loads((directory / "combiner.json").read_text())["softmax"])
        for attr in ("coef_", "intercept_", "iso_x_", "iso_y_"):
            path = directory / f"{attr.rstrip('_')}.npy"
            if path.is_file():
                setattr(self, attr, load_array(path))
