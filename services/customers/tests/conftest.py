from collections.abc import AsyncIterator

import httpx
import pytest

from frontdesk.customers.app import SPEC
from frontdesk.kit.service import Runtime, create_app
from frontdesk.kit.testing import running_service, truncate_all


@pytest.fixture(scope="session")
async def runtime() -> AsyncIterator[Runtime]:
    async with running_service(SPEC) as rt:
        yield rt


@pytest.fixture(autouse=True)
async def _clean(runtime: Runtime) -> AsyncIterator[None]:
    yield
    await truncate_all(runtime)


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(runtime, start_relay=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://customers") as c:
        yield c
