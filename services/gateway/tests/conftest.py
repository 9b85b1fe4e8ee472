import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from frontdesk.gateway.app import SPEC
from frontdesk.kit.service import Runtime
from frontdesk.kit.testing import running_service, truncate_all

ROOT = Path(__file__).resolve().parents[3]
# Test helpers live beside the tests (gateway_testing.py); the e2e stack in tests/e2e.
# Appended, not put first: other suites import their own ``conftest`` by name.
sys.path.append(str(Path(__file__).parent))
sys.path.append(str(ROOT / "tests" / "e2e"))

from gateway_testing import FakeService, free_port, gateway_client  # noqa: E402
from running_stack import stack, tenant  # noqa: E402, F401  (fixtures of the e2e tests)


@pytest.fixture(scope="session")
async def upstream() -> AsyncIterator[FakeService]:
    service = FakeService()
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


# A port where nothing listens: a service that is down.
DOWN_PORT = free_port()


@pytest.fixture(scope="session")
async def runtime(upstream: FakeService) -> AsyncIterator[Runtime]:
    async with running_service(
        SPEC,
        db_pool_size=2,
        db_max_overflow=2,
        service_urls={
            "gateway": "http://gateway.test",
            "customers": upstream.url,
            "credits": f"http://127.0.0.1:{DOWN_PORT}",
        },
        routes={"customers": "customers", "credit-products": "credits"},
        upstream_timeout_seconds=1.0,
        webhook_retry_delays_seconds=[0.2, 0.4],
        login_limit_per_address=1000,
        login_limit_per_account=1000,
    ) as rt:
        yield rt


@pytest.fixture(autouse=True)
async def _clean(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "runtime" in request.fixturenames:
        await truncate_all(request.getfixturevalue("runtime"))


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    async with gateway_client(runtime) as c:
        yield c
