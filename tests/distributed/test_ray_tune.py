"""``tune --backend ray``: the local study's space on Ray Tune, same best config, MLflow runs."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("ray", exc_type=ImportError)

from api_support import TAGS, TINY

from tagwise.pipeline import load_inputs, make_split, prepare_dataset
from tagwise.tracking import Tracker
from tagwise.tune import run_study


def tfidf_space(trial) -> dict:
    """A small TF-IDF space: cheap enough for a test, still three kinds of parameter."""
    return {
        "backend": "tfidf-linear",
        "params": {
            "C": round(trial.suggest_float("C", 0.5, 50.0, log=True), 4),
            "word_ngrams": [1, trial.suggest_int("word_max", 1, 2)],
            "min_df": trial.suggest_int("min_df", 1, 3),
        },
    }


def test_ray_tune_reaches_the_local_best_config_and_logs_every_trial(
    ray_cluster, ray_settings, tmp_path: Path
):
    from ray import cloudpickle

    from tagwise.distributed.tuning import run_study_ray

    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers can't import tests
    loaded, taxonomy = load_inputs(TINY, TAGS, ray_settings)
    prepared = prepare_dataset(loaded, taxonomy, ray_settings)
    split = make_split(prepared, ray_settings)
    common = {"n_trials": 4, "n_splits": 3, "space": tfidf_space}
    local = run_study(
        ray_settings, prepared, split, taxonomy, out=tmp_path / "local.yaml", **common
    )
    tracker = Tracker.from_settings(ray_settings)
    remote = run_study_ray(
        ray_settings,
        prepared,
        split,
        taxonomy,
        out=tmp_path / "ray.yaml",
        tracker=tracker,
        max_concurrent=1,
        scheduler="median",
        study_name="ray-study",
        **common,
    )
    assert remote.model == local.model and remote.best_value == pytest.approx(local.best_value)
    assert (tmp_path / "ray.yaml").read_text() == (tmp_path / "local.yaml").read_text()

    runs = tracker.client.search_runs([tracker.experiment_id()], "tags.study = 'ray-study'")
    parents = [r for r in runs if "mlflow.parentRunId" not in r.data.tags]
    children = [r for r in runs if "mlflow.parentRunId" in r.data.tags]
    assert len(parents) == 1 and len(children) == 4
    assert {r.data.tags["mlflow.parentRunId"] for r in children} == {parents[0].info.run_id}
    assert {r.data.params["state"] for r in children} <= {"COMPLETE", "PRUNED"}


def test_the_pruner_is_the_local_studys():
    """``median`` mode claims to apply run_study's pruner: keep the two in step."""
    import inspect

    from tagwise import tune
    from tagwise.distributed.tuning import local_pruner

    pruner = local_pruner()
    source = inspect.getsource(tune.run_study)
    assert f"MedianPruner(n_startup_trials={pruner._n_startup_trials}, " in source
    assert f"n_warmup_steps={pruner._n_warmup_steps})" in source
