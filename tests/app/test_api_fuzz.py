"""The whole OpenAPI, fuzzed with schemathesis and all its checks (both databases):
no 5xx, every status documented, every body as its schema says, `Allow` on 405,
schema-valid requests accepted. Bounded: a few dozen cases per operation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance
from sqlalchemy.engine import Engine

from app.main import create_app
from app.runtime import build_runtime
from app.settings import Settings
from tests.app.helpers import admin_headers
from tests.conftest import FIXTURES

EXAMPLES = 25
CROSS_PARAMETER = (
    "must be before",  # from, to
    "needs both 'from' and 'to'",  # compare
    "is above 'rating_max'",
    "needs a period with one before it",  # compare, from
    "cursor is not one this API issued",  # an opaque token only the API makes
)
"""Rules between parameters, which no OpenAPI schema can say: a schema-valid request
may break one and get a 400 that names it. Any other 400 to valid data fails."""


@pytest.fixture
def app(engine: Engine) -> Iterator[FastAPI]:
    runtime = build_runtime(
        Settings(
            database_url=str(engine.url),
            sources_file=FIXTURES / "app" / "sources.yaml",
            scheduler_enabled=False,
        ),
        engine=engine,
    )
    application = create_app(runtime=runtime, start_scheduler=False)
    with TestClient(application):
        yield application


def _fuzz(operation: Any, headers: dict[str, str]) -> None:
    cross = any(p.name in ("from", "compare", "rating_min", "cursor") for p in operation.query)
    excluded = [positive_data_acceptance] if cross else []

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def run(case: schemathesis.Case) -> None:
        response = case.call_and_validate(headers=headers, excluded_checks=excluded)
        if cross and response.status_code == 400:
            detail = response.json()["detail"]
            assert any(rule in detail for rule in CROSS_PARAMETER), detail

    run()


def _told(exc: BaseException) -> str:
    """The failure and, for a group (Hypothesis's flaky or multiple failures), what
    each part said: "1 sub-exception" alone tells nothing."""
    told = str(exc)[:800]
    for part in getattr(exc, "exceptions", ())[:3]:
        told += f"\n  - {type(part).__name__}: {str(part)[:800]}"
    return told


def test_every_operation_holds_to_its_schema(app: FastAPI, engine: Engine) -> None:
    headers = admin_headers(engine)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    failures: list[str] = []
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:
        try:
            _fuzz(operation, headers)
        except BaseException as exc:  # noqa: BLE001 (every operation's failures, listed)
            failures.append(f"{operation.label}: {_told(exc)}")
    assert not failures, "\n\n".join(failures)
