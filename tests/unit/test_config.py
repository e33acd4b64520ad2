"""Settings: defaults, YAML/JSON files, TAGWISE_* environment, errors, config hash."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

import pytest

from tagwise.config import Settings, load_settings
from tagwise.errors import ConfigError


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    """Each test starts from an environment without TAGWISE_* variables."""
    for key in list(os.environ):
        if key.startswith("TAGWISE_"):
            monkeypatch.delenv(key)


def _write(path: Path, data: dict) -> Path:
    if path.suffix in {".yaml", ".yml"}:
        import yaml

        path.write_text(yaml.safe_dump(data), encoding="utf-8")
    else:
        path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_defaults_follow_p1():
    s = load_settings()
    assert s.seed == 42
    assert s.labels.min_freq == 30
    assert s.labels.exclude == []
    assert (s.split.val_size, s.split.test_size) == (0.15, 0.15)
    assert s.split.temporal_cutoff == datetime(2020, 6, 1)
    assert s.model.backend == "tfidf-linear"
    assert s.policy.top_k == 5
    assert s.policy.threshold is None  # tuned on validation
    assert s.gate.f1_tolerance == 0.01


def test_default_locations_live_under_home(tmp_path):
    s = load_settings(home=tmp_path)
    assert s.tracking_uri == f"sqlite:///{(tmp_path / 'mlflow.db').resolve()}"
    assert s.artifact_location == (tmp_path / "mlartifacts").resolve().as_uri()
    assert load_settings(tracking={"uri": "http://mlflow:5000"}).tracking_uri == (
        "http://mlflow:5000"
    )


def test_same_named_sources_keep_their_own_quarantine(tmp_path, monkeypatch):
    s = load_settings(home=tmp_path / "var")
    a, b = tmp_path / "a" / "x.jsonl", tmp_path / "b" / "x.jsonl"
    qa, qb = s.quarantine_file(a), s.quarantine_file(b, "predict")
    assert qa.parent == qb.parent == tmp_path / "var" / "quarantine"
    assert qa.name.startswith("x-") and qb.name.startswith("predict-x-")
    assert s.quarantine_file(b) != qa  # same name, other folder: another file
    monkeypatch.chdir(tmp_path)  # the same file named relatively: the same quarantine
    assert s.quarantine_file(Path("a/x.jsonl")) == qa


@pytest.mark.parametrize("suffix", [".yaml", ".yml", ".json"])
def test_file_values_are_read(tmp_path, suffix):
    data = {
        "seed": 7,
        "labels": {"min_freq": 5, "exclude": ["code"]},
        "model": {"backend": "rules", "params": {"direct": 0.8}},
        "policy": {"top_k": 3, "threshold": 0.4},
    }
    s = load_settings(_write(tmp_path / f"cfg{suffix}", data))
    assert s.seed == 7
    assert s.labels.min_freq == 5 and s.labels.exclude == ["code"]
    assert s.model.backend == "rules" and s.model.params == {"direct": 0.8}
    assert s.policy.top_k == 3 and s.policy.threshold == 0.4
    assert s.split.val_size == 0.15  # untouched sections keep their defaults


def test_empty_yaml_file_means_defaults(tmp_path):
    path = tmp_path / "empty.yaml"
    path.write_text("", encoding="utf-8")
    assert load_settings(path).policy.top_k == 5


def test_environment_overrides_file_and_merges_deeply(tmp_path, monkeypatch):
    path = _write(tmp_path / "cfg.json", {"policy": {"top_k": 7, "threshold": 0.4}})
    monkeypatch.setenv("TAGWISE_POLICY__TOP_K", "3")
    s = load_settings(path)
    assert s.policy.top_k == 3
    assert s.policy.threshold == 0.4  # the file's sibling value survives


def test_explicit_overrides_win_over_environment(monkeypatch):
    monkeypatch.setenv("TAGWISE_POLICY__TOP_K", "3")
    monkeypatch.setenv("TAGWISE_SEED", "11")
    s = load_settings(policy={"top_k": 9})
    assert s.policy.top_k == 9
    assert s.seed == 11


def test_bad_environment_value_names_the_field(monkeypatch):
    monkeypatch.setenv("TAGWISE_POLICY__TOP_K", "lots")
    with pytest.raises(ConfigError, match=r"policy\.top_k"):
        load_settings()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"policy": {"top_k": 0}}, "policy.top_k"),
        ({"policy": {"threshold": 1.5}}, "policy.threshold"),
        ({"split": {"val_size": 1.0}}, "split.val_size"),
        ({"labels": {"min_freq": 0}}, "labels.min_freq"),
        ({"policy": {"topk": 3}}, "policy.topk"),
        ({"nonsense": 1}, "nonsense"),
        ({"seed": "forty-two"}, "seed"),
    ],
)
def test_bad_file_values_raise_config_error_listing_the_field(tmp_path, data, field):
    path = _write(tmp_path / "cfg.yaml", data)
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    message = str(info.value)
    assert field in message
    assert str(path) in message


def test_several_errors_are_all_listed(tmp_path):
    path = _write(tmp_path / "cfg.json", {"policy": {"top_k": 0}, "eval": {"n_boot": 1}})
    with pytest.raises(ConfigError) as info:
        load_settings(path)
    assert "policy.top_k" in str(info.value) and "eval.n_boot" in str(info.value)


def test_unparseable_json_names_the_line(tmp_path):
    path = tmp_path / "cfg.json"
    path.write_text('{\n  "seed": 1,\n  "policy": {top_k: 3}\n}\n', encoding="utf-8")
    with pytest.raises(ConfigError, match=rf"{path.name}:3: not valid JSON"):
        load_settings(path)


def test_unparseable_yaml(tmp_path):
    path = tmp_path / "cfg.yaml"
    path.write_text("policy: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path)


@pytest.mark.parametrize("content", ["[1, 2]", '"text"'])
def test_top_level_must_be_a_mapping(tmp_path, content):
    path = tmp_path / "cfg.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(path)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml"):
        load_settings(tmp_path / "nope.yaml")


# --- config hash ------------------------------------------------------------------


def test_config_hash_is_stable():
    a, b = load_settings(), load_settings()
    assert a.config_hash() == b.config_hash()
    assert len(a.config_hash()) == 16
    assert Settings().config_hash() == a.config_hash()


@pytest.mark.parametrize(
    "change",
    [
        {"seed": 1},
        {"labels": {"min_freq": 10}},
        {"split": {"test_size": 0.2}},
        {"model": {"params": {"C": 1.0}}},
        {"model": {"backend": "rules"}},
        {"policy": {"top_k": 3}},
        {"policy": {"long_tail": {"enabled": False}}},
    ],
)
def test_config_hash_changes_with_training_params(change):
    assert load_settings(**change).config_hash() != load_settings().config_hash()


@pytest.mark.parametrize(
    "change",
    [
        {"home": Path("elsewhere")},
        {"tracking": {"experiment": "x"}},
        {"eval": {"n_boot": 200}},
        {"serving": {"tags": Path("tags.json")}},
    ],
)
def test_config_hash_ignores_run_time_settings(change):
    assert load_settings(**change).config_hash() == load_settings().config_hash()


def test_config_hash_ignores_key_order(tmp_path):
    one = _write(tmp_path / "a.json", {"model": {"params": {"C": 2.0, "min_df": 1}}})
    two = _write(tmp_path / "b.json", {"model": {"params": {"min_df": 1, "C": 2.0}}})
    assert load_settings(one).config_hash() == load_settings(two).config_hash()


def test_long_tail_defaults_and_environment(monkeypatch):
    lt = load_settings().policy.long_tail
    assert (lt.enabled, lt.k, lt.encoder, lt.false_alarm_rate) == (True, 3, "auto", 0.001)
    monkeypatch.setenv("TAGWISE_POLICY__LONG_TAIL__K", "1")
    assert load_settings().policy.long_tail.k == 1
    with pytest.raises(ConfigError, match=r"policy\.long_tail\.false_alarm_rate"):
        load_settings(policy={"long_tail": {"false_alarm_rate": 2}})
