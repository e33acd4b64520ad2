"""The only module that imports MLflow: runs, metrics, artifacts, registry and aliases.

Everything else talks to :class:`Tracker`, whose URIs come from :class:`Settings`, so a
team can point tagwise at a shared tracking server without touching code. MLflow is
imported lazily (it costs about a second).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tagwise.errors import IntegrityError, UnknownModelError

log = logging.getLogger(__name__)

CHAMPION = "champion"
CHALLENGER = "challenger"


@dataclass(frozen=True)
class ModelVersion:
    """A registered model version as the CLI and API show it."""

    version: int
    run_id: str | None
    aliases: tuple[str, ...]
    created: int
    metrics: dict[str, float]
    tags: dict[str, str]


def git_commit(cwd: Path | None = None) -> str:
    """The current commit (with ``-dirty`` when the tree has changes), or ``unknown``."""
    try:
        sha = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            cwd=cwd,
            timeout=5,
        ).stdout.strip()
        return f"{sha}-dirty" if dirty else sha
    except (OSError, subprocess.SubprocessError):
        return "unknown"


class Tracker:
    """MLflow behind a small interface: one experiment, one registered model name."""

    def __init__(
        self, *, uri: str, artifact_location: str, experiment: str, model_name: str, cache_dir: Path
    ) -> None:
        self.uri = uri
        self.artifact_location = artifact_location
        self.experiment = experiment
        self.model_name = model_name
        self.cache_dir = cache_dir
        self._client = None
        self._experiment_id: str | None = None

    @classmethod
    def from_settings(cls, settings) -> Tracker:
        """Build from :class:`tagwise.config.Settings`."""
        return cls(
            uri=settings.tracking_uri,
            artifact_location=settings.artifact_location,
            experiment=settings.tracking.experiment,
            model_name=settings.tracking.registered_model,
            cache_dir=settings.home / "registry-cache",
        )

    @property
    def client(self):
        """The MLflow client, created on first use."""
        if self._client is None:
            if self.uri.startswith("sqlite:///"):
                Path(self.uri.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            logging.getLogger("alembic").setLevel(logging.WARNING)
            logging.getLogger("mlflow.store.db.utils").setLevel(logging.WARNING)
            from mlflow import MlflowClient

            self._client = MlflowClient(tracking_uri=self.uri, registry_uri=self.uri)
        return self._client

    def experiment_id(self) -> str:
        """The experiment id, creating the experiment on first use."""
        if self._experiment_id is None:
            found = self.client.get_experiment_by_name(self.experiment)
            self._experiment_id = (
                found.experiment_id
                if found
                else self.client.create_experiment(
                    self.experiment, artifact_location=self.artifact_location
                )
            )
        return self._experiment_id

    @contextlib.contextmanager
    def run(self, name: str, tags: dict[str, str] | None = None) -> Iterator[RunLogger]:
        """A run that is marked FAILED if the block raises, FINISHED otherwise."""
        run = self.client.create_run(self.experiment_id(), run_name=name, tags=tags or {})
        logger = RunLogger(self.client, run.info.run_id)
        try:
            yield logger
        except BaseException:
            self.client.set_terminated(run.info.run_id, status="FAILED")
            raise
        self.client.set_terminated(run.info.run_id, status="FINISHED")

    def register(self, run_id: str, *, tags: dict[str, str] | None = None) -> int:
        """Register the run's ``model`` artifact folder as a new version."""
        from mlflow.exceptions import MlflowException

        with contextlib.suppress(MlflowException):
            self.client.create_registered_model(self.model_name)
        mv = self.client.create_model_version(
            self.model_name, source=f"runs:/{run_id}/model", run_id=run_id, tags=tags or {}
        )
        return int(mv.version)

    def set_alias(self, alias: str, version: int) -> None:
        """Point ``alias`` at ``version``."""
        self.client.set_registered_model_alias(self.model_name, alias, str(version))

    def delete_alias(self, alias: str) -> None:
        """Remove ``alias`` (nothing happens when it is unset)."""
        from mlflow.exceptions import MlflowException

        with contextlib.suppress(MlflowException):
            self.client.delete_registered_model_alias(self.model_name, alias)

    def alias_version(self, alias: str) -> int | None:
        """The version an alias points at, or None if the alias (or model) is unset."""
        from mlflow.exceptions import MlflowException

        try:
            return int(self.client.get_model_version_by_alias(self.model_name, alias).version)
        except MlflowException:
            return None

    def versions(self) -> list[ModelVersion]:
        """Every registered version, newest first, with its run's metrics."""
        from mlflow.exceptions import MlflowException

        try:
            found = self.client.search_model_versions(f"name='{self.model_name}'")
        except MlflowException:
            return []
        if not found:
            return []
        # search results do not carry aliases: read them from the registered model
        aliases: dict[str, list[str]] = {}
        for alias, ver in self.client.get_registered_model(self.model_name).aliases.items():
            aliases.setdefault(str(ver), []).append(alias)
        out = []
        for mv in found:
            metrics = self.client.get_run(mv.run_id).data.metrics if mv.run_id else {}
            out.append(
                ModelVersion(
                    version=int(mv.version),
                    run_id=mv.run_id,
                    aliases=tuple(sorted(aliases.get(str(mv.version), []))),
                    created=mv.creation_timestamp,
                    metrics=dict(metrics),
                    tags=dict(mv.tags),
                )
            )
        return sorted(out, key=lambda v: -v.version)

    def version(self, version: int) -> ModelVersion:
        """One version; raises :class:`UnknownModelError`."""
        for v in self.versions():
            if v.version == version:
                return v
        raise UnknownModelError(f"model {self.model_name!r} has no version {version}")

    def set_version_tag(self, version: int, key: str, value: str) -> None:
        """Annotate a version (e.g. the promotion decision)."""
        self.client.set_model_version_tag(self.model_name, str(version), key, value)

    def download(self, version: int) -> Path:
        """A local, verified copy of a version's bundle (cached: versions are immutable).

        Safe when several processes fetch the same version into one cache at once: each
        downloads into its own temporary sibling of the target, verifies every checksum
        of the manifest there, and renames the folder into place in one step. Whoever
        comes second keeps the copy already there and deletes its own, so the cache only
        ever holds complete, verified bundles. Raises :class:`IntegrityError` for a copy
        that fails its checksums (nothing is cached) or a foreign folder in the way.
        """
        target = self.cache_dir / str(version)
        if (target / "manifest.json").is_file():
            return target
        mv = self.client.get_model_version(self.model_name, str(version))
        import mlflow.artifacts

        from tagwise.bundle import verify_checksums

        self.cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{version}.", suffix=".partial", dir=self.cache_dir))
        try:
            # MLflow's own per-file tqdm bar would flood stderr on every first load of a
            # version (a dozen small files, done in milliseconds)
            os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
            local = mlflow.artifacts.download_artifacts(
                artifact_uri=f"runs:/{mv.run_id}/model", dst_path=str(tmp), tracking_uri=self.uri
            )
            verify_checksums(local)
            _move_into_place(Path(local), target)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return target

    def resolve(self, ref: str) -> tuple[Path, int]:
        """``models:/name@alias`` or ``models:/name/3`` → (local bundle dir, version)."""
        rest = ref.removeprefix("models:/")
        name, _, selector = rest.replace("@", "/@").partition("/")
        if name != self.model_name:
            raise UnknownModelError(f"{ref}: registered model is {self.model_name!r}")
        if selector.startswith("@"):
            version = self.alias_version(selector[1:])
            if version is None:
                raise UnknownModelError(f"{ref}: no version has alias {selector[1:]!r}")
        elif selector.isdigit():
            version = int(selector)
        else:
            raise UnknownModelError(f"{ref}: use models:/{self.model_name}@ALIAS or /VERSION")
        return self.download(version), version


