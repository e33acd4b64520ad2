"""The promotion gate: a pure decision that lists every reason it checked."""

from __future__ import annotations

import pytest

from tagwise.promotion import GateDecision, gate

GOOD = {"test_micro_f1": 0.60, "behavioural_pass_rate": 0.95, "p99_latency_ms": 4.0}


def _gate(challenger, champion, *, tol=0.01, budget=10.0) -> GateDecision:
    return gate(challenger, champion, f1_tolerance=tol, p99_latency_ms=budget)


def test_better_challenger_is_promoted_with_all_reasons():
    champion = {"test_micro_f1": 0.58, "behavioural_pass_rate": 0.90, "p99_latency_ms": 5.0}
    decision = _gate(GOOD, champion)
    assert decision.promote
    assert len(decision.reasons) == 3
    assert decision.summary().startswith("PROMOTE: ")
    assert "micro-F1 0.6000 vs champion 0.5800" in decision.summary()


def test_f1_within_tolerance_passes_and_beyond_it_refuses():
    champion = {"test_micro_f1": 0.605, "behavioural_pass_rate": 0.95}
    assert _gate(GOOD, champion, tol=0.01).promote
    decision = _gate(GOOD, champion, tol=0.001)
    assert not decision.promote
    assert any("worse than champion" in r for r in decision.reasons)
    assert decision.summary().startswith("REFUSE: ")


def test_lower_behavioural_pass_rate_refuses():
    champion = {"test_micro_f1": 0.50, "behavioural_pass_rate": 0.96}
    decision = _gate(GOOD, champion)
    assert not decision.promote
    assert any("below champion" in r for r in decision.reasons)
    # the F1 check still ran and passed: every reason is listed
    assert any("vs champion" in r for r in decision.reasons)


def test_latency_over_budget_refuses_even_without_champion():
    slow = {**GOOD, "p99_latency_ms": 12.5}
    decision = _gate(slow, None, budget=10.0)
    assert not decision.promote
    assert any("exceeds budget" in r for r in decision.reasons)
    assert _gate({**GOOD, "p99_latency_ms": 10.0}, None, budget=10.0).promote  # ≤ budget


def test_no_champion_promotes_on_latency_alone():
    decision = _gate({**GOOD, "test_micro_f1": 0.01}, None)
    assert decision.promote
    assert "no champion yet" in decision.reasons


@pytest.mark.parametrize("missing", ["test_micro_f1", "behavioural_pass_rate", "p99_latency_ms"])
def test_missing_challenger_metric_refuses(missing):
    challenger = {k: v for k, v in GOOD.items() if k != missing}
    decision = _gate(challenger, None)
    assert not decision.promote
    assert decision.reasons == (f"challenger has no {missing} metric",)


def test_champion_missing_metrics_count_as_zero():
    decision = _gate(GOOD, {})
    assert decision.promote


def test_a_challenger_of_another_label_mode_is_refused():
    metrics = {"test_micro_f1": 0.95, "behavioural_pass_rate": 1.0, "p99_latency_ms": 1.0}
    champion = {"test_micro_f1": 0.70, "behavioural_pass_rate": 0.9, "p99_latency_ms": 1.0}
    kwargs = {"f1_tolerance": 0.0, "p99_latency_ms": 30.0}
    refused = gate(metrics, champion, challenger_mode="single", champion_mode="multi", **kwargs)
    assert not refused.promote and "not comparable" in refused.summary()
    same = gate(metrics, champion, challenger_mode="multi", champion_mode="multi", **kwargs)
    assert same.promote
    older = gate(metrics, champion, challenger_mode="multi", champion_mode=None, **kwargs)
    assert older.promote  # a champion registered before modes were recorded: compared as before


def test_a_version_registered_before_mode_tags_is_read_from_its_manifest(tmp_path):
    import json

    from tagwise.pipeline import version_mode
    from tagwise.tracking import ModelVersion

    (tmp_path / "manifest.json").write_text(json.dumps({"mode": "multi"}))

    class Registry:
        def download(self, version: int):
            assert version == 1
            return tmp_path

    old = ModelVersion(version=1, run_id="r", aliases=("champion",), created=0, metrics={}, tags={})
    assert version_mode(Registry(), old) == "multi"
    tagged = ModelVersion(2, "r", (), 0, {}, {"mode": "single"})
    assert version_mode(Registry(), tagged) == "single"  # the tag, no download
