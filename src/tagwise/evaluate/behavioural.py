"""Behavioural tests of a tag suggester (after Ribeiro et al., CheckList, 2020).

Three kinds of case, kept as data in ``behavioural_cases.json`` so that adding one is
an edit to a JSON file, not to code:

* ``minimum_functionality`` — ``text`` must get every tag in ``expected``.
* ``invariance`` — ``text`` and ``perturbed`` (a synonym swap, a typo, another verb)
  must get the same *set* of suggested tags, compared inside the model's label space.
* ``directional`` — ``perturbed`` adds a cue to ``text`` ("... using BERT") and must
  get every tag in ``added``.

The suggester is any ``Callable[[list[str]], list[list[str]]]`` (a batch of texts to a
batch of tag lists), so this module does not depend on a model class.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Literal, get_args

from tagwise.errors import DataFormatError

Kind = Literal["invariance", "directional", "minimum_functionality"]
KINDS: tuple[str, ...] = get_args(Kind)
_CASES_RESOURCE = "behavioural_cases.json"


@dataclass(frozen=True)
class BehaviouralCase:
    """One behavioural case. ``expected`` is for minimum functionality, ``added`` for
    directional cases, ``perturbed`` for invariance and directional cases."""

    kind: Kind
    name: str
    text: str
    perturbed: str | None = None
    expected: tuple[str, ...] = ()
    added: tuple[str, ...] = ()

    @property
    def required_tags(self) -> tuple[str, ...]:
        """Tags the case asserts are suggested (empty for invariance)."""
        return self.expected if self.kind == "minimum_functionality" else self.added


@dataclass
class BehaviouralResult:
    """Outcome of ``run_cases``.

    ``pass_rate`` is over evaluated cases (skipped ones excluded); 0.0 when no case
    could be evaluated, so an empty run never looks like success. ``by_kind`` only
    holds kinds with at least one evaluated case. ``results`` has one dict per
    evaluated case: {name, kind, passed, got, expected}; for invariance ``expected`` is
    the tag set of the original text and ``got`` that of the perturbed one.
    """

    pass_rate: float
    by_kind: dict[str, float]
    results: list[dict]
    skipped: list[str] = field(default_factory=list)

    @property
    def n_evaluated(self) -> int:
        return len(self.results)

    @property
    def n_passed(self) -> int:
        return sum(r["passed"] for r in self.results)

    @property
    def n_skipped(self) -> int:
        return len(self.skipped)

    @property
    def failures(self) -> list[dict]:
        return [r for r in self.results if not r["passed"]]


def _parse_case(raw: object, where: str) -> BehaviouralCase:
    """Build one case from its JSON object, with an error naming the case on bad input."""
    if not isinstance(raw, dict):
        raise DataFormatError(where, "a case must be a JSON object")
    kind = raw.get("kind")
    if kind not in KINDS:
        raise DataFormatError(where, f"kind {kind!r} is not one of {list(KINDS)}")
    required = {"name", "text"} | {
        "minimum_functionality": {"expected"},
        "invariance": {"perturbed"},
        "directional": {"perturbed", "added"},
    }[kind]
    allowed = required | {"kind"}
    missing = sorted(required - raw.keys())
    extra = sorted(raw.keys() - allowed)
    if missing or extra:
        raise DataFormatError(where, f"{kind} case: missing {missing}, unexpected {extra}")
    for key in ("expected", "added"):
        if key in raw and (not raw[key] or not all(isinstance(t, str) for t in raw[key])):
            raise DataFormatError(where, f"{key!r} must be a non-empty list of tags")
    return BehaviouralCase(
        kind=kind,
        name=str(raw["name"]),
        text=str(raw["text"]),
        perturbed=raw.get("perturbed"),
        expected=tuple(raw.get("expected", ())),
        added=tuple(raw.get("added", ())),
    )


def load_cases(path: Path | None = None) -> list[BehaviouralCase]:
    """Load cases from ``path``, or from the bundled ``behavioural_cases.json``."""
    if path is None:
        source = resources.files("tagwise.evaluate").joinpath(_CASES_RESOURCE)
        where = f"tagwise.evaluate/{_CASES_RESOURCE}"
    else:
        source, where = Path(path), str(path)
    try:
        raw = json.loads(source.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise DataFormatError(where, f"invalid JSON: {exc.msg}", line=exc.lineno) from exc
    if not isinstance(raw, list):
        raise DataFormatError(where, "expected a JSON list of cases")
    cases = [_parse_case(item, f"{where}[{i}]") for i, item in enumerate(raw)]
    names = [c.name for c in cases]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise DataFormatError(where, f"duplicate case names {duplicates}")
    return cases


def _restrict(tags: Iterable[str], labels: set[str] | None) -> list[str]:
    return sorted({t for t in tags if labels is None or t in labels})


def _judge(case: BehaviouralCase, got_text: list[str], got_perturbed: list[str] | None) -> dict:
    if case.kind == "invariance":
        assert got_perturbed is not None
        passed, got, expected = got_text == got_perturbed, got_perturbed, got_text
    elif case.kind == "directional":
        assert got_perturbed is not None
        got, expected = got_perturbed, list(case.added)
        passed = set(expected) <= set(got)
    else:
        got, expected = got_text, list(case.expected)
        passed = set(expected) <= set(got)
    return {
        "name": case.name,
        "kind": case.kind,
        "passed": passed,
        "got": got,
        "expected": expected,
    }


def run_cases(
    cases: list[BehaviouralCase],
    suggest: Callable[[list[str]], list[list[str]]],
    *,
    labels: set[str] | None = None,
) -> BehaviouralResult:
    """Run the cases through ``suggest`` in one batch and score them.

    ``labels`` is the model's label space: suggestions are compared inside it, and a
    case asserting a tag outside it is *skipped* (the model cannot predict that tag, so
    the case says nothing about it) rather than failed.
    """
    runnable: list[BehaviouralCase] = []
    skipped: list[str] = []
    for case in cases:
        if labels is not None and not set(case.required_tags) <= labels:
            skipped.append(case.name)
        else:
            runnable.append(case)
    batch: list[str] = []
    for case in runnable:
        batch.append(case.text)
        if case.perturbed is not None:
            batch.append(case.perturbed)
    suggestions = suggest(batch) if batch else []
    if len(suggestions) != len(batch):
        raise ValueError(f"suggest returned {len(suggestions)} lists for {len(batch)} texts")
    it = iter(suggestions)
    results = []
    for case in runnable:
        got_text = _restrict(next(it), labels)
        got_perturbed = _restrict(next(it), labels) if case.perturbed is not None else None
        results.append(_judge(case, got_text, got_perturbed))
    by_kind = {
        kind: sum(r["passed"] for r in rs) / len(rs)
        for kind in KINDS
        if (rs := [r for r in results if r["kind"] == kind])
    }
    pass_rate = sum(r["passed"] for r in results) / len(results) if results else 0.0
    return BehaviouralResult(pass_rate, by_kind, results, skipped)