def _move_into_place(src: Path, target: Path) -> None:
    """Rename the folder ``src`` to ``target`` in one step; keep a bundle already there.

    ``os.rename`` of a folder is atomic on one filesystem and fails if ``target`` is a
    non-empty folder, which is how a caller learns that another one finished first.
    """
    try:
        os.rename(src, target)
    except OSError:
        if (target / "manifest.json").is_file():
            return  # another process moved its verified copy in first: keep that one
        if target.exists():
            raise IntegrityError(
                f"{target}: a folder without a manifest is in the way of the download; remove it"
            ) from None
        raise


class RunLogger:
    """What a pipeline step may log into its run."""

    def __init__(self, client, run_id: str) -> None:
        self.client = client
        self.run_id = run_id

    def params(self, params: dict[str, Any]) -> None:
        """Log flat parameters (values stringified, as MLflow stores them)."""
        from mlflow.entities import Param

        items = [Param(k, str(v)[:6000]) for k, v in sorted(params.items())]
        for i in range(0, len(items), 100):
            self.client.log_batch(self.run_id, params=items[i : i + 100])

    def metrics(self, metrics: dict[str, float], step: int = 0) -> None:
        """Log numeric metrics in one batch."""
        import time

        from mlflow.entities import Metric

        now = int(time.time() * 1000)
        items = [
            Metric(k, float(v), now, step) for k, v in sorted(metrics.items()) if v is not None
        ]
        for i in range(0, len(items), 500):
            self.client.log_batch(self.run_id, metrics=items[i : i + 500])

    def tags(self, tags: dict[str, str]) -> None:
        """Set run tags."""
        for k, v in tags.items():
            self.client.set_tag(self.run_id, k, v)

    def dict(self, obj: Any, name: str) -> None:
        """Log a JSON artifact."""
        self.client.log_text(self.run_id, json.dumps(obj, indent=2, default=str), name)

    def artifact(self, path: Path, artifact_path: str | None = None) -> None:
        """Log one file."""
        self.client.log_artifact(self.run_id, str(path), artifact_path)

    def artifacts(self, directory: Path, artifact_path: str) -> None:
        """Log a whole folder (the model bundle goes under ``model``)."""
        self.client.log_artifacts(self.run_id, str(directory), artifact_path)
