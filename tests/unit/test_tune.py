"""Optuna tuning on train+val only: trials tracked, best config written and reproducible."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tagwise.config import load_settings
from tagwise.models.base import FitContext
from tagwise.policy import DecisionPolicy, label_parents
from tagwise.split import iterative_split, kfold_indices
from tagwise.tune import cross_validated_f1, run_study

pytest.importorskip("optuna")


def tiny_space(trial) -> dict:
    k = trial.suggest_int("knn_k", 1, 10)
    return {
        "backend": "ensemble",
        "params": {
            "members": [
                {"backend": "embedding", "params": {"encoder": "hashing"}},
                {
                    "backend": "knn",
                    "params": {"encoder": "hashing", "k": k},
                    "link": "identity",
                },
            ],
            "cv_folds": 2,
        },
    }


def test_study_writes_a_reproducible_best_config(tiny_prepared, taxonomy, tmp_path):
    settings = load_settings(home=tmp_path, tracking={"enabled": False})
    split = iterative_split(tiny_prepared.Y, seed=42)
    out = tmp_path / "configs" / "best.yaml"
    trials: list[str] = []
    result = run_study(
        settings,
        tiny_prepared,
        split,
        taxonomy,
        n_trials=4,
        n_splits=2,
        space=tiny_space,
        out=out,
        progress=trials.append,
    )
    assert result.n_trials == 4 and len(trials) == 4
    assert 0 < result.best_value <= 1
    best = load_settings(out, home=tmp_path)
    assert best.model.backend == "ensemble"
    assert best.model.params == result.model["params"]
    # the written config reproduces the study's number
    rows = np.concatenate([split.train, split.val])
    Y = tiny_prepared.Y[rows]
    value = cross_validated_f1(
        best.model.model_dump(),
        [tiny_prepared.texts[i] for i in rows],
        Y,
        kfold_indices(Y, n_splits=2, seed=42),
        FitContext(labels=tiny_prepared.labels, taxonomy=taxonomy),
        DecisionPolicy(parents=label_parents(tiny_prepared.labels, taxonomy)),
    )
    assert value == pytest.approx(result.best_value)


def test_trials_are_tracked_in_mlflow(tiny_prepared, taxonomy, tmp_path):
    from tagwise.tracking import Tracker

    settings = load_settings(home=tmp_path)
    tracker = Tracker.from_settings(settings)
    split = iterative_split(tiny_prepared.Y, seed=42)
    run_study(
        settings,
        tiny_prepared,
        split,
        taxonomy,
        n_trials=2,
        n_splits=2,
        space=tiny_space,
        tracker=tracker,
    )
    runs = tracker.client.search_runs([tracker.experiment_id()])
    assert len(runs) == 2
    assert all(r.data.tags.get("study") == "tagwise-tune" for r in runs)
    assert all("cv_micro_f1" in r.data.metrics for r in runs)


def test_study_inputs_are_train_and_val_only_with_seeded_folds(tiny_prepared, taxonomy, tmp_path):
    from tagwise.tune import study_inputs

    settings = load_settings(home=tmp_path, tracking={"enabled": False})
    split = iterative_split(tiny_prepared.Y, seed=42)
    inputs = study_inputs(settings, tiny_prepared, split, taxonomy, n_splits=2)
    rows = np.concatenate([split.train, split.val])
    assert inputs.texts == [tiny_prepared.texts[i] for i in rows]
    assert not {tiny_prepared.texts[i] for i in split.test} & set(inputs.texts)
    np.testing.assert_array_equal(inputs.Y, tiny_prepared.Y[rows])
    expected = kfold_indices(tiny_prepared.Y[rows], n_splits=2, seed=settings.seed)
    assert [(list(a), list(b)) for a, b in inputs.folds] == [
        (list(a), list(b)) for a, b in expected
    ]
    assert inputs.context.seed == settings.seed and inputs.context.mode == tiny_prepared.mode
    assert inputs.policy.top_k == settings.policy.top_k


def test_local_and_ray_studies_share_one_set_up(tiny_prepared, taxonomy, tmp_path, monkeypatch):
    """run_study and run_study_ray both build their inputs with tune.study_inputs."""
    from tagwise import tune
    from tagwise.distributed import tuning

    assert tuning.study_inputs is tune.study_inputs
    calls: list[int] = []
    real = tune.study_inputs

    def spy(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(tune, "study_inputs", spy)
    settings = load_settings(home=tmp_path, tracking={"enabled": False})
    split = iterative_split(tiny_prepared.Y, seed=42)
    run_study(settings, tiny_prepared, split, taxonomy, n_trials=1, n_splits=2, space=tiny_space)
    assert calls == [1]


def test_the_space_keeps_the_configured_ensemble_and_tunes_its_numbers():
    import optuna
    import yaml

    from tagwise.tune import ensemble_space

    champion = Path(__file__).parents[2] / "configs" / "champion.yaml"
    base = yaml.safe_load(champion.read_text())["model"]
    params = {"embedding_C": 4.0, "knn_k": 7, "knn_temperature": 0.05, "stack_C": 2.0}
    tuned = ensemble_space(optuna.trial.FixedTrial({**params, "use_vocab_match": False}), base)
    p = tuned["params"]
    assert (p["combiner"], p["cv_folds"], p["C"]) == ("stack", base["params"]["cv_folds"], 2.0)
    emb, knn = (next(m for m in p["members"] if m["backend"] == b) for b in ("embedding", "knn"))
    assert emb["params"]["quantization"] == "int8" and emb["params"]["max_seq_length"] == 128
    assert emb["params"]["C"] == 4.0
    assert (knn["params"]["k"], knn["params"]["temperature"]) == (7, 0.05)
    assert [m["backend"] for m in p["members"]] == ["tfidf-linear", "embedding", "knn"]
    with_vocab = ensemble_space(optuna.trial.FixedTrial({**params, "use_vocab_match": True}), base)
    assert with_vocab["params"]["members"][-1]["backend"] == "vocab-match"
    default = ensemble_space(optuna.trial.FixedTrial({**params, "use_vocab_match": True}))
    assert "combiner" not in default["params"]  # no base: the default space, as before
