"""Hot swap under traffic: promote new versions while a client sends requests; 0 fail.

A real ``tagwise serve`` process; the test process trains and promotes versions 2 and
3 in the same registry. Version 2 arrives through ``POST /v1/admin/reload``, version 3
through the watcher alone (``serving.watch_interval`` = 0.5 s).
"""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx
import pytest
from serve_helpers import TAGS, TINY, TINY_CONFIG, Server

from tagwise.config import load_settings
from tagwise.pipeline import promote, train

BODY = {"title": "BERT for question answering", "description": "transformers on SQuAD"}


class Traffic(threading.Thread):
    """Sends suggestions back to back over one keep-alive connection until stopped."""

    def __init__(self, url: str) -> None:
        super().__init__(daemon=True)
        self.url = url
        self.stop_event = threading.Event()
        self.statuses: Counter[int] = Counter()
        self.versions: list[str] = []
        self.errors: list[str] = []

    def run(self) -> None:
        with httpx.Client(base_url=self.url, timeout=10) as client:
            while not self.stop_event.is_set():
                try:
                    r = client.post("/v1/suggest", json=BODY)
                    self.statuses[r.status_code] += 1
                    if r.status_code == 200:
                        self.versions.append(r.json()["model"]["version"])
                    else:
                        self.errors.append(r.text[:200])
                except httpx.HTTPError as exc:
                    self.errors.append(repr(exc))

    def wait_for_version(self, version: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.versions and self.versions[-1] == version:
                return
            time.sleep(0.05)
        raise AssertionError(f"never saw version {version}; last {self.versions[-3:]}")


@pytest.fixture()
def home(tmp_path):
    (tmp_path / "config.yaml").write_text(TINY_CONFIG)
    return tmp_path


def test_promotions_swap_the_model_without_a_failed_request(home):
    settings = load_settings(home / "config.yaml", home=home)
    assert train(settings, TINY, TAGS).version == 1
    server = Server(home, config=home / "config.yaml")
    traffic = None
    try:
        assert server.wait_ready()["model"]["version"] == "1"
        traffic = Traffic(server.url)
        traffic.start()

        assert train(settings, TINY, TAGS).version == 2
        assert promote(settings, 2, force=True).promote
        r = httpx.post(
            f"{server.url}/v1/admin/reload", headers={"authorization": "Bearer live-token"}
        )
        assert r.status_code == 200, r.text
        assert r.json()["current"] == "2"  # swapped by this call, or by the watcher just before
        traffic.wait_for_version("2")

        assert train(settings, TINY, TAGS).version == 3
        assert promote(settings, 3, force=True).promote
        traffic.wait_for_version("3")  # no reload call: the watcher follows the alias
        time.sleep(0.3)
    finally:
        if traffic is not None:
            traffic.stop_event.set()
            traffic.join(timeout=10)
        server.stop()

    assert traffic.errors == [], traffic.errors[:5]
    assert set(traffic.statuses) == {200}
    assert sum(traffic.statuses.values()) > 50, "the client kept sending the whole time"
    seen = list(dict.fromkeys(traffic.versions))
    assert seen == ["1", "2", "3"], "versions only move forward"
