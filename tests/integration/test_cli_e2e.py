"""End to end through the real console script: train → register → promote → predict."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "tests" / "data" / "projects_tiny.json"
TAGS = ROOT / "datasets" / "tags.json"
CATEGORIES = ROOT / "tests" / "data" / "categories_tiny.csv"
BROKEN = ROOT / "tests" / "data" / "broken_rows.jsonl"
NOT_JSON = ROOT / "tests" / "data" / "not_json.json"


def _tagwise() -> str:
    exe = Path(sys.executable).with_name("tagwise")
    return str(exe) if exe.exists() else shutil.which("tagwise") or "tagwise"


@pytest.fixture()
def home(tmp_path: Path) -> Path:
    """A tagwise home with a small config for the tiny fixture (fast, still P1)."""
    (tmp_path / "config.yaml").write_text(
        "labels: {min_freq: 5}\neval: {n_boot: 100, temporal: false}\n"
        # the flow is under test here, not speed: a loaded CI machine must not trip the gate
        "gate: {p99_latency_ms: 1000}\n"
    )
    return tmp_path


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "TAGWISE_HOME": str(home), "NO_COLOR": "1", "COLUMNS": "200"}
    proc = subprocess.run(
        [_tagwise(), *args], capture_output=True, text=True, env=env, cwd=home, timeout=300
    )
    if check and proc.returncode != 0:
        raise AssertionError(f"tagwise {args} failed ({proc.returncode}):\n{proc.stderr}")
    return proc


def _write_inputs(path: Path) -> Path:
    rows = [
        {
            "id": 1,
            "title": "BERT for question answering",
            "description": "Fine-tuning a transformer language model on SQuAD.",
        },
        {
            "id": 2,
            "title": "Detecting cars in traffic video",
            "description": "YOLO object detection on street camera images.",
        },
        {"id": 3, "title": "", "description": ""},
    ]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_train_register_promote_predict(home: Path) -> None:
    cfg = str(home / "config.yaml")
    out = run(
        home,
        "train",
        "--projects",
        str(TINY),
        "--tags",
        str(TAGS),
        "--config",
        cfg,
        "--out",
        str(home / "m1"),
    )
    assert "report: " in out.stdout
    report = Path(out.stdout.split("report: ")[1].strip())
    assert report.is_file() and "<img" in report.read_text()
    assert "Error analysis (test)" in report.read_text()
    assert (home / "m1" / "manifest.json").is_file()

    listing = run(home, "models", "list", "--config", cfg).stdout
    assert "champion" in listing  # the first version is promoted through the gate

    # a second version registered as challenger, then promoted through the gate
    run(home, "train", "--projects", str(TINY), "--tags", str(TAGS), "--config", cfg)
    listing = run(home, "models", "list", "--config", cfg).stdout
    assert "challenger" in listing
    promoted = run(home, "models", "promote", "--config", cfg)
    assert "PROMOTE" in promoted.stdout
    versions = json.loads(run(home, "models", "list", "--json", "--config", cfg).stdout)
    assert [(v["version"], v["mode"]) for v in versions] == [(2, "multi"), (1, "multi")]
    assert versions[0]["aliases"] == ["champion"]  # the challenger alias went with the win
    assert versions[0]["metrics"]["test_micro_f1"] > 0
    piped = run(home, "models", "list", "--config", cfg).stdout  # not a terminal: no "…"
    assert "champion" in piped and "…" not in piped

    inputs = _write_inputs(home / "in.jsonl")
    for model, threads in (("models:/tagwise@champion", "1"), (str(home / "m1"), "2")):
        proc = run(
            home,
            "predict",
            "--model",
            model,
            "--input",
            str(inputs),
            "--output",
            str(home / "out.jsonl"),
            "--config",
            cfg,
            "--threads",
            threads,
        )
        assert "3/3" in proc.stderr and "2 projects" in proc.stderr  # the progress bar, done
        assert "1 line(s) skipped (line 3: title, description: both empty" in proc.stderr
        lines = [json.loads(line) for line in (home / "out.jsonl").read_text().splitlines()]
        assert [r["id"] for r in lines] == [1, 2]
        first = {t["tag"] for t in lines[0]["tags"]}
        assert "natural-language-processing" in first
        scores = [t["score"] for t in lines[0]["tags"]]
        assert scores == sorted(scores, reverse=True)
        assert all(0.0 <= s <= 1.0 for s in scores)
        assert len(lines[0]["tags"]) <= 5
        for line in lines:  # long-tail tags: their own field, never a head tag
            assert {t["tag"] for t in line["long_tail"]}.isdisjoint(t["tag"] for t in line["tags"])
            assert all(t["confidence"] == "low" and t["score"] <= 0.5 for t in line["long_tail"])

    # a tag added to tags.json after training, served with --tags: suggested zero-shot
    records = json.loads(TAGS.read_text())
    records.append({"tag": "spiking-neural-networks", "aliases": ["snn"]})
    (home / "tags-new.json").write_text(json.dumps(records))
    (home / "snn.jsonl").write_text(
        json.dumps({"id": 9, "title": "Spiking neural networks", "description": "An SNN."}) + "\n"
    )
    common = ["--model", str(home / "m1"), "--input", str(home / "snn.jsonl"), "--config", cfg]
    line = json.loads(run(home, "predict", *common, "--tags", str(home / "tags-new.json")).stdout)
    assert line["long_tail"][0]["tag"] == "spiking-neural-networks"
    assert line["long_tail"][0]["source"] == "zero-shot"
    off = json.loads(run(home, "predict", *common, "--no-long-tail").stdout)
    assert set(off) == {"id", "tags"}  # exactly the stable format
    one = run(
        home,
        "suggest",
        "Spiking neural networks",
        "An SNN.",
        "--model",
        str(home / "m1"),
        "--tags",
        str(home / "tags-new.json"),
        "--config",
        cfg,
    ).stdout
    assert "long tail, low confidence: spiking-neural-networks" in one


def test_single_label_mode_gives_exactly_one_tag(home: Path) -> None:
    cfg = str(home / "config.yaml")
    run(home, "train", "--projects", str(CATEGORIES), "--config", cfg, "--out", str(home / "c"))
    inputs = _write_inputs(home / "in.jsonl")
    run(
        home,
        "predict",
        "--model",
        str(home / "c"),
        "--input",
        str(inputs),
        "--output",
        str(home / "out.jsonl"),
    )
    lines = [json.loads(line) for line in (home / "out.jsonl").read_text().splitlines()]
    assert len(lines) == 2  # the third line has no text: skipped, with its reason
    assert all(len(r["tags"]) == 1 for r in lines)
    labels = {"natural-language-processing", "computer-vision", "mlops", "other"}
    assert {r["tags"][0]["tag"] for r in lines} <= labels
    impact = run(home, "impact", "--model", str(home / "c"), "--projects", str(TINY),
                 "--tags", str(TAGS), check=False)  # fmt: skip
    assert impact.returncode == 1 and "single-label" in impact.stderr
    assert "Traceback" not in impact.stderr


def test_broken_rows_are_quarantined_and_good_rows_train(home: Path) -> None:
    # 5 broken rows among the tiny corpus: the good rows train, the 5 are quarantined
    from tagwise.data import load_dataset

    good = json.loads(TINY.read_text())
    bad_rows = [q.raw for q in load_dataset(BROKEN).quarantined]
    assert len(bad_rows) == 5
    mixed = home / "mixed.jsonl"
    mixed.write_text("".join(json.dumps(r) + "\n" for r in good + bad_rows))
    out = run(
        home,
        "train",
        "--projects",
        str(mixed),
        "--tags",
        str(TAGS),
        "--config",
        str(home / "config.yaml"),
    )
    assert "5 rows quarantined" in out.stderr
    (quarantine,) = (home / "quarantine").glob("mixed-*.jsonl")
    assert quarantine.name in out.stderr.replace("\n", "")  # the message names the file
    rows = [json.loads(line) for line in quarantine.read_text().splitlines()]
    assert len(rows) == 5
    assert all(r["reason"] for r in rows)


def test_unparseable_file_is_one_line_error(home: Path) -> None:
    proc = run(home, "data", "validate", str(NOT_JSON), check=False)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and "not_json.json:1" in lines[0]


def test_data_validate_summary(home: Path) -> None:
    proc = run(home, "data", "validate", str(BROKEN), "--json")
    summary = json.loads(proc.stdout)
    assert summary["n_rows"] - summary["n_accepted"] == 5


def test_unknown_model_dir_is_clean_error(home: Path) -> None:
    inputs = _write_inputs(home / "in.jsonl")
    proc = run(home, "predict", "--model", str(home / "nope"), "--input", str(inputs), check=False)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr and "no such model directory" in proc.stderr


def test_train_out_refuses_a_directory_that_is_not_a_model(home: Path) -> None:
    precious = home / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("important")
    args = ("train", "--projects", str(TINY), "--tags", str(TAGS), "--out", str(precious))
    proc = run(home, *args, check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "holds no tagwise model" in proc.stderr
    assert (precious / "notes.txt").read_text() == "important"
    assert "validate data" not in proc.stderr  # refused before any training


def test_predict_skips_bad_lines_and_says_why(home: Path) -> None:
    model = home / "m"
    cfg = str(home / "config.yaml")
    run(home, "train", "--projects", str(TINY), "--tags", str(TAGS), "-c", cfg, "--out", str(model))
    good = _write_inputs(home / "good.jsonl").read_text().splitlines()[:2]
    lines = [good[0], "{bad json", "[1, 2]", '{"id": 9, "title": 123}', '{"title": "no id"}']
    inputs = home / "mixed.jsonl"
    inputs.write_text("\n".join([*lines, good[1]]) + "\n")
    out = home / "out.jsonl"
    proc = run(home, "predict", "--model", str(model), "--input", str(inputs), "-o", str(out))
    assert [json.loads(line)["id"] for line in out.read_text().splitlines()] == [1, 2]
    assert "4 line(s) skipped" in proc.stderr and "line 2: not JSON" in proc.stderr
    (quarantined,) = (home / "quarantine").glob("predict-mixed-*.jsonl")
    reasons = [json.loads(line)["reason"] for line in quarantined.read_text().splitlines()]
    assert len(reasons) == 4 and reasons[-1].startswith("id: missing")
    for target, message in ((home, "is a directory"), (home / "no" / "x.jsonl", "does not exist")):
        proc = run(
            home, "predict", "--model", str(model), "--input", str(inputs), "-o", str(target),
            check=False,
        )  # fmt: skip
        assert proc.returncode == 1 and "Traceback" not in proc.stderr
        assert message in proc.stderr
    assert not list(home.glob("*.partial"))
    empty = home / "empty.jsonl"
    empty.write_text("")
    proc = run(home, "evaluate", "--model", str(model), "--projects", str(empty), check=False)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_data_validate_fails_when_nothing_is_valid(home: Path) -> None:
    proc = run(home, "data", "validate", str(TAGS), check=False)  # the vocabulary, by mistake
    assert proc.returncode == 1 and "no valid project" in proc.stderr
    proc = run(home, "data", "validate", str(BROKEN), "--quarantine", str(home), check=False)
    assert proc.returncode == 1 and "is a directory" in proc.stderr


def test_a_single_label_model_never_replaces_a_multi_label_champion(home: Path) -> None:
    cfg = str(home / "config.yaml")
    run(home, "train", "--projects", str(TINY), "--tags", str(TAGS), "-c", cfg)
    proc = run(home, "train", "--projects", str(CATEGORIES), "-c", cfg)
    assert "registered version 2" in proc.stderr
    refused = run(home, "models", "promote", "2", "-c", cfg, check=False)
    assert refused.returncode != 0 and "not comparable" in refused.stdout + refused.stderr
    same = run(home, "models", "promote", "1", "-c", cfg)
    assert "already the champion" in same.stdout
