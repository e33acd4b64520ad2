"""Schemathesis against /openapi.json: no 500s, every response matches the schema.

Positive cases (valid by the schema) and negative ones (broken on purpose) for every
operation, bounded to a few dozen examples each so the run stays in seconds; run more
with ``TAGWISE_FUZZ_EXAMPLES=500 pytest tests/api/test_openapi_fuzz.py``.

(The ``schema.parametrize`` pytest integration needs the schema at import, but ours
comes from a trained fixture, so each operation's strategy is driven by hand.)
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from api_support import ADMIN_TOKEN
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
)

from tagwise.serving import create_app

MAX_EXAMPLES = int(os.environ.get("TAGWISE_FUZZ_EXAMPLES", "20"))
AUTH = {"authorization": f"Bearer {ADMIN_TOKEN}"}
REJECTION_STATUSES = ["400", "401", "403", "404", "405", "406", "409", "413", "415", "422"]
"""Schemathesis' defaults plus 413, our documented answer to a batch over the limit."""
SEMANTIC_422 = {"/v1/feedback", "/v1/search"}
"""Schema-valid feedback or search may still name tags outside the vocabulary (or a
``from`` after ``to``): a documented 422 that no schema can express (the vocabulary
belongs to the served model and hot-swaps)."""


@pytest.fixture(scope="module")
def api_schema(settings, tmp_path_factory):
    db = tmp_path_factory.mktemp("fuzz") / "feedback.db"
    app = create_app(settings.model_copy(update={"database_url": f"sqlite:///{db}"}))
    config = SchemathesisConfig.from_dict(
        {"checks": {"negative_data_rejection": {"expected-statuses": REJECTION_STATUSES}}}
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app, config=config)


def _fuzz(operation, mode: GenerationMode) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def run(case) -> None:
        excluded = [positive_data_acceptance] if case.path in SEMANTIC_422 else []
        headers = None
        if "/admin/" in case.path:
            # We always send the right token, so a "missing Authorization" negative case is
            # not one, and ``ignored_auth`` probes re-send it; test_ops.py checks the
            # admin endpoint's 401/403 answers directly instead.
            headers, excluded = AUTH, [*excluded, ignored_auth, negative_data_rejection]
        case.call_and_validate(headers=headers, excluded_checks=excluded or None)

    run()


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_api_conforms_to_its_schema(api_schema, mode):
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) >= 10
    failures = []
    for operation in operations:
        try:
            _fuzz(operation, mode)
        except Unsatisfiable:
            assert mode is GenerationMode.NEGATIVE, "only a route without input has no bad input"
        except Exception as exc:  # collect all, so one run shows every broken operation
            failures.append(f"{operation.method.upper()} {operation.path}: {exc}")
    assert not failures, "\n\n".join(failures)
