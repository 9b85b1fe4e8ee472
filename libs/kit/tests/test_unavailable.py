"""No database connection to be had (the pool exhausted, the server refusing, PostgreSQL out
of connections): a 503 problem with Retry-After that changed nothing, never a 500."""

import asyncio
import socket
import uuid

import httpx
import pytest
from fastapi import FastAPI
from kit_probe import (
    SPEC,
    one_connection,
    posts_waiting_for_the_connection,
    probe_service,
    things,
)
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from frontdesk.kit import problems
from frontdesk.kit.auth import Role
from frontdesk.kit.problems import PROBLEM_JSON
from frontdesk.kit.service import Runtime
from frontdesk.kit.testing import app_client

POOL_TIMEOUT = 0.5


@pytest.fixture(scope="module")
async def runtime():
    async with probe_service(relay=False, consumer=False) as rt:
        yield rt


@pytest.fixture
async def tight(runtime):
    """The probe's database behind a pool of ONE connection, no overflow, a short wait."""
    async with one_connection(runtime, db_pool_timeout_seconds=POOL_TIMEOUT) as rt:
        yield rt


@pytest.fixture
async def refused():
    """A runtime whose database is a closed port on this machine."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    rt = Runtime(SPEC, SPEC.settings(database_url=f"postgresql+asyncpg://u@127.0.0.1:{port}/db"))
    try:
        yield rt
    finally:
        await rt.engine.dispose()


def assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == 503 and body["title"]
    assert int(response.headers["retry-after"]) > 0


async def thing_count(runtime) -> int:
    async with runtime.engine.connect() as conn:
        return (await conn.execute(select(func.count()).select_from(things))).scalar_one()


async def test_an_exhausted_pool_answers_503_with_retry_after_then_recovers(tight, runtime, tokens):
    h = tokens.headers(Role.staff)
    async with app_client(tight) as client:
        r = await client.post("/v1/probes", json={"name": "Before"}, headers=h)
        assert r.status_code == 201, r.text
        thing_id = r.json()["id"]
        before = await thing_count(runtime)

        async with tight.engine.connect() as held:
            await held.execute(text("SELECT 1"))  # the one connection is ours now
            loop = asyncio.get_running_loop()
            started = loop.time()
            answers = [
                await client.get("/v1/probes", headers=h),  # the route reads the engine
                await client.post("/v1/probes", json={"name": "During"}, headers=h),
                await client.patch(f"/v1/probes/{thing_id}", json={"name": "X"}, headers=h),
                await client.get(f"/v1/probes/{thing_id}", headers=h),  # UnitOfWorkDep
            ]
            assert loop.time() - started < 4 * (POOL_TIMEOUT + 5)
            for r in answers:
                assert_unavailable(r)
                assert r.headers["x-content-type-options"] == "nosniff"
            # things that need no database still answer
            assert (await client.get("/healthz")).status_code == 200

        assert await thing_count(runtime) == before  # nothing was changed
        r = await client.get(f"/v1/probes/{thing_id}", headers=h)
        assert r.status_code == 200 and r.json()["name"] == "Before"
        assert (await client.get("/v1/probes", headers=h)).status_code == 200


async def test_a_database_that_refuses_connections_answers_503_not_500(refused, tokens):
    h = tokens.headers(Role.staff)
    async with app_client(refused) as client:
        assert_unavailable(await client.get("/v1/probes", headers=h))
        assert_unavailable(await client.post("/v1/probes", json={"name": "X"}, headers=h))
        assert_unavailable(
            await client.patch(f"/v1/probes/{uuid.uuid4()}", json={"name": "X"}, headers=h)
        )
        assert_unavailable(await client.get(f"/v1/probes/{uuid.uuid4()}", headers=h))
        assert (await client.get("/healthz")).status_code == 200
        r = await client.get("/readyz")
        assert r.status_code == 503 and r.json()["checks"]["database"].startswith("error")


async def test_the_refused_connection_503_also_carries_the_safety_headers(refused, tokens):
    async with app_client(refused) as client:
        r = await client.get("/v1/probes", headers=tokens.headers(Role.staff))
    assert_unavailable(r)
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"


# --- what PostgreSQL says, mapped -------------------------------------------------------


class PgError(Exception):
    """What a driver error carries: its SQLSTATE."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.fixture
async def raising():
    app = FastAPI()
    problems.install(app)

    @app.get("/fail/{sqlstate}")
    async def fail(sqlstate: str) -> None:
        raise DBAPIError("SELECT 1", None, PgError(sqlstate))

    @app.get("/oserror")
    async def oserror() -> None:
        raise ConnectionRefusedError(111, "Connection refused")

    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://raising") as client:
        yield client


@pytest.mark.parametrize(
    ("sqlstate", "meaning"),
    [
        ("53300", "too_many_connections"),
        ("53000", "insufficient_resources"),
        ("57P01", "admin_shutdown"),
        ("57P03", "cannot_connect_now"),
        ("08006", "connection_failure"),
        ("08001", "sqlclient_unable_to_establish_sqlconnection"),
    ],
)
async def test_postgresql_unable_to_serve_answers_503(raising, sqlstate, meaning):
    assert_unavailable(await raising.get(f"/fail/{sqlstate}"))


async def test_other_database_errors_keep_their_answers(raising):
    r = await raising.get("/fail/40P01")  # deadlock victim: rolled back, send again
    assert r.status_code == 409 and r.headers["retry-after"]
    r = await raising.get("/fail/23505")  # a bug (unique violation unhandled): 500
    assert r.status_code == 500
    assert "retry-after" not in r.headers
    assert "23505" not in r.text and "SELECT" not in r.text
    assert_unavailable(await raising.get("/oserror"))


async def test_past_the_waiting_bound_a_request_is_refused_at_once(runtime, tokens):
    # Overload: the queue in front of the pool is bounded. Two requests may wait for the
    # one connection; the third is answered 503 at once, not after the pool's timeout.
    h = tokens.headers(Role.staff)
    async with (
        one_connection(runtime, db_pool_timeout_seconds=30, db_pool_max_waiting=2) as rt,
        app_client(rt) as client,
    ):
        async with posts_waiting_for_the_connection(rt, client, h, ["Ada", "Grace"]) as waiting:
            loop = asyncio.get_running_loop()
            started = loop.time()
            refused = await client.post("/v1/probes", json={"name": "Third"}, headers=h)
            assert loop.time() - started < 5
            assert_unavailable(refused)
        # the waiting two get the connection in turn
        assert [r.status_code for r in await asyncio.gather(*waiting)] == [201, 201]
