"""Baselines that any learned model must beat: random, label prior, vocabulary rules."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from tagwise.models.base import FitContext, TagModel, load_array, save_array
from tagwise.models.lexical import VocabularyModel
from tagwise.taxonomy import Taxonomy


class RandomModel(TagModel):
    """Uniform random scores, seeded per text so the same text always scores the same."""

    name = "random"
    defaults: ClassVar[dict[str, Any]] = {"seed": 42}

    def _fit(self, texts: list[str], Y: np.ndarray, context: FitContext) -> None:
        """Nothing to learn: scores depend only on the text digest and the seed."""

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        rows = []
        for text in texts:
            digest = hashlib.sha256(f"{self.params['seed']}:{text}".encode()).digest()
            rng = np.random.default_rng(int.from_bytes(digest[:8], "little"))
            rows.append(rng.random(len(self.labels_)))
        return np.vstack(rows)


class PriorModel(TagModel):
    """Every project gets each label's training frequency: 'always suggest the popular tags'."""

    name = "prior"
    defaults: ClassVar[dict[str, Any]] = {}

    def _fit(self, texts: list[str], Y: np.ndarray, context: FitContext) -> None:
        self.prior_ = Y.mean(axis=0).astype(np.float64)

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        return np.tile(self.prior_, (len(texts), 1))

    def _save(self, directory: Path) -> None:
        save_array(directory / "prior.npy", self.prior_)

    def _load(self, directory: Path) -> None:
        self.prior_ = load_array(directory / "prior.npy")


def _term_pattern(term: str) -> str:
    """Regex for a tag or alias in normalised text: hyphens match a hyphen, space or nothing."""
    parts = [re.escape(p) for p in term.split("-") if p]
    return r"(?<![\w])" + r"[\s\-]?".join(parts) + r"s?(?![\w])"


class RulesModel(VocabularyModel):
    """Vocabulary matching: a tag (or alias) named in the text is suggested with its parents.

    A direct match scores ``direct``; a tag reached only as a parent scores ``parent``.
    """

    name = "rules"

    def _compile(self, taxonomy: Taxonomy, labels: list[str]) -> None:
        self._taxonomy = taxonomy
        self._col = {t: i for i, t in enumerate(labels)}
        terms: dict[str, str] = {}
        for entry in taxonomy.entries:
            for term in (entry.tag, *entry.aliases):
                if len(term) >= 2:
                    terms.setdefault(term, entry.tag)
        self._terms = terms
        alternatives = sorted(terms, key=len, reverse=True)
        self._regex = re.compile(
            "|".join(f"(?P<t{i}>{_term_pattern(t)})" for i, t in enumerate(alternatives))
            or r"(?!)"  # no terms: match nothing (an empty pattern would match everywhere)
        )
        self._group_tag = {f"t{i}": terms[t] for i, t in enumerate(alternatives)}

    def _predict_proba(self, texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), len(self._col)), dtype=np.float64)
        for row, text in enumerate(texts):
            for match in self._regex.finditer(text):
                tag = self._group_tag[match.lastgroup or ""]
                for anc in self._taxonomy.ancestors(tag):
                    if anc in self._col:
                        out[row, self._col[anc]] = max(
                            out[row, self._col[anc]], self.params["parent"]
                        )
                if tag in self._col:
                    out[row, self._col[tag]] = self.params["direct"]
        return out
