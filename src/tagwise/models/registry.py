"""Backend names → lazily imported model classes (one place that names each backend).

Heavy dependencies are imported only when a backend is asked for, so ``tagwise --help``
stays fast and a missing optional extra fails with a message that names it.
"""

from __future__ import annotations

import importlib
from typing import Any

from tagwise.errors import ConfigError, NotSupportedError
from tagwise.models.base import TagModel

BACKENDS: dict[str, tuple[str, str, str | None]] = {
    # name: (module, class, pip extra needed or None)
    "random": ("tagwise.models.baselines", "RandomModel", None),
    "prior": ("tagwise.models.baselines", "PriorModel", None),
    "rules": ("tagwise.models.baselines", "RulesModel", None),
    "tfidf-linear": ("tagwise.models.tfidf_linear", "TfidfLinearModel", None),
    "embedding": ("tagwise.models.embedding", "EmbeddingLinearModel", "embeddings"),
    "knn": ("tagwise.models.knn", "KnnModel", "embeddings"),
    "ensemble": ("tagwise.models.ensemble", "EnsembleModel", None),
    "vocab-match": ("tagwise.models.lexical", "VocabMatchModel", None),
}


def backend_class(name: str) -> type[TagModel]:
    """The class registered under ``name``; errors list the valid names."""
    try:
        module_name, class_name, extra = BACKENDS[name]
    except KeyError:
        raise ConfigError(f"unknown model backend {name!r}; valid: {sorted(BACKENDS)}") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        hint = f"; install it with: pip install 'tagwise[{extra}]'" if extra else ""
        raise NotSupportedError(f"backend {name!r} needs {exc.name}{hint}") from None
    return getattr(module, class_name)


def create_model(name: str, params: dict[str, Any] | None = None) -> TagModel:
    """Instantiate a backend with parameters (validated when it is fitted)."""
    return backend_class(name)(**(params or {}))
