"""Acknowledged feedback survives ``kill -9``: every id answered with 201 is on disk."""

from __future__ import annotations

import threading
import time

import httpx
from serve_helpers import TAGS, TINY, Server

from tagwise.config import load_settings
from tagwise.feedback import FeedbackStore
from tagwise.pipeline import train

N_WRITERS = 4
PER_WRITER = 40


def feedback(i: int) -> dict:
    return {
        "project_id": f"p-{i}",
        "title": f"project {i}: BERT for question answering",
        "description": "transformers",
        "suggested": ["natural-language-processing"],
        "accepted": ["natural-language-processing"],
        "added": ["nlp", "transformers"],
    }


def test_acknowledged_feedback_survives_kill_9(tmp_path):
    settings = load_settings(
        home=tmp_path,
        labels={"min_freq": 5},
        eval={"n_boot": 50, "temporal": False},
        tracking={"enabled": False},
    )
    model_dir = tmp_path / "model"
    train(settings, TINY, TAGS, out=model_dir)

    server = Server(tmp_path, "--model", str(model_dir))
    acked: list[int] = []
    refused: list[str] = []
    lock = threading.Lock()
    killed = threading.Event()

    def writer(w: int) -> None:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            for j in range(PER_WRITER * 10):  # keeps writing until the server dies
                if killed.is_set():
                    return
                try:
                    r = client.post("/v1/feedback", json=feedback(w * 10_000 + j))
                except httpx.HTTPError:
                    return
                with lock:
                    if r.status_code == 201:
                        acked.append(r.json()["id"])
                    else:
                        refused.append(r.text[:200])

    try:
        server.wait_ready()
        threads = [threading.Thread(target=writer, args=(w,)) for w in range(N_WRITERS)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 120  # a stuck server fails the test, never hangs it
        while True:  # kill mid-stream, with writes in flight
            with lock:
                if len(acked) >= N_WRITERS * PER_WRITER:
                    break
                assert time.monotonic() < deadline, f"only {len(acked)} acks; {refused[:3]}"
                assert any(t.is_alive() for t in threads), f"writers stopped: {refused[:3]}"
            threading.Event().wait(0.01)
        server.kill9()
        killed.set()
        for t in threads:
            t.join(timeout=10)
    finally:
        server.stop()

    restarted = Server(tmp_path, "--model", str(model_dir))
    try:
        restarted.wait_ready()
        r = httpx.post(f"{restarted.url}/v1/feedback", json=feedback(-1))
        assert r.status_code == 201
        store = FeedbackStore.from_url(settings.db_url)
        stored = store.ids()
        store.close()
    finally:
        restarted.stop()

    assert refused == []
    assert len(acked) >= N_WRITERS * PER_WRITER and len(set(acked)) == len(acked)
    missing = set(acked) - stored
    assert not missing, f"{len(missing)} acknowledged writes lost: {sorted(missing)[:10]}"
    assert r.json()["id"] > max(acked), "ids are never reused after a crash"
