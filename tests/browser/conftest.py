"""Fixtures of the end-to-end UI tests: Debian Chromium, a trained model, the real server.

Playwright is pointed at ``/usr/bin/chromium`` (install it with
``scripts/install-browser.sh``); ``playwright install`` is never needed. Without that
executable, or without the ``playwright`` package, every test here is skipped with the
reason — in CI the browser is installed, so they run.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SERVER_START_TIMEOUT_S = 60.0

try:
    import playwright  # noqa: F401

    HAVE_PLAYWRIGHT = True
except ImportError:  # pragma: no cover - depends on the environment
    HAVE_PLAYWRIGHT = False


def pytest_collection_modifyitems(config, items):
    """Mark every test in this folder ``browser``; skip them when the browser is missing."""
    here = Path(__file__).parent
    reason = None
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing: run scripts/install-browser.sh"
    elif not HAVE_PLAYWRIGHT:
        reason = "playwright is not installed: pip install playwright pytest-playwright"
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.browser)
            if reason:
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    """Launch Debian Chromium instead of a Playwright-downloaded browser."""
    return {
        **browser_type_launch_args,
        "executable_path": str(CHROMIUM),
        "args": [*browser_type_launch_args.get("args", []), *CHROMIUM_ARGS],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 1280, "height": 800}}


@dataclass(frozen=True)
class LiveServer:
    """A running ``tagwise serve`` process."""

    url: str
    home: Path
    process: subprocess.Popen

    @property
    def db_path(self) -> Path:
        return self.home / "tagwise.db"


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tagwise_cli() -> list[str]:
    exe = Path(sys.executable).with_name("tagwise")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("tagwise")
    return [found] if found else [sys.executable, "-m", "tagwise.cli"]


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory) -> Path:
    """A model trained on the tiny fixture corpus, saved to a directory (a few seconds).

    The server loads it by path, so MLflow tracking and the baselines are switched off.
    """
    from tagwise.config import load_settings
    from tagwise.pipeline import train

    home = tmp_path_factory.mktemp("train-home")
    settings = load_settings(
        home=home,
        labels={"min_freq": 5},
        eval={"n_boot": 50, "temporal": False, "baselines": []},
        tracking={"enabled": False},
    )
    out = home / "model"
    train(
        settings,
        ROOT / "tests" / "data" / "projects_tiny.json",
        ROOT / "datasets" / "tags.json",
        out=out,
    )
    return out


@pytest.fixture(scope="session")
def live_server(tmp_path_factory, trained_model) -> Iterator[LiveServer]:
    """The real server (`tagwise serve`) on a free port, with its own TAGWISE_HOME."""
    home = tmp_path_factory.mktemp("serve-home")
    port = _free_port()
    env = {
        **os.environ,
        "TAGWISE_HOME": str(home),
        "PYTHONUNBUFFERED": "1",
        "HF_HUB_OFFLINE": "1",
        "TAGWISE_SEARCH__CATALOGUE": str(ROOT / "tests" / "data" / "projects_tiny.json"),
    }
    env.pop("TAGWISE_DATABASE_URL", None)
    log_path = home / "server.log"
    log = log_path.open("wb")
    cmd = [
        *_tagwise_cli(),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--model",
        str(trained_model),
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while True:
            if proc.poll() is not None:
                log.flush()
                pytest.fail(
                    f"server exited with {proc.returncode}:\n{log_path.read_text(errors='replace')}"
                )
            try:
                with urllib.request.urlopen(f"{url}/readyz", timeout=1) as resp:
                    if resp.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            if time.monotonic() > deadline:
                pytest.fail(
                    f"server not ready after {SERVER_START_TIMEOUT_S:.0f} s:\n"
                    f"{log_path.read_text(errors='replace')}"
                )
            time.sleep(0.1)
        yield LiveServer(url=url, home=home, process=proc)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
