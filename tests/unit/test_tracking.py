"""The MLflow adapter's download cache: verified, and safe when two callers race.

Real MLflow (SQLite store and file artifacts in ``tmp_path``), one tiny TF-IDF bundle.
"""

from __future__ import annotations

import contextlib
import threading
from pathlib import Path

import pytest

from tagwise.bundle import ModelBundle
from tagwise.config import load_settings
from tagwise.errors import IntegrityError
from tagwise.models.base import FitContext
from tagwise.models.registry import create_model
from tagwise.policy import DecisionPolicy
from tagwise.tracking import Tracker

pytest.importorskip("mlflow")


@pytest.fixture(scope="module")
def registered(tiny_prepared, taxonomy, tmp_path_factory):
    """Settings of a home whose registry holds version 1: a tiny TF-IDF bundle."""
    home = tmp_path_factory.mktemp("tracking-home")
    settings = load_settings(home=home)
    model = create_model("tfidf-linear", {"min_df": 1}).fit(
        list(tiny_prepared.texts),
        tiny_prepared.Y,
        FitContext(labels=tiny_prepared.labels, taxonomy=taxonomy),
    )
    bundle_dir = ModelBundle(model=model, policy=DecisionPolicy(), taxonomy=taxonomy, info={}).save(
        home / "exported"
    )
    tracker = Tracker.from_settings(settings)
    with tracker.run("tiny") as run:
        run.artifacts(bundle_dir, "model")
    assert tracker.register(run.run_id) == 1
    return settings


def _tracker(settings, cache: Path) -> Tracker:
    """A fresh tracker (own MLflow client, as another process would have) on ``cache``."""
    tracker = Tracker.from_settings(settings)
    tracker.cache_dir = cache
    return tracker


def _leftovers(cache: Path) -> list[str]:
    return sorted(p.name for p in cache.iterdir() if p.name != "1")


def test_download_is_cached_and_loads(registered, tmp_path):
    tracker = _tracker(registered, tmp_path / "cache")
    path = tracker.download(1)
    assert path == tmp_path / "cache" / "1"
    assert ModelBundle.load(path).labels.labels
    assert tracker.download(1) == path
    assert _leftovers(tmp_path / "cache") == []


def test_two_downloads_of_one_version_at_once_both_succeed(registered, tmp_path, monkeypatch):
    """Both callers have fetched their copy before either moves it into the cache."""
    import mlflow.artifacts

    real = mlflow.artifacts.download_artifacts
    both_fetched = threading.Barrier(2, timeout=30)

    def fetch_then_wait(**kwargs):
        local = real(**kwargs)
        # if the other caller failed before fetching, its error is asserted below
        with contextlib.suppress(threading.BrokenBarrierError):
            both_fetched.wait()
        return local

    monkeypatch.setattr(mlflow.artifacts, "download_artifacts", fetch_then_wait)
    cache = tmp_path / "cache"
    results: dict[int, Path | BaseException] = {}

    def download(i: int) -> None:
        try:
            results[i] = _tracker(registered, cache).download(1)
        except BaseException as exc:
            results[i] = exc

    threads = [threading.Thread(target=download, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert results == {0: cache / "1", 1: cache / "1"}
    assert ModelBundle.load(cache / "1").labels.labels
    assert _leftovers(cache) == [], "the loser's temporary copy is deleted"


def test_a_corrupt_download_is_refused_and_not_cached(registered, tmp_path, monkeypatch):
    import mlflow.artifacts

    real = mlflow.artifacts.download_artifacts

    def corrupted(**kwargs):
        local = real(**kwargs)
        (Path(local) / "policy.json").write_text("{}")
        return local

    monkeypatch.setattr(mlflow.artifacts, "download_artifacts", corrupted)
    cache = tmp_path / "cache"
    with pytest.raises(IntegrityError, match=r"policy\.json does not match its checksum"):
        _tracker(registered, cache).download(1)
    assert list(cache.iterdir()) == [], "nothing half-checked stays in the cache"
    monkeypatch.setattr(mlflow.artifacts, "download_artifacts", real)
    assert _tracker(registered, cache).download(1) == cache / "1"


def test_an_incomplete_folder_in_the_way_is_a_clear_error(registered, tmp_path):
    cache = tmp_path / "cache"
    (cache / "1").mkdir(parents=True)
    (cache / "1" / "policy.json").write_text("{}")  # no manifest: not one of ours
    with pytest.raises(IntegrityError, match="remove it"):
        _tracker(registered, cache).download(1)
    assert sorted(p.name for p in cache.iterdir()) == ["1"]
