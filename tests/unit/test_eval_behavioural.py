"""Behavioural cases: the bundled data is valid; run_cases counts pass, fail and skip."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tagwise.errors import DataFormatError
from tagwise.evaluate import BehaviouralCase, load_cases, run_cases

HEAD_LABELS = {
    "autoencoders", "computer-vision", "convolutional-neural-networks", "data-augmentation",
    "embeddings", "generative-adversarial-networks", "graph-neural-networks", "health",
    "image-classification", "interpretability", "language-modeling", "mlops",
    "natural-language-processing", "object-detection", "regression", "reinforcement-learning",
    "representation-learning", "segmentation", "self-supervised-learning", "transfer-learning",
    "transformers", "unsupervised-learning",
}  # fmt: skip


def test_bundled_cases_load_and_use_only_head_labels() -> None:
    cases = load_cases()
    assert 30 <= len(cases) <= 40
    kinds = {c.kind for c in cases}
    assert kinds == {"invariance", "directional", "minimum_functionality"}
    for c in cases:
        assert set(c.required_tags) <= HEAD_LABELS, c.name
        assert c.text.strip()
        if c.kind != "minimum_functionality":
            assert c.perturbed and c.perturbed != c.text
    bert = [c for c in cases if c.kind == "directional" and "BERT" in (c.perturbed or "")]
    assert any({"natural-language-processing", "transformers"} <= set(c.added) for c in bert)


def _keyword_suggester(texts: list[str]) -> list[list[str]]:
    """A fake model: a tag for each keyword it sees."""
    rules = {
        "bert": ["natural-language-processing", "transformers"],
        "yolo": ["object-detection"],
        "gan": ["generative-adversarial-networks"],
        "typo": ["regression"],
    }
    return [sorted({t for k, tags in rules.items() if k in x.lower() for t in tags}) for x in texts]


def _cases() -> list[BehaviouralCase]:
    return [
        BehaviouralCase("minimum_functionality", "mft-pass", "YOLO detector",
                        expected=("object-detection",)),
        BehaviouralCase("minimum_functionality", "mft-fail", "a plain text",
                        expected=("object-detection",)),
        BehaviouralCase("minimum_functionality", "mft-skip", "YOLO", expected=("not-a-label",)),
        BehaviouralCase("invariance", "inv-pass", "BERT tweets", perturbed="BERT posts"),
        BehaviouralCase("invariance", "inv-fail", "BERT tweets", perturbed="BERT typo"),
        BehaviouralCase("directional", "dir-pass", "tickets", perturbed="tickets using BERT",
                        added=("natural-language-processing", "transformers")),
        BehaviouralCase("directional", "dir-fail", "faces", perturbed="faces with a VAE",
                        added=("autoencoders",)),
    ]  # fmt: skip


def test_run_cases_counts_pass_fail_skip() -> None:
    calls: list[list[str]] = []

    def suggest(texts: list[str]) -> list[list[str]]:
        calls.append(texts)
        return _keyword_suggester(texts)

    result = run_cases(_cases(), suggest, labels=HEAD_LABELS)
    assert len(calls) == 1  # one batch
    assert result.skipped == ["mft-skip"]
    assert result.n_evaluated == 6 and result.n_passed == 3
    assert result.pass_rate == pytest.approx(0.5)
    assert result.by_kind == {"minimum_functionality": 0.5, "invariance": 0.5, "directional": 0.5}
    by_name = {r["name"]: r for r in result.results}
    assert by_name["dir-pass"]["passed"] and not by_name["dir-fail"]["passed"]
    assert by_name["inv-fail"]["got"] == [
        "natural-language-processing",
        "regression",
        "transformers",
    ]
    assert by_name["inv-fail"]["expected"] == ["natural-language-processing", "transformers"]
    assert {r["name"] for r in result.failures} == {"mft-fail", "inv-fail", "dir-fail"}
    assert set(by_name["mft-pass"]) == {"name", "kind", "passed", "got", "expected"}


def test_invariance_compares_inside_the_label_space() -> None:
    # "regression" is outside a label space that lacks it, so the typo no longer matters.
    labels = HEAD_LABELS - {"regression"}
    result = run_cases(
        [c for c in _cases() if c.name == "inv-fail"], _keyword_suggester, labels=labels
    )
    assert result.pass_rate == 1.0


def test_without_labels_nothing_is_skipped() -> None:
    result = run_cases(_cases(), _keyword_suggester)
    assert result.n_skipped == 0 and result.n_evaluated == 7


def test_all_skipped_gives_zero_pass_rate() -> None:
    result = run_cases(_cases()[2:3], _keyword_suggester, labels=HEAD_LABELS)
    assert result.pass_rate == 0.0 and result.by_kind == {} and result.n_skipped == 1


def test_suggest_must_return_one_list_per_text() -> None:
    with pytest.raises(ValueError, match="lists for"):
        run_cases(_cases(), lambda texts: [[]], labels=None)


def test_load_cases_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "cases.json"
    bad.write_text(json.dumps([{"kind": "directional", "name": "x", "text": "t", "added": ["a"]}]))
    with pytest.raises(DataFormatError, match="perturbed"):
        load_cases(bad)
    bad.write_text(json.dumps([{"kind": "vibes", "name": "x", "text": "t"}]))
    with pytest.raises(DataFormatError, match="kind"):
        load_cases(bad)
    case = {"kind": "minimum_functionality", "name": "x", "text": "t", "expected": ["a"]}
    bad.write_text(json.dumps([case, case]))
    with pytest.raises(DataFormatError, match="duplicate"):
        load_cases(bad)
    bad.write_text("[{")
    with pytest.raises(DataFormatError, match="invalid JSON"):
        load_cases(bad)
    good = tmp_path / "good.json"
    good.write_text(json.dumps([case]))
    assert load_cases(good) == [BehaviouralCase("minimum_functionality", "x", "t", expected=("a",))]
