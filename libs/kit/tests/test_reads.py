"""The lean read path: statements compiled once and run by the driver (``db.Prepared``,
``db.Reads``, ``uow.reads``), the pool that hands connections to waiting requests, and the
routes kit calls without FastAPI's dependency solver (``service.ServiceRoute``)."""

import asyncio
import uuid
from typing import Annotated

import httpx
import pytest
from fastapi import APIRouter, Depends, Response
from kit_probe import SPEC, probe_service, things
from sqlalchemy import bindparam, event, insert, literal_column, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.util import greenlet_spawn

from frontdesk.kit import db
from frontdesk.kit.auth import CurrentPrincipal, Principal, Role
from frontdesk.kit.service import (
    Runtime,
    ServiceRoute,
    UnitOfWorkDep,
    bearer_principal,
    create_app,
)
from frontdesk.kit.uow import UnitOfWork

THING = db.Prepared(
    select(things.c.id, things.c.name, things.c.version).where(
        things.c.tenant_id == bindparam("tenant_id"), things.c.id == bindparam("thing_id")
    )
)
NAMES = db.Prepared(
    select(things.c.name)
    .where(things.c.tenant_id == bindparam("tenant_id"), things.c.name != "hidden")
    .order_by(things.c.name)
)


@pytest.fixture(scope="module")
async def runtime():
    async with probe_service(relay=False, consumer=False) as rt:
        yield rt


async def add_thing(runtime: Runtime, tenant_id: uuid.UUID, name: str) -> uuid.UUID:
    thing_id = uuid.uuid4()
    async with runtime.engine.begin() as conn:
        await conn.execute(insert(things).values(id=thing_id, tenant_id=tenant_id, name=name))
    return thing_id


async def test_prepared_reads_borrow_a_connection_for_the_read_alone(runtime) -> None:
    tenant = uuid.uuid4()
    thing_id = await add_thing(runtime, tenant, "Ada")
    await add_thing(runtime, tenant, "hidden")  # the constant compiled in is bound too
    async with runtime.uow() as uow:
        row = await uow.reads.row(THING, tenant_id=tenant, thing_id=thing_id)
        assert row is not None and (row["id"], row["name"], row["version"]) == (thing_id, "Ada", 1)
        assert [r["name"] for r in await uow.reads.rows(NAMES, tenant_id=tenant)] == ["Ada"]
        assert await uow.reads.value(THING, tenant_id=tenant, thing_id=uuid.uuid4()) is None
        assert not uow.opened  # no session: nothing to roll back
        assert runtime.engine.pool.checkedout() == 0  # each read gave its connection back
    with pytest.raises(TypeError, match="thing_id"):
        await db.Reads(runtime.engine).row(THING, tenant_id=tenant)


async def test_reads_in_a_begun_transaction_see_what_it_wrote(runtime) -> None:
    tenant = uuid.uuid4()
    thing_id = uuid.uuid4()
    async with runtime.uow() as uow:
        await uow.session.execute(
            insert(things).values(id=thing_id, tenant_id=tenant, name="Uncommitted")
        )
        row = await uow.reads.row(THING, tenant_id=tenant, thing_id=thing_id)
        assert row is not None and row["name"] == "Uncommitted"
    async with runtime.uow() as uow:  # rolled back
        assert await uow.reads.row(THING, tenant_id=tenant, thing_id=thing_id) is None


async def test_a_read_postgresql_refuses_raises_as_sqlalchemy_would(runtime) -> None:
    bad = db.Prepared(select(literal_column("1") / bindparam("zero")))
    reads = db.Reads(runtime.engine)
    with pytest.raises(DBAPIError) as caught:
        await reads.value(bad, zero=0)
    assert db.sqlstate(caught.value) == "22012"  # division_by_zero: the input's fault (422)
    assert await reads.value(bad, zero=1) == 1  # the connection went back whole
    assert runtime.engine.pool.checkedout() == 0


async def test_the_pool_hands_connections_to_waiting_requests_instead_of_closing_them(
    runtime,
) -> None:
    """Three connections (1 + 2 overflow) given back at once to two waiting requests:
    SQLAlchemy's own pool closes one of them as overflow before the woken requests take
    theirs (and the next request opens a new one); this one keeps it for them."""
    engine = db.create_engine(
        runtime.settings.resolved_database_url(), pool_size=1, max_overflow=2, pool_timeout=5
    )
    closed: list[object] = []
    event.listen(engine.sync_engine, "close", lambda *_: closed.append(_))
    try:
        held = [await engine.raw_connection() for _ in range(3)]
        waiting = [asyncio.create_task(engine.raw_connection()) for _ in range(2)]
        await asyncio.sleep(0.05)

        def give_back() -> None:
            for connection in held:
                connection.close()

        await greenlet_spawn(give_back)
        taken = await asyncio.gather(*waiting)
        assert closed == [] and engine.pool.checkedin() == 1
        # Nobody waiting: what is given back beyond the pool's size is closed, as before.
        for connection in taken:
            await greenlet_spawn(connection.close)
        assert len(closed) == 2 and engine.pool.checkedin() == 1 == engine.pool.size()
        assert await db.Reads(engine).value(db.Prepared(select(literal_column("1")))) == 1
    finally:
        await engine.dispose()


