"""Pipeline steps that need no training run: the long-tail scorer's parameters and fit."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from tagwise.config import load_settings
from tagwise.models.base import FitContext
from tagwise.models.registry import create_model
from tagwise.pipeline import fit_tail, model_encoder, tail_params
from tagwise.split import iterative_split


def _embeds():
    """A stand-in for a fitted model that embeds texts (only its params matter)."""
    return SimpleNamespace(params={"encoder": "all-MiniLM-L6-v2", "max_seq_length": 128, "C": 1})


def _ensemble():
    """A stand-in for a fitted ensemble whose second member embeds."""
    return SimpleNamespace(params={"members": []}, members_=(object(), _embeds()))


@pytest.fixture(scope="module")
def fitted(tiny_prepared, taxonomy):
    context = FitContext(labels=tiny_prepared.labels, taxonomy=taxonomy)
    split = iterative_split(tiny_prepared.Y, val_size=0.15, test_size=0.15, seed=42)
    X, Y = tiny_prepared.subset(split.train)
    return create_model("tfidf-linear", {"min_df": 1}).fit(X, Y, context), split


def test_auto_encoder_is_hashing_for_tfidf_and_the_models_own_otherwise(fitted):
    model, _ = fitted
    settings = load_settings()
    assert model_encoder(model) is None
    assert tail_params(settings, model)["encoder"] == "hashing"
    assert model_encoder(_ensemble()) == {"encoder": "all-MiniLM-L6-v2", "max_seq_length": 128}
    own = tail_params(settings, _ensemble())
    assert (own["encoder"], own["max_seq_length"]) == ("all-MiniLM-L6-v2", 128)
    explicit = load_settings(policy={"long_tail": {"encoder": "all-MiniLM-L6-v2", "k": 2}})
    params = tail_params(explicit, model)
    assert (params["encoder"], params["k"]) == ("all-MiniLM-L6-v2", 2)


def test_fit_tail_covers_the_vocabulary_outside_the_label_space(fitted, tiny_prepared, taxonomy):
    from tagwise.bundle import ModelBundle
    from tagwise.policy import DecisionPolicy

    model, split = fitted
    bundle = ModelBundle(model=model, policy=DecisionPolicy(), taxonomy=taxonomy)
    tail = fit_tail(bundle, tiny_prepared, split, taxonomy, load_settings())
    head = set(tiny_prepared.labels.labels)
    assert set(tail.tags_) == set(taxonomy.tags) - head
    assert tail.params["encoder"] == "hashing" and tail.floors_["zero-shot"] is not None
    # few-shot examples come from train+val only
    rows = np.concatenate([split.train, split.val])
    seen = set().union(*(tiny_prepared.tag_sets[i] for i in rows)) - head
    shot = {t for t, n in zip(tail.tags_, tail.shots_, strict=True) if n}
    assert shot and shot <= seen

    zero = fit_tail(
        bundle,
        tiny_prepared,
        split,
        taxonomy,
        load_settings(policy={"long_tail": {"few_shot": False}}),
    )
    assert not zero.shots_.any() and zero.floors_["zero-shot"] is not None
    assert np.isfinite(zero.prototypes_).all()


def test_fit_tail_is_off_when_disabled_or_single_label(fitted, tiny_prepared, taxonomy):
    from dataclasses import replace

    from tagwise.bundle import ModelBundle
    from tagwise.policy import DecisionPolicy

    model, split = fitted
    bundle = ModelBundle(model=model, policy=DecisionPolicy(), taxonomy=taxonomy)
    off = load_settings(policy={"long_tail": {"enabled": False}})
    assert fit_tail(bundle, tiny_prepared, split, taxonomy, off) is None
    single = replace(tiny_prepared, mode="single")
    assert fit_tail(bundle, single, split, taxonomy, load_settings()) is None
