"""Resolve a model reference (a directory or ``models:/tagwise@alias``) to a bundle."""

from __future__ import annotations

from pathlib import Path

from tagwise.bundle import ModelBundle
from tagwise.config import Settings
from tagwise.errors import UnknownModelError

DEFAULT_MODEL = "models:/tagwise@champion"


def load_model(ref: str, settings: Settings) -> tuple[ModelBundle, str]:
    """Load a bundle; returns it with a version label (registry version or the directory)."""
    if ref.startswith("models:/"):
        from tagwise.tracking import Tracker

        path, version = Tracker.from_settings(settings).resolve(ref)
        bundle = ModelBundle.load(path)
        bundle.info.setdefault("registry_version", version)
        return bundle, str(version)
    path = Path(ref)
    if not path.exists():
        raise UnknownModelError(f"{ref}: no such model directory (or use {DEFAULT_MODEL})")
    return ModelBundle.load(path), path.name


def with_vocabulary_file(bundle: ModelBundle, tags: Path | str | None) -> ModelBundle:
    """``bundle`` serving the vocabulary in ``tags`` (a newer ``tags.json``), if given.

    Tags the model has never seen become long-tail suggestions (zero-shot); see
    :meth:`ModelBundle.with_vocabulary`. Without ``tags`` the bundle's own is kept.
    """
    if tags is None:
        return bundle
    from tagwise.taxonomy import Taxonomy

    return bundle.with_vocabulary(Taxonomy.from_file(tags))


def served_identity(
    ref: str, bundle: ModelBundle, version: str, settings: Settings
) -> tuple[str, str]:
    """(name, version) the server reports and logs for a model loaded from ``ref``.

    A registry model is the registered name and its version number; a directory is its
    backend, versioned by the directory name and config hash (two trainings into the
    same folder differ). ``tagwise monitor`` uses the same rule to find the serving
    model's predictions in the log.
    """
    if ref.startswith("models:/"):
        return settings.tracking.registered_model, version
    config_hash = str(bundle.info.get("config_hash", ""))[:8]
    return bundle.model.name, f"{version}@{config_hash}" if config_hash else version