async def test_a_services_pool_serves_the_next_burst_on_the_connections_it_opened(
    runtime,
) -> None:
    """Bursts of more requests than connections, quiet between, on a pool sized as a
    service's settings size it by default: every burst runs on the connections the first
    one opened. Each new one is a server process, the driver's type introspection and
    every statement prepared again (a rush opened ~170 a minute on scheduling's API)."""
    defaults = type(runtime.settings).model_fields
    sized = runtime.settings.model_copy(
        update={name: defaults[name].default for name in ("db_pool_size", "db_max_overflow")}
    )
    engine = db.engine_for(sized)

    async def server_process() -> int:
        async with engine.connect() as conn:
            pid = await conn.execute(text("SELECT pg_backend_pid() FROM pg_sleep(0.02)"))
            return int(pid.scalar_one())

    try:
        seen: set[int] = set()
        for _ in range(3):
            seen |= set(await asyncio.gather(*(server_process() for _ in range(12))))
            await asyncio.sleep(0.05)
        assert len(seen) <= sized.db_pool_size + sized.db_max_overflow
    finally:
        await engine.dispose()


# -- routes kit calls itself ---------------------------------------------------------------

router = APIRouter(prefix="/v1/lean", tags=["lean"])


@router.get("/{thing_id}")
async def read_lean(
    thing_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> Response:
    row = await uow.reads.row(THING, tenant_id=principal.tenant_id, thing_id=thing_id)
    if row is None:
        return Response(status_code=404)
    return Response(f'{{"name": "{row["name"]}", "opened": {str(uow.opened).lower()}}}')


@router.get("/{thing_id}/solved")
async def read_solved(
    thing_id: uuid.UUID, principal: Annotated[Principal, Depends(bearer_principal)], limit: int = 1
) -> Response:
    return Response(f"{thing_id} {limit}")


@pytest.fixture
async def lean(runtime):
    spec = SPEC.__class__(**{**SPEC.__dict__, "routers": lambda: [router]})
    app = create_app(Runtime(spec, runtime.settings), start_relay=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://lean") as client:
        yield app, client
    await app.state.runtime.engine.dispose()


async def test_a_route_of_path_parameters_uow_and_principal_is_called_directly(
    lean, runtime, tokens, tenant_id
) -> None:
    app, client = lean
    routes = {r.path: r for r in app.routes if isinstance(r, ServiceRoute)}
    assert routes["/v1/lean/{thing_id}"].direct is not None
    assert routes["/v1/lean/{thing_id}/solved"].direct is None  # a query parameter
    thing_id = await add_thing(runtime, tenant_id, "Grace")
    h = tokens.headers(Role.staff)
    r = await client.get(f"/v1/lean/{thing_id}", headers=h)
    assert r.status_code == 200 and r.json() == {"name": "Grace", "opened": False}
    # What FastAPI answered before, it still answers: a bad path parameter, an unknown
    # query parameter, a method the route does not serve, no token.
    bad = await client.get("/v1/lean/not-a-uuid", headers=h)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "thing_id"
    unknown = await client.get(f"/v1/lean/{thing_id}?colour=red", headers=h)
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["field"] == "colour"
    assert (await client.delete(f"/v1/lean/{thing_id}", headers=h)).status_code == 405
    assert (await client.get(f"/v1/lean/{thing_id}")).status_code == 401
    solved = await client.get(f"/v1/lean/{thing_id}/solved?limit=3", headers=h)
    assert solved.status_code == 200 and solved.text == f"{thing_id} 3"


async def test_a_dependency_override_is_honoured_on_a_direct_route(lean, tokens) -> None:
    app, client = lean
    other = Principal(sub="x", tenant_id=uuid.uuid4(), role=Role.admin)

    async def fake() -> Principal:
        return other

    app.dependency_overrides[bearer_principal] = fake
    try:
        r = await client.get(f"/v1/lean/{uuid.uuid4()}", headers=tokens.headers(Role.staff))
        assert r.status_code == 404  # the override's tenant has nothing
    finally:
        app.dependency_overrides.clear()


async def test_a_unit_of_work_is_closed_once_the_request_is_answered(runtime, tokens) -> None:
    closed: list[UnitOfWork] = []
    original = UnitOfWork.__aexit__

    async def spy(self, *args):  # type: ignore[no-untyped-def]
        closed.append(self)
        await original(self, *args)

    app = create_app(runtime, start_relay=False)
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    UnitOfWork.__aexit__ = spy  # type: ignore[method-assign]
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            r = await client.post(
                "/v1/probes", json={"name": "Closed"}, headers=tokens.headers(Role.staff)
            )
            assert r.status_code == 201, r.text
    finally:
        UnitOfWork.__aexit__ = original  # type: ignore[method-assign]
    assert len(closed) == 1 and closed[0].opened
    assert runtime.engine.pool.checkedout() == 0
