"""Every service's OpenAPI, fuzzed: schemathesis generates valid and invalid requests for
every operation (a bounded number each) and sends them, with an admin token, to the real
processes. No answer may be a 5xx, and every answer must be one the document names, with
the documented content type and schema."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from frontdesk.kit.auth import Permission, Role, issue_token

pytestmark = pytest.mark.e2e

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded so the whole suite stays quick; FRONTDESK_FUZZ_EXAMPLES raises it for a deep run.
EXAMPLES = int(os.environ.get("FRONTDESK_FUZZ_EXAMPLES", "12"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
)


def _schema(stack: Any, service: str) -> Any:
    return schemathesis.openapi.from_url(f"{stack.url(service)}/openapi.json")


@pytest.fixture(scope="session")
def fuzz_headers(stack: Any) -> dict[str, str]:
    import uuid

    token = issue_token(
        stack.settings, tenant_id=uuid.uuid4(), role=Role.admin, permissions=list(Permission)
    )
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="session")
def customers_schema(stack: Any) -> Any:
    return _schema(stack, "customers")


@pytest.fixture(scope="session")
def credits_schema(stack: Any) -> Any:
    return _schema(stack, "credits")


@pytest.fixture(scope="session")
def scheduling_schema(stack: Any) -> Any:
    return _schema(stack, "scheduling")


customers = schemathesis.pytest.from_fixture("customers_schema")
credits_ = schemathesis.pytest.from_fixture("credits_schema")
scheduling = schemathesis.pytest.from_fixture("scheduling_schema")


@customers.parametrize()
@FUZZ
def test_customers_api_never_answers_5xx_or_off_its_schema(case: Any, fuzz_headers: Any) -> None:
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS, timeout=30)


@credits_.parametrize()
@FUZZ
def test_credits_api_never_answers_5xx_or_off_its_schema(case: Any, fuzz_headers: Any) -> None:
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS, timeout=30)


@scheduling.parametrize()
@FUZZ
def test_scheduling_api_never_answers_5xx_or_off_its_schema(case: Any, fuzz_headers: Any) -> None:
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS, timeout=30)
