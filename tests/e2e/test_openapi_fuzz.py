"""Every service's OpenAPI, fuzzed: schemathesis generates valid and invalid requests for
every operation (a bounded number of each) and sends them, with an admin token, to the
real processes. No answer may be a 5xx, and every answer must be one the document names,
with the documented content type and schema. Every failing operation is reported."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from frontdesk.kit.auth import Permission, Role, issue_token

sys.path.insert(0, str(Path(__file__).resolve().parent))
from running_stack import SERVICES

pytestmark = pytest.mark.e2e

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Bounded so the suite stays quick; FRONTDESK_FUZZ_EXAMPLES raises it for a deep run.
EXAMPLES = int(os.environ.get("FRONTDESK_FUZZ_EXAMPLES", "20"))


def fuzz(url: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    """Each operation in both generation modes: the requests sent, and the failures."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    failures: list[str] = []
    sent = 0
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in GenerationMode:

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                derandomize=True,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def run(case: Any) -> None:
                nonlocal sent
                sent += 1
                case.call_and_validate(headers=headers, checks=CHECKS, timeout=30)

            try:
                run()
            except Unsatisfiable:
                pass  # no invalid request exists for this operation (GET /healthz)
            except Exception as error:
                failures.append(f"{operation.label} ({mode.value}): {error}"[:3000])
    return sent, failures


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "gateway"])
async def test_api_never_answers_5xx_or_off_its_documented_answers(
    stack: Any, service: str
) -> None:
    token = issue_token(
        stack.settings, tenant_id=uuid.uuid4(), role=Role.admin, permissions=list(Permission)
    )
    sent, failures = await asyncio.to_thread(
        fuzz, stack.url(service), {"Authorization": f"Bearer {token}"}
    )
    assert not failures, "\n\n".join(failures)
    assert sent > 10 * EXAMPLES  # every operation was really exercised


async def test_the_real_server_names_no_software_and_guards_its_edge(stack: Any) -> None:
    """What uvicorn itself sends: no ``server`` header; the guard's answers as served."""
    import httpx

    token = issue_token(stack.settings, tenant_id=uuid.uuid4(), role=Role.admin)
    async with httpx.AsyncClient(base_url=stack.url("scheduling"), timeout=30) as client:
        listed = await client.get("/v1/sessions", headers={"Authorization": f"Bearer {token}"})
        assert listed.status_code == 200
        assert "server" not in listed.headers
        assert listed.headers["x-content-type-options"] == "nosniff"
        assert listed.headers["cache-control"] == "no-store"
        options = await client.options("/v1/bookings")
        assert options.status_code == 204 and {"GET", "POST"} <= set(
            options.headers["allow"].replace(" ", "").split(",")
        )
        huge = await client.post(
            "/v1/bookings",
            content=b"[" + b"0," * 3_000_000 + b"0]",
            headers={"content-type": "application/json"},
        )
        assert huge.status_code == 401  # no token: refused before the body is read
        too_big = await client.post(
            "/v1/bookings",
            content=b"[" + b"0," * 3_000_000 + b"0]",
            headers={"content-type": "application/json", "Authorization": f"Bearer {token}"},
        )
        assert too_big.status_code == 413
        assert too_big.headers["content-type"].startswith("application/problem+json")
