"""Ray Tune ↔ Optuna glue that keeps the Ray study's history the local study's.

Imported only by :func:`tagwise.distributed.tuning.run_study_ray`, after Ray is known
to be installed (these classes subclass Ray's). Why it exists: stock ``OptunaSearch``
tells Optuna that a trial ASHA stopped early *completed* with its partial (one-fold)
value, and numbers intermediate steps from 1. The local study instead records such a
trial as PRUNED with its per-fold values at steps 0, 1, … — and TPE samples from that
history. :class:`StudySearch` records it the local way, so with one trial at a time the
two studies differ only in *which* trials the scheduler stops; :class:`StudyPruning`
removes that difference too by asking the study's own pruner (the local rule).
"""

from __future__ import annotations

from typing import Any

from ray.tune.schedulers import FIFOScheduler, TrialScheduler
from ray.tune.search.optuna import OptunaSearch


class StudySearch(OptunaSearch):
    """``OptunaSearch`` whose study holds steps and states exactly as the local one."""

    def __init__(self, *args: Any, pruner: Any, n_splits: int, **kwargs: Any) -> None:
        self._pruner = pruner
        self._n_splits = n_splits
        self._reported: dict[str, set[int]] = {}
        self.pruned: set[str] = set()  # trials the local pruning rule stopped
        super().__init__(*args, **kwargs)

    def _setup_study(self, mode: Any) -> None:
        super()._setup_study(mode)
        self._ot_study.pruner = self._pruner  # NopPruner upstream; the local rule here

    @property
    def study(self) -> Any:
        """The Optuna study behind the search (best trial, states, values)."""
        return self._ot_study

    def report(self, trial_id: str, result: dict[str, Any]) -> Any:
        """Record the fold's value at step ``fold - 1`` (idempotent); returns the trial."""
        ot_trial = self._ot_trials[trial_id]
        step = int(result["fold"]) - 1
        seen = self._reported.setdefault(trial_id, set())
        if step not in seen:
            ot_trial.report(float(result[self._metric]), step)
            seen.add(step)
        return ot_trial

    def on_trial_result(self, trial_id: str, result: dict[str, Any]) -> None:
        if trial_id in self._ot_trials and trial_id not in self._completed_trials:
            self.report(trial_id, result)

    def on_trial_complete(
        self, trial_id: str, result: dict[str, Any] | None = None, error: bool = False
    ) -> None:
        stopped = trial_id in self.pruned
        if result and not error and (stopped or int(result.get("fold", 0)) < self._n_splits):
            self.report(trial_id, result)  # the step the scheduler stopped it on
            result = None  # → PRUNED, as optuna.TrialPruned makes it locally
        super().on_trial_complete(trial_id, result, error)


class StudyPruning(FIFOScheduler):
    """Stop a trial exactly when the local study's pruner would (``trial.should_prune``)."""

    def __init__(self, search: StudySearch) -> None:
        super().__init__()
        self._search = search

    def on_trial_result(self, tune_controller: Any, trial: Any, result: dict[str, Any]) -> str:
        if self._search.report(trial.trial_id, result).should_prune():
            self._search.pruned.add(trial.trial_id)
            return TrialScheduler.STOP
        return TrialScheduler.CONTINUE
