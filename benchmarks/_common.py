"""Shared helpers for benchmark scripts: machine facts, thread pinning, markdown sections."""

from __future__ import annotations

import os
import platform
import re
from datetime import UTC, datetime
from pathlib import Path

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def pin_threads(n: int = 1) -> None:
    """Pin BLAS/OpenMP threads before numpy is imported (a noisy, shared 2-core machine)."""
    for var in THREAD_VARS:
        os.environ.setdefault(var, str(n))


def machine() -> str:
    """One line describing where the numbers come from."""
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def header(title: str, command: str) -> str:
    """Section heading with date, machine and command."""
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"## {title}\n\n- date: {now}\n- machine: {machine()}\n- command: `{command}`\n"


def replace_section(path: Path, title: str, body: str) -> None:
    """Replace the ``## title`` section of a markdown file (or append it)."""
    text = path.read_text() if path.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^## {re.escape(title)}\n.*?(?=^## |\Z)", re.S | re.M)
    section = body.rstrip() + "\n\n"
    text = (
        pattern.sub(lambda _: section, text)
        if pattern.search(text)
        else (text.rstrip() + "\n\n" + section)
    )
    path.write_text(text)
