"""Hyper-parameter tuning with Optuna (TPE + median pruning), train+val only.

The objective is cross-validated micro-F1 on train+val (``split.kfold_indices``), at
the best global threshold over the out-of-fold scores; the test split is never read.
Every trial is an MLflow run (through :class:`tagwise.tracking.Tracker`), and the best
configuration is written as a config file (``configs/best.yaml``) that ``tagwise train
--config`` reproduces. The sampler is seeded, so a study is itself reproducible.

Fitted ensemble members are shared between trials (a member with the same parameters
on the same fold is fitted once), which is what makes tuning an ensemble affordable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from tagwise.config import Settings
from tagwise.models.base import FitContext
from tagwise.models.registry import create_model
from tagwise.policy import DecisionPolicy, label_parents, tune_policy
from tagwise.prepare import Prepared
from tagwise.split import Split, kfold_indices
from tagwise.taxonomy import Taxonomy

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    """Default progress callback."""


@dataclass(frozen=True)
class TuneResult:
    """The best trial and where its config was written."""

    best_value: float
    best_params: dict[str, Any]
    model: dict[str, Any]
    n_trials: int
    n_pruned: int
    config_path: Path | None


def ensemble_space(trial, base: dict[str, Any] | None = None) -> dict[str, Any]:
    """The search space of the champion ensemble (TF-IDF member kept at its defaults).

    With ``base`` (an ensemble model config, e.g. ``configs/champion.yaml``'s) only the
    tuned numbers change: its encoder settings (int8, ``max_seq_length``), combiner,
    calibration, folds and member parameters are kept, so the config written is the
    base model with better numbers, not a different (float, slower) model.
    """
    space = _default_ensemble_space(trial)
    if not base or base.get("backend") != "ensemble":
        return space
    return _onto_base(space, base)


def _onto_base(space: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """The tuned ensemble's numbers written onto a copy of ``base``."""
    import copy

    out = copy.deepcopy(base)
    params = out.setdefault("params", {})
    tuned = {m["backend"]: m for m in space["params"]["members"]}
    members = []
    for member in params.get("members", []):
        if member["backend"] == "vocab-match" and "vocab-match" not in tuned:
            continue  # the trial left it out
        if member["backend"] in tuned:
            member = {**member, "params": {**member.get("params", {}),
                                           **tuned[member["backend"]]["params"]}}  # fmt: skip
        members.append(member)
    if "vocab-match" in tuned and not any(m["backend"] == "vocab-match" for m in members):
        members.append(tuned["vocab-match"])
    params["members"] = members
    params["C"] = space["params"]["C"]
    return out


def _default_ensemble_space(trial) -> dict[str, Any]:
    emb_c = trial.suggest_float("embedding_C", 1.0, 64.0, log=True)
    k = trial.suggest_int("knn_k", 5, 40)
    temperature = trial.suggest_float("knn_temperature", 0.03, 0.3, log=True)
    stack_c = trial.suggest_float("stack_C", 0.1, 10.0, log=True)
    use_vocab = trial.suggest_categorical("use_vocab_match", [True, False])
    members = [
        {"backend": "tfidf-linear", "params": {}, "link": "logit"},
        {"backend": "embedding", "params": {"C": round(emb_c, 4)}, "link": "logit"},
        {
            "backend": "knn",
            "params": {"k": k, "temperature": round(temperature, 4)},
            "link": "identity",
        },
    ]
    if use_vocab:
        members.append({"backend": "vocab-match", "params": {}, "link": "identity"})
    return {"backend": "ensemble", "params": {"members": members, "C": round(stack_c, 4)}}


def cross_validated_f1(
    model_cfg: dict[str, Any],
    texts: list[str],
    Y: np.ndarray,
    folds: list[tuple],
    context: FitContext,
    policy: DecisionPolicy,
    *,
    cache: dict | None = None,
    report: Callable[[float, int], None] | None = None,
) -> float:
    """Micro-F1 at the best global threshold over out-of-fold scores of ``folds``.

    ``report(value, step)`` is called after each fold with the score so far (pruning).
    """
    oof = np.zeros(Y.shape)
    seen = np.zeros(Y.shape[0], dtype=bool)
    for step, (tr, va) in enumerate(folds):
        model = create_model(model_cfg["backend"], model_cfg.get("params") or {})
        if cache is not None and hasattr(model, "set_member_cache"):
            model.set_member_cache(cache)
        model.fit([texts[i] for i in tr], Y[tr], context)
        oof[va] = model.predict_proba([texts[i] for i in va])
        seen[va] = True
        if report is not None:
            _, curve = tune_policy(policy, oof[seen], Y[seen])
            report(max(curve), step)
    _, curve = tune_policy(policy, oof, Y)
    return float(max(curve))


@dataclass(frozen=True)
class StudyInputs:
    """What every trial of a study reads: train+val only, the test split never."""

    texts: list[str]
    Y: np.ndarray
    folds: list[tuple]
    context: FitContext
    policy: DecisionPolicy

    def score(
        self,
        model_cfg: dict[str, Any],
        *,
        cache: dict | None = None,
        report: Callable[[float, int], None] | None = None,
    ) -> float:
        """:func:`cross_validated_f1` of ``model_cfg`` on these inputs."""
        return cross_validated_f1(
            model_cfg,
            self.texts,
            self.Y,
            self.folds,
            self.context,
            self.policy,
            cache=cache,
            report=report,
        )


def study_inputs(
    settings: Settings, prepared: Prepared, split: Split, taxonomy: Taxonomy, n_splits: int
) -> StudyInputs:
    """Texts, labels, folds, fit context and base policy of train+val for a study.

    The one set-up of :func:`run_study` and of the Ray study
    (:func:`tagwise.distributed.tuning.run_study_ray`): folds from ``kfold_indices``
    with the settings' seed, the policy's top-k and closure from the settings.
    """
    rows = np.concatenate([split.train, split.val])
    Y = prepared.Y[rows]
    return StudyInputs(
        texts=[prepared.texts[i] for i in rows],
        Y=Y,
        folds=kfold_indices(Y, n_splits=n_splits, seed=settings.seed),
        context=FitContext(
            labels=prepared.labels, taxonomy=taxonomy, mode=prepared.mode, seed=settings.seed
        ),
        policy=DecisionPolicy(
            top_k=settings.policy.top_k,
            closure=settings.policy.closure,
            parents=label_parents(prepared.labels, taxonomy),
        ),
    )


def run_study(
    settings: Settings,
    prepared: Prepared,
    split: Split,
    taxonomy: Taxonomy,
    *,
    n_trials: int = 20,
    n_splits: int = 3,
    space: Callable = ensemble_space,
    tracker=None,
    out: Path | None = None,
    study_name: str = "tagwise-tune",
    progress: Progress = _quiet,
) -> TuneResult:
    """Run a TPE study on train+val and write the best config to ``out``."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    inputs = study_inputs(settings, prepared, split, taxonomy, n_splits)
    cache: dict = {}

    def objective(trial) -> float:
        cfg = space(trial)

        def report(value: float, step: int) -> None:
            trial.report(value, step)
            if trial.should_prune():
                raise optuna.TrialPruned()

        value = inputs.score(cfg, cache=cache, report=report)
        trial.set_user_attr("model", cfg)
        return value

    def log_trial(study, trial) -> None:
        progress(f"trial {trial.number}: {trial.state.name} {trial.value}")
        if tracker is None:
            return
        with tracker.run(f"{study_name}-{trial.number}", tags={"study": study_name}) as run:
            run.params({"trial": trial.number, "state": trial.state.name, **trial.params})
            if trial.value is not None:
                run.metrics({"cv_micro_f1": trial.value})
            for step, value in trial.intermediate_values.items():
                run.metrics({"cv_micro_f1_partial": value}, step=step)

    study = optuna.create_study(
        study_name=study_name,
        direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=settings.seed),
        pruner=optuna.pruners.MedianPruner(n_startup_trials=3, n_warmup_steps=0),
    )
    study.optimize(objective, n_trials=n_trials, callbacks=[log_trial])
    best = study.best_trial
    model = best.user_attrs["model"]
    if out is not None:
        write_config(out, model, settings, best.value, n_splits)
    pruned = sum(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)
    return TuneResult(best.value, dict(best.params), model, len(study.trials), pruned, out)


def write_config(
    path: Path, model: dict[str, Any], settings: Settings, value: float, n_splits: int
) -> Path:
    """Write a config file that ``tagwise train --config`` reproduces."""
    import yaml

    path.parent.mkdir(parents=True, exist_ok=True)
    body = {"seed": settings.seed, "model": model}
    head = (
        f"# Best of an Optuna study: {n_splits}-fold CV micro-F1 {value:.4f} on train+val\n"
        "# (test never used). Written by tagwise.tune.run_study.\n"
    )
    path.write_text(head + yaml.safe_dump(body, sort_keys=False))
    return path
