"""Run ``tagwise serve`` as a real process on a free loopback port (for live-server tests)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "data" / "projects_tiny.json"
TAGS = ROOT / "datasets" / "tags.json"
TINY_CONFIG = (
    "labels: {min_freq: 5}\n"
    "eval: {n_boot: 50, temporal: false}\n"
    "gate: {p99_latency_ms: 1000}\n"
    "serving: {admin_token: live-token, watch_interval: 0.5}\n"
)


def free_port() -> int:
    """A port the OS says is free on 127.0.0.1 right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tagwise_exe() -> str:
    """The console script of this venv."""
    exe = Path(sys.executable).with_name("tagwise")
    return str(exe) if exe.exists() else shutil.which("tagwise") or "tagwise"


class Server:
    """A ``tagwise serve`` subprocess; ``url`` is its base URL once :meth:`wait_ready` passes."""

    def __init__(self, home: Path, *args: str, config: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = home / f"server-{self.port}.log"
        env = {
            **os.environ,
            "TAGWISE_HOME": str(home),
            "OMP_NUM_THREADS": "1",
            "OPENBLAS_NUM_THREADS": "1",
            "MKL_NUM_THREADS": "1",
        }
        cmd = [tagwise_exe(), "serve", "--host", "127.0.0.1", "--port", str(self.port), *args]
        if config is not None:
            cmd += ["--config", str(config)]
        self._log_fh = self.log.open("w")
        self.proc = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=self._log_fh, stderr=subprocess.STDOUT
        )

    def wait_ready(self, timeout: float = 60) -> dict:
        """Block until /readyz says 200; raises with the server log if it never does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited {self.proc.returncode}:\n{self.log_text()}")
            try:
                r = httpx.get(f"{self.url}/readyz", timeout=1)
                if r.status_code == 200:
                    return r.json()
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"server not ready after {timeout}s:\n{self.log_text()}")

    def log_text(self) -> str:
        """What the server printed so far."""
        self._log_fh.flush()
        return self.log.read_text(errors="replace")

    def kill9(self) -> None:
        """SIGKILL: no shutdown hooks, no flush — the crash a durable write must survive."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        """Graceful stop (SIGTERM), then SIGKILL if it hangs."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()
        self._log_fh.close()
