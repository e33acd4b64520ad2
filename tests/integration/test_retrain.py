"""Retraining: a refused challenger leaves the champion; the live service keeps
answering through retrain + promotion; ``kill -9`` mid-retrain leaves the registry
consistent and the champion serving."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

import httpx
import pytest
from serve_helpers import ROOT, TAGS, TINY, TINY_CONFIG, Server, tagwise_exe
from test_serve_hotswap import Traffic

from tagwise.config import load_settings
from tagwise.pipeline import train
from tagwise.retrain import retrain
from tagwise.tracking import Tracker


@pytest.fixture()
def home(tmp_path):
    (tmp_path / "config.yaml").write_text(TINY_CONFIG)
    return tmp_path


def _settings(home, **overrides):
    return load_settings(home / "config.yaml", home=home, **overrides)


def _feedback_via_store(settings, n: int = 12) -> None:
    """Feedback rows as the API would store them (canonical tags)."""
    from tagwise.feedback import FeedbackRecord, FeedbackStore

    projects = json.loads(TINY.read_text())[:n]
    store = FeedbackStore.from_url(settings.db_url).create()
    try:
        for p in projects:
            store.add(
                FeedbackRecord(
                    p["title"], p["description"], (), (), ("natural-language-processing",),
                    project_id=f"new-{p['id']}",
                )
            )  # fmt: skip
    finally:
        store.close()


def test_a_challenger_that_fails_the_gate_leaves_the_champion(home):
    settings = _settings(home)
    assert train(settings, TINY, TAGS).version == 1
    assert retrain(settings, tags=TAGS).skipped  # nothing new yet: no run at all
    _feedback_via_store(settings)
    strict = _settings(home, gate={"p99_latency_ms": 1e-6})  # nothing is that fast
    res = retrain(strict, tags=TAGS)
    assert res.version == 2 and not res.promoted
    assert "exceeds budget" in res.decision.summary()
    tracker = Tracker.from_settings(settings)
    assert tracker.alias_version("champion") == 1
    assert tracker.alias_version("challenger") == 2
    assert "REFUSE" in tracker.version(2).tags["promotion_decision"]


def test_service_keeps_answering_during_retrain_and_promotion(home):
    settings = _settings(home)
    assert train(settings, TINY, TAGS).version == 1
    server = Server(home, config=home / "config.yaml")
    traffic = None
    try:
        assert server.wait_ready()["model"]["version"] == "1"
        traffic = Traffic(server.url)
        traffic.start()
        for p in json.loads(TINY.read_text())[:10]:
            body = {"title": p["title"], "description": p["description"]}
            r = httpx.post(f"{server.url}/v1/suggest", json=body)
            fb = {**body, "accepted": [], "added": ["computer-vision"],
                  "prediction_id": r.json()["prediction_id"]}  # fmt: skip
            assert httpx.post(f"{server.url}/v1/feedback", json=fb).status_code == 201
        res = retrain(settings, tags=TAGS, force=True)
        assert res.promoted, res.decision.summary()
        traffic.wait_for_version(str(res.version))  # the watcher hot-swapped
        time.sleep(0.3)
    finally:
        if traffic is not None:
            traffic.stop_event.set()
            traffic.join(timeout=10)
        server.stop()
    assert traffic.errors == [], traffic.errors[:5]
    assert set(traffic.statuses) == {200} and sum(traffic.statuses.values()) > 50


def test_kill_9_during_retrain_leaves_champion_and_registry_consistent(home):
    settings = _settings(home)
    assert train(settings, TINY, TAGS).version == 1
    _feedback_via_store(settings)
    env = {**os.environ, "TAGWISE_HOME": str(home), "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [tagwise_exe(), "retrain", "--tags", str(TAGS), "--config", str(home / "config.yaml")],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        if list((home / "retrain").glob("*/projects.json")):  # collected: training starts
            break
        time.sleep(0.05)
    time.sleep(0.5)  # into the training step
    assert proc.poll() is None, proc.stderr.read().decode()[-2000:]
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)

    tracker = Tracker.from_settings(settings)
    assert tracker.alias_version("champion") == 1
    versions = tracker.versions()  # the registry still reads
    assert {v.version for v in versions} <= {1, 2}
    from tagwise.loading import load_model

    bundle, version = load_model("models:/tagwise@champion", settings)  # what a server loads
    assert version == "1" and bundle.suggest([("BERT", "question answering")])
    parent = [r for r in tracker.client.search_runs([tracker.experiment_id()])
              if r.info.run_name == "retrain"]  # fmt: skip
    assert len(parent) == 1 and parent[0].info.status == "RUNNING"  # visibly unfinished
