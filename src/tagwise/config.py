"""Typed configuration: one object, built at the entry point and passed down.

Values come from (lowest to highest priority) defaults, a YAML/JSON config file, and
environment variables ``TAGWISE_*`` (nested with ``__``, e.g. ``TAGWISE_POLICY__TOP_K=3``).
Nothing below the shell reads the environment.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from tagwise.errors import ConfigError


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LabelConfig(_Section):
    """Label protocol P1 knobs."""

    min_freq: int = Field(30, ge=1, description="Head label space: tags in ≥ this many projects")
    exclude: list[str] = Field(default_factory=list, description="Tags never predicted")


class SplitConfig(_Section):
    """How the data is split (P1: 70/15/15, iterative stratification, seed 42)."""

    val_size: float = Field(0.15, gt=0, lt=1)
    test_size: float = Field(0.15, gt=0, lt=1)
    temporal_cutoff: datetime = Field(datetime(2020, 6, 1), description="Temporal check date")
    method: Literal["iterative", "temporal"] = Field(
        "iterative", description="temporal = train on the oldest, validate/test on newer"
    )


class ModelConfig(_Section):
    """Which backend to train and its parameters (validated by the backend at fit)."""

    backend: str = "tfidf-linear"
    params: dict[str, Any] = Field(default_factory=dict)


class LongTailConfig(_Section):
    """Long-tail suggestions: vocabulary tags outside the label space, scored zero-/few-shot.

    Fitted at training (``tagwise.models.zeroshot.TailScorer``) and saved in the model;
    shown apart from the head tags, marked low confidence.
    """

    enabled: bool = Field(True, description="Fit and serve long-tail suggestions")
    k: int = Field(3, ge=0, le=50, description="At most this many long-tail tags per project")
    encoder: str = Field(
        "auto",
        description="auto = the model's own sentence encoder if it has one, else 'hashing' "
        "(no extra dependency or latency); or an encoder name, e.g. all-MiniLM-L6-v2",
    )
    min_similarity: float = Field(
        0.35, ge=-1, le=1, description="Absolute similarity floor; the calibrated one is ≥ it"
    )
    false_alarm_rate: float | None = Field(
        0.001,
        gt=0,
        lt=1,
        description="Calibrated floor: the share of unrelated (project, tag) pairs above it; "
        "null = min_similarity only",
    )
    max_confidence: float = Field(0.5, gt=0, le=1, description="Cap on a long-tail score")
    few_shot: bool = Field(True, description="Move prototypes towards train+val examples")


class PolicyConfig(_Section):
    """Decision policy: how scores become the few tags shown to an author."""

    top_k: int = Field(5, ge=1, le=50)
    threshold: float | None = Field(None, ge=0, le=1, description="None = tune on validation")
    per_tag: bool = Field(False, description="Per-tag thresholds, shrunk towards the global one")
    shrinkage: float = Field(20.0, ge=0, description="Pseudo-count pulling per-tag thresholds")
    closure: bool = Field(True, description="Add the parents of every suggested tag")
    long_tail: LongTailConfig = Field(default_factory=LongTailConfig)


class EvalConfig(_Section):
    """Evaluation: bootstrap and which baselines run beside the model."""

    n_boot: int = Field(1000, ge=50)
    baselines: list[str] = Field(default_factory=lambda: ["random", "prior", "rules"])
    temporal: bool = True


class TrackingConfig(_Section):
    """MLflow locations; point ``uri`` at a server to share runs with a team."""

    uri: str | None = Field(None, description="Default: sqlite:///<home>/mlflow.db")
    artifact_location: str | None = Field(None, description="Default: <home>/mlartifacts")
    experiment: str = "tagwise"
    registered_model: str = "tagwise"
    enabled: bool = True


class GateConfig(_Section):
    """Promotion gate: what a challenger must show to become champion."""

    f1_tolerance: float = Field(0.01, ge=0, description="Allowed drop in test micro-F1")
    behavioural_tolerance: float = Field(
        0.0, ge=0, le=1, description="Allowed drop in the behavioural pass rate"
    )
    p99_latency_ms: float = Field(
        30.0, gt=0, description="Single-prediction p99 budget (fast enough to show while typing)"
    )


class ServingConfig(_Section):
    """The HTTP service: where it listens, what it accepts, how it follows the registry.

    The limits are part of the API contract: they appear in the OpenAPI schema, and a
    request beyond them gets a 4xx problem instead of tying up the server.
    """

    host: str = Field("127.0.0.1", description="Interface to listen on (loopback by default)")
    port: int = Field(8000, ge=0, le=65535)
    model: str = Field("models:/tagwise@champion", description="Model DIR or registry ref")
    watch_interval: float = Field(
        10.0, ge=0, description="Seconds between polls of the champion alias; 0 = off"
    )
    admin_token: SecretStr | None = Field(
        None, description="Bearer token for /v1/admin/*; unset = admin endpoints refuse"
    )
    max_title_chars: int = Field(300, ge=1)
    max_description_chars: int = Field(5000, ge=0)
    max_body_bytes: int = Field(1_000_000, ge=1024, description="Larger request bodies get 413")
    max_batch: int = Field(1000, ge=1, description="Items per /v1/suggest/batch request")
    max_k: int = Field(50, ge=1, le=50, description="Upper bound of the k parameter")
    max_feedback_tags: int = Field(100, ge=1, description="Per suggested/accepted/added list")
    stats_ttl_s: float = Field(
        5.0,
        ge=0,
        description="Seconds GET /v1/stats reuses its numbers; feedback posted to this "
        "server clears them at once; 0 = recompute on every request",
    )
    tags: Path | None = Field(
        None,
        description="Vocabulary served with the model (tags.json), re-read at every load; "
        "tags the model never saw are suggested zero-shot. Default: the model's own",
    )


class MonitoringConfig(_Section):
    """Prediction log, drift windows, alerts and retraining (see docs/monitoring.md)."""

    log_predictions: bool = Field(True, description="Write every suggestion to the log")
    retention_days: float = Field(90.0, gt=0, description="Logged predictions older are pruned")
    max_rows: int = Field(1_000_000, ge=1, description="At most this many logged predictions")
    flush_ms: float = Field(100.0, gt=0, description="Log writer commits at least this often")
    batch_rows: int = Field(500, ge=1, description="... or after this many queued rows")
    window: str = Field("7d", pattern=r"^\d+[dw]$", description="Drift window: 1d, 7d, 2w")
    min_window: int = Field(20, ge=5, description="Windows with fewer predictions are skipped")
    family_alpha: float = Field(0.05, gt=0, lt=1, description="Bonferroni family error rate")
    domain_auc: float = Field(0.70, gt=0.5, le=1)
    f1_drop: float = Field(0.05, ge=0, le=1)
    oov_increase: float = Field(
        0.02, ge=0, le=1, description="OOV alerts need this rise in mean rate, not only p < α"
    )
    webhook_url: str | None = Field(None, description="POST alerts here (JSON); unset = off")
    webhook_timeout: float = Field(5.0, gt=0)
    recent_days: int = Field(7, ge=1, description="Retrain: the most recent labelled window")


class SearchConfig(_Section):
    """The catalogue search index (``<home>/search.db``) and what it is first built from."""

    catalogue: Path = Field(
        Path("datasets/projects.json"),
        description="Projects indexed on first start when no index exists",
    )
    tags: Path = Field(Path("datasets/tags.json"), description="Vocabulary when no model is served")
    path: Path | None = Field(None, description="Default: <home>/search.db")


class Settings(BaseSettings):
    """Everything tagwise needs to know, in one typed object."""

    model_config = SettingsConfigDict(
        env_prefix="TAGWISE_", env_nested_delimiter="__", extra="forbid"
    )

    home: Path = Field(Path("var"), description="Where run-time state lives")
    seed: int = 42
    labels: LabelConfig = Field(default_factory=LabelConfig)
    split: SplitConfig = Field(default_factory=SplitConfig)
    model: ModelConfig = Field(default_factory=ModelConfig)
    policy: PolicyConfig = Field(default_factory=PolicyConfig)
    eval: EvalConfig = Field(default_factory=EvalConfig)
    tracking: TrackingConfig = Field(default_factory=TrackingConfig)
    gate: GateConfig = Field(default_factory=GateConfig)
    serving: ServingConfig = Field(default_factory=ServingConfig)
    monitoring: MonitoringConfig = Field(default_factory=MonitoringConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    database_url: str | None = Field(
        None, description="SQLAlchemy URL of the feedback store; default sqlite <home>/tagwise.db"
    )

    @property
    def tracking_uri(self) -> str:
        """The MLflow tracking URI, defaulting to a SQLite store under ``home``."""
        return self.tracking.uri or f"sqlite:///{(self.home / 'mlflow.db').resolve()}"

    @property
    def db_url(self) -> str:
        """The feedback database URL, defaulting to a SQLite file under ``home``."""
        return self.database_url or f"sqlite:///{(self.home / 'tagwise.db').resolve()}"

    @property
    def artifact_location(self) -> str:
        """Where MLflow stores artifacts of new experiments."""
        return self.tracking.artifact_location or (self.home / "mlartifacts").resolve().as_uri()

    def quarantine_file(self, source: Path | str, kind: str = "") -> Path:
        """Where the bad rows of ``source`` go: one file per source path and purpose.

        The name carries a digest of the resolved path, so ``a/x.jsonl`` and
        ``b/x.jsonl`` never overwrite each other's rejects; running on the same
        file again replaces its quarantine with the rows that are bad now.
        """
        src = Path(source)
        digest = hashlib.sha256(str(src.resolve()).encode()).hexdigest()[:8]
        prefix = f"{kind}-" if kind else ""
        return self.home / "quarantine" / f"{prefix}{src.stem}-{digest}.jsonl"

    def training_dict(self) -> dict[str, Any]:
        """The parts that decide a trained model (what the config hash covers)."""
        return self.model_dump(mode="json", include={"seed", "labels", "split", "model", "policy"})

    def config_hash(self) -> str:
        """Short stable digest of :meth:`training_dict`, saved in every model manifest."""
        blob = json.dumps(self.training_dict(), sort_keys=True).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def _read_config_file(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror or exc}") from None
    if path.suffix in {".yaml", ".yml"}:
        import yaml

        try:
            data = yaml.safe_load(text) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    else:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: the top level must be a mapping")
    return data


def load_settings(path: Path | str | None = None, **overrides: Any) -> Settings:
    """Build :class:`Settings` from an optional file, the environment and overrides.

    Environment variables win over the file (so CI can tweak one value), and explicit
    ``overrides`` (from CLI flags) win over both.
    """
    file_values = _read_config_file(Path(path)) if path else {}
    try:
        env_only = Settings()  # defaults + environment
        merged = _deep_merge(file_values, env_only.model_dump(exclude_unset=True))
        return Settings.model_validate(_deep_merge(merged, overrides))
    except ValidationError as exc:
        raise ConfigError(_format_validation(exc, path)) from None


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def _format_validation(exc: ValidationError, path: Path | str | None) -> str:
    where = f"{path}: " if path else ""
    parts = [f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
    return where + "invalid configuration; " + "; ".join(parts)


Mode = Literal["multi", "single"]
