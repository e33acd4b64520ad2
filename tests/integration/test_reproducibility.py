"""Same data + config + seed → identical metrics and identical predictions."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tagwise.config import load_settings
from tagwise.pipeline import train

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "data" / "projects_tiny.json"
TAGS = ROOT / "datasets" / "tags.json"
TIMING = {"p50_latency_ms", "p99_latency_ms"}


def _train(home: Path):
    settings = load_settings(
        home=home,
        labels={"min_freq": 5},
        eval={"n_boot": 200, "temporal": False},
        tracking={"enabled": False},
    )
    return train(settings, TINY, TAGS, out=home / "model")


def test_two_runs_give_identical_metrics_and_predictions(tmp_path: Path) -> None:
    first, second = _train(tmp_path / "a"), _train(tmp_path / "b")
    metrics_a = {k: v for k, v in first.metrics.items() if k not in TIMING}
    metrics_b = {k: v for k, v in second.metrics.items() if k not in TIMING}
    assert metrics_a == metrics_b
    assert metrics_a["test_micro_f1"] > 0.5  # and the model learned something

    texts = [
        "graph neural network for molecules",
        "reinforcement learning agent plays atari",
        "bert question answering",
        "yolo detects pedestrians",
    ]
    np.testing.assert_array_equal(first.bundle.scores(texts), second.bundle.scores(texts))
    files_a = sorted(p.relative_to(tmp_path / "a") for p in (tmp_path / "a" / "model").rglob("*"))
    files_b = sorted(p.relative_to(tmp_path / "b") for p in (tmp_path / "b" / "model").rglob("*"))
    assert files_a == files_b
    for rel in files_a:
        if rel.suffix == ".npy":
            assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes()
