"""``tagwise tune --backend ray``: the local Optuna study's search space on Ray Tune.

Why it reuses rather than re-implements :mod:`tagwise.tune`: the search space is the
same define-by-run function (handed to ``OptunaSearch`` with the same seeded TPE
sampler), the train+val texts, folds, fit context and policy come from the same
:func:`tagwise.tune.study_inputs`, each trial's objective is the same
:func:`tagwise.tune.cross_validated_f1` (one reported step per fold, so ASHA can stop
a poor trial after its first folds), and the best configuration is written by the
same :func:`tagwise.tune.write_config`. Only
the scheduling differs: trials run as Ray tasks with ``cpus_per_trial`` CPUs each,
possibly on other machines, and poor trials are stopped by ASHA (or, with
``scheduler="median"``, by the local study's own pruner; see :mod:`.optuna_bridge`).

A trial rebuilds its model config by replaying the space function on an
``optuna.trial.FixedTrial`` of the sampled parameters, so nothing but plain numbers
crosses the wire. MLflow is written from the driver only (a Tune callback), one child
run per trial under one parent run of the study, so workers need no access to the
tracking store.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tagwise.config import Settings
from tagwise.distributed.runtime import import_ray, ray_session
from tagwise.errors import ConfigError
from tagwise.prepare import Prepared
from tagwise.split import Split
from tagwise.taxonomy import Taxonomy
from tagwise.tune import StudyInputs, TuneResult, ensemble_space, study_inputs, write_config

FEATURE = "tagwise tune --backend ray"
METRIC = "cv_micro_f1"
Progress = Callable[[str], None]
PARENT_TAG = "mlflow.parentRunId"
SCHEDULERS = ("asha", "median")


def _quiet(_: str) -> None:
    """Default progress callback."""


def replay_space(space: Callable, params: dict[str, Any]) -> dict[str, Any]:
    """The model config ``space`` builds from already-sampled ``params``."""
    import optuna

    return space(optuna.trial.FixedTrial(params))


def _trainable(config: dict[str, Any], *, space: Callable, data: StudyInputs) -> None:
    """One Tune trial: cross-validated micro-F1, one reported step per fold."""
    from ray import tune

    def report(value: float, step: int) -> None:
        tune.report({METRIC: value, "fold": step + 1})

    data.score(replay_space(space, config), report=report)


def run_study_ray(
    settings: Settings,
    prepared: Prepared,
    split: Split,
    taxonomy: Taxonomy,
    *,
    n_trials: int = 20,
    n_splits: int = 3,
    space: Callable = ensemble_space,
    tracker: Any = None,
    out: Path | None = None,
    study_name: str = "tagwise-tune",
    cpus_per_trial: float = 1,
    max_concurrent: int | None = None,
    address: str | None = None,
    scheduler: str = "asha",
    progress: Progress = _quiet,
) -> TuneResult:
    """Run the study on Ray Tune (OptunaSearch + a scheduler); the local result type.

    ``scheduler="asha"`` stops poor trials after their first folds by ASHA;
    ``"median"`` applies the local study's median pruner instead. Either way a stopped
    trial is PRUNED in the Optuna study (as locally) and cannot be the best one. With
    ``max_concurrent=1`` and ``"median"`` the study replays the local one exactly (TPE
    sees the same history); with ASHA or more concurrent trials it may diverge, because
    different trials are stopped or TPE is asked before earlier trials have finished.
    """
    if scheduler not in SCHEDULERS:
        raise ConfigError(f"scheduler {scheduler!r}: use one of {', '.join(SCHEDULERS)}")
    tune = import_ray(FEATURE, "tune")
    import optuna
    from ray.tune.schedulers import ASHAScheduler

    from tagwise.distributed.optuna_bridge import StudyPruning, StudySearch

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    data = study_inputs(settings, prepared, split, taxonomy, n_splits)
    searcher = StudySearch(
        space=functools.partial(_define_by_run, space),
        metric=METRIC,
        mode="max",
        sampler=optuna.samplers.TPESampler(seed=settings.seed),
        pruner=local_pruner(),
        n_splits=n_splits,
    )
    trial_scheduler = (
        ASHAScheduler(
            time_attr="training_iteration", max_t=n_splits, grace_period=1, reduction_factor=2
        )
        if scheduler == "asha"
        else StudyPruning(searcher)
    )
    log = _TrialLog(tracker, study_name, n_splits, progress)
    with ray_session(FEATURE, address=address):
        trainable = tune.with_resources(
            tune.with_parameters(_trainable, space=space, data=data), {"cpu": cpus_per_trial}
        )
        tuner = tune.Tuner(
            trainable,
            tune_config=tune.TuneConfig(
                metric=METRIC,
                mode="max",
                search_alg=searcher,
                scheduler=trial_scheduler,
                num_samples=n_trials,
                max_concurrent_trials=max_concurrent,
                reuse_actors=True,  # a trial process imports sklearn once, not per trial
            ),
            run_config=tune.RunConfig(
                name=f"{study_name}-{int(time.time())}",
                storage_path=str((settings.home / "ray-tune").resolve()),
                callbacks=[log.callback(tune)],
                verbose=0,
            ),
        )
        with log.parent():
            grid = tuner.fit()
    study = searcher.study
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not complete:
        raise RuntimeError("no trial ran all folds; see the Ray Tune logs")
    best = study.best_trial  # the local rule: highest value, first on a tie
    model = replay_space(space, best.params)
    if out is not None:
        write_config(out, model, settings, float(best.value), n_splits)
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    return TuneResult(float(best.value), dict(best.params), model, len(grid), pruned, out)


def local_pruner() -> Any:
    """The pruner of :func:`tagwise.tune.run_study` (kept in step with it by a test)."""
    import optuna

    return optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0)


def _define_by_run(space: Callable, trial: Any) -> None:
    """Let ``space`` sample through the captured trial; its return value is rebuilt later."""
    space(trial)


class _TrialLog:
    """MLflow from the driver: a parent run for the study, a child run per finished trial."""

    def __init__(self, tracker: Any, study_name: str, n_splits: int, progress: Progress) -> None:
        self.tracker = tracker
        self.study_name = study_name
        self.n_splits = n_splits
        self.progress = progress
        self.parent_id: str | None = None
        self.steps: dict[str, dict[int, float]] = {}
        self.number: dict[str, int] = {}

    def parent(self):
        """The parent run's context (a no-op without a tracker)."""
        import contextlib

        if self.tracker is None:
            return contextlib.nullcontext()

        @contextlib.contextmanager
        def run():
            tags = {"study": self.study_name, "backend": "ray"}
            with self.tracker.run(self.study_name, tags=tags) as parent:
                self.parent_id = parent.run_id
                yield parent

        return run()

    def callback(self, tune: Any) -> Any:
        """A ``tune.Callback`` that records each trial's folds and logs it when it ends."""
        log = self

        class Callback(tune.Callback):
            def on_trial_start(self, iteration, trials, trial, **info):
                log.number.setdefault(trial.trial_id, len(log.number))

            def on_trial_result(self, iteration, trials, trial, result, **info):
                log.steps.setdefault(trial.trial_id, {})[int(result["fold"])] = result[METRIC]

            def on_trial_complete(self, iteration, trials, trial, **info):
                log.finish(trial.trial_id, trial.config)

            def on_trial_error(self, iteration, trials, trial, **info):
                log.finish(trial.trial_id, trial.config, failed=True)

        return Callback()

    def finish(self, trial_id: str, config: dict[str, Any], failed: bool = False) -> None:
        """Log one trial (COMPLETE, PRUNED by ASHA, or FAIL) as a child of the study run."""
        steps = self.steps.get(trial_id, {})
        done = len(steps) == self.n_splits
        state = "FAIL" if failed else "COMPLETE" if done else "PRUNED"
        value = steps.get(self.n_splits)
        number = self.number.setdefault(trial_id, len(self.number))
        self.progress(f"trial {number}: {state} {value}")
        if self.tracker is None or self.parent_id is None:
            return
        name = f"{self.study_name}-{number}"
        tags = {"study": self.study_name, PARENT_TAG: self.parent_id, "backend": "ray"}
        with self.tracker.run(name, tags=tags) as run:
            run.params({"trial": number, "state": state, **config})
            if value is not None:
                run.metrics({METRIC: value})
            for step, partial in sorted(steps.items()):
                run.metrics({f"{METRIC}_partial": partial}, step=step - 1)
