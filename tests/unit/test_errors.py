"""The error hierarchy: every TagwiseError survives pickling (Ray and multiprocessing)."""

from __future__ import annotations

import copy
import pickle

import pytest

import tagwise.feedback.record
import tagwise.serving.errors
import tagwise.serving.routes_impact
import tagwise.serving.search_state  # noqa: F401  (defines subclasses the walk must see)
from tagwise.errors import DataFormatError, TagwiseError
from tagwise.feedback.record import InvalidTagsError


def _subclasses(cls: type) -> list[type]:
    """Every subclass tagwise itself defines (not the ones tests make up)."""
    found = []
    for sub in cls.__subclasses__():
        if sub.__module__.startswith("tagwise."):
            found.append(sub)
        found += _subclasses(sub)
    return found


def _roundtrip(exc: BaseException) -> BaseException:
    return pickle.loads(pickle.dumps(exc))


def _same(a: BaseException, b: BaseException) -> None:
    assert type(b) is type(a)
    assert str(b) == str(a) and b.args == a.args
    assert vars(b) == vars(a)


def test_data_format_error_keeps_its_path_line_and_message():
    exc = DataFormatError("in.jsonl", "not JSON (Expecting value)", line=32)
    back = _roundtrip(exc)
    _same(exc, back)
    assert (back.path, back.line, back.message) == (
        "in.jsonl",
        32,
        "in.jsonl:32: not JSON (Expecting value)",
    )
    assert back.http_status == 400


def test_invalid_tags_error_keeps_its_field_errors():
    exc = InvalidTagsError([("accepted[0]", "unknown tag 'x'"), ("added[1]", "unknown tag 'y'")])
    back = _roundtrip(exc)
    _same(exc, back)
    assert back.errors == [("accepted[0]", "unknown tag 'x'"), ("added[1]", "unknown tag 'y'")]


def test_a_subclass_with_keyword_only_fields_round_trips():
    class _Custom(TagwiseError):
        def __init__(self, *, name: str, count: int) -> None:
            super().__init__(f"{name}: {count}")
            self.name, self.count = name, count

    exc = _Custom(name="shard", count=3)
    back = copy.deepcopy(exc)  # the same __reduce__ as pickle, without a module-level class
    _same(exc, back)
    assert (back.name, back.count) == ("shard", 3)


def test_added_notes_survive():
    exc = DataFormatError("a.csv", "bad header")
    exc.add_note("while loading the catalogue")
    assert _roundtrip(exc).__notes__ == ["while loading the catalogue"]


SIMPLE = [c for c in _subclasses(TagwiseError) if "__init__" not in vars(c)]


@pytest.mark.parametrize("cls", [TagwiseError, *SIMPLE], ids=lambda c: c.__name__)
def test_every_message_only_error_round_trips(cls):
    exc = cls("something went wrong")
    _same(exc, _roundtrip(exc))
    assert _roundtrip(exc).message == "something went wrong"


def test_every_subclass_with_its_own_init_is_covered_above():
    custom = {c.__name__ for c in _subclasses(TagwiseError) if "__init__" in vars(c)}
    assert custom <= {"DataFormatError", "InvalidTagsError"}, (
        f"add a pickling test for {sorted(custom - {'DataFormatError', 'InvalidTagsError'})}"
    )
