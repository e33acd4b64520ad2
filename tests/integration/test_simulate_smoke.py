"""``tagwise simulate`` end to end on the tiny corpus (fast settings)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from serve_helpers import ROOT, TAGS, TINY, tagwise_exe


def test_simulate_replays_monitors_and_retrains(tmp_path):
    from tagwise.config import load_settings
    from tagwise.simulate import simulate

    settings = load_settings(
        home=tmp_path,
        labels={"min_freq": 5},
        eval={"n_boot": 50, "temporal": False, "baselines": []},
        gate={"p99_latency_ms": 1000.0, "behavioural_tolerance": 1.0},
        monitoring={"min_window": 5},
    )
    res = simulate(
        settings, TINY, TAGS, cutoff=datetime(2020, 5, 1, tzinfo=UTC), window="14d",
        min_gap=1, retrain_every=2, far_windows=2, far_size=5,
    )  # fmt: skip
    assert res.n_initial == 35 and res.n_streamed == 25
    assert sum(w.n for w in res.weeks) == 25
    assert res.retrains and res.retrains[0]["version"] == 2
    assert res.report is not None and res.report.is_file()
    html = res.report.read_text()  # every streamed project got feedback: uptake per window
    assert "No feedback answers" not in html and "Per window (kept / shown)" in html
    assert json.dumps(res.to_dict(), default=str)


def test_simulate_cli_help_lists_the_options():
    import subprocess

    out = subprocess.run(
        [tagwise_exe(), "simulate", "--help"], capture_output=True, text=True, cwd=ROOT
    )
    assert out.returncode == 0 and "--retrain" in out.stdout and "--cutoff" in out.stdout
