"""Per-label logistic-regression heads, shared by the TF-IDF and embedding backends.

One binary logistic regression per label column; a label absent (or present
everywhere) in a training fold gets a zero weight vector and a saturated intercept, so
cross-validation folds never fail on rare labels.
"""

from __future__ import annotations

import numpy as np


def fit_linear_heads(
    X,
    Y: np.ndarray,
    *,
    C: float,
    class_weight: str | None,
    seed: int,
    solver: str = "lbfgs",
    max_iter: int = 2000,
) -> tuple[np.ndarray, np.ndarray]:
    """One logistic regression per label column: (n_features × n_labels) coef, intercepts.

    ``X`` may be dense or sparse; ``solver="liblinear"`` suits sparse TF-IDF features.
    """
    from sklearn.linear_model import LogisticRegression

    coefs, intercepts = [], []
    for j in range(Y.shape[1]):
        y = Y[:, j]
        if y.min() == y.max():  # a label absent (or everywhere) in this fold
            coefs.append(np.zeros(X.shape[1]))
            intercepts.append(40.0 if y.max() else -40.0)
            continue
        clf = LogisticRegression(
            C=C, class_weight=class_weight, solver=solver, max_iter=max_iter, random_state=seed
        )
        clf.fit(X, y)
        coefs.append(clf.coef_[0])
        intercepts.append(float(clf.intercept_[0]))
    return np.asarray(coefs, dtype=np.float32).T.copy(), np.asarray(intercepts, dtype=np.float32)
