"""A tiny service built only on the kit, for the kit's own tests.

It owns a ``things`` table (written by its HTTP route, which publishes
``CustomerRegistered`` through the unit of work) and a ``seen`` table (one row
per handled event, so duplicates would show). Its handler can be told to fail
(``FAILURES``) or to be slow (``DELAY``). A ``Thing`` is also a domain aggregate
(``ThingRepository``) renamed by ``PATCH /v1/probes/{thing_id}`` with ``If-Match``; a
thing may not be named ``forbidden`` (422) and a ``frozen`` thing keeps its name (409).
Run as a process with ``python kit_probe.py worker|relay|api|migrate``
(``KIT_PROBE_NAME`` names it).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Annotated, Any

import aio_pika
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse
from opentelemetry import trace
from pydantic import BaseModel, Field
from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Identity,
    Integer,
    String,
    Table,
    Uuid,
    func,
    insert,
    select,
    text,
    tuple_,
)

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import CustomerRegistered, CustomerUpdated
from frontdesk.kit import bus
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.auth import (
    CurrentPrincipal,
    Permission,
    Principal,
    StaffPrincipal,
    require,
    require_admin,
)
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.db import AggregateRepository, messaging_tables, new_metadata
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.kit.etags import IfMatch, etag
from frontdesk.kit.pagination import (
    DEFAULT_PAGE,
    PageLimit,
    decode_cursor,
    encode_cursor,
    split_page,
)
from frontdesk.kit.service import Runtime, ServiceSpec, UnitOfWorkDep, main
from frontdesk.kit.settings import Settings
from frontdesk.kit.testing import running_service
from frontdesk.kit.types import Name
from frontdesk.kit.uow import UnitOfWork

HERE = Path(__file__).resolve().parent
MIGRATIONS = HERE / "kit_probe_migrations"

metadata = new_metadata()
tables = messaging_tables(metadata)
things = Table(
    "things",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("name", String(100), nullable=False),
    Column("version", Integer, nullable=False, server_default=text("1")),
)
seen = Table(
    "seen",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("message_id", Uuid, nullable=False),
    Column("tenant_id", Uuid, nullable=False),
    Column("customer_id", Uuid, nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("trace_id", String(32)),
    Column("seen_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# Test controls (in-process only): customer id -> failures still to raise.
FAILURES: dict[uuid.UUID, int] = {}
# Seconds each handler call sleeps (inside its transaction).
DELAY = {"seconds": 0.0}
# Handler calls: (customer id, loop time) — including failed ones.
CALLS: list[tuple[uuid.UUID, float]] = []
CONCURRENCY = {"active": 0, "max": 0}


class ProbeFailure(RuntimeError):
    pass


def reset() -> None:
    FAILURES.clear()
    DELAY["seconds"] = 0.0
    CALLS.clear()
    CONCURRENCY.update(active=0, max=0)


HANDLERS = Handlers()


@HANDLERS.on(CustomerRegistered)
async def on_registered(uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered) -> None:
    CALLS.append((event.customer_id, asyncio.get_running_loop().time()))
    CONCURRENCY["active"] += 1
    CONCURRENCY["max"] = max(CONCURRENCY["max"], CONCURRENCY["active"])
    try:
        if DELAY["seconds"]:
            await asyncio.sleep(DELAY["seconds"])
        remaining = FAILURES.get(event.customer_id, 0)
        if remaining > 0:
            FAILURES[event.customer_id] = remaining - 1
            raise ProbeFailure(f"told to fail for {event.customer_id}")
        ctx = trace.get_current_span().get_span_context()
        await uow.session.execute(
            insert(seen).values(
                message_id=envelope.id,
                tenant_id=envelope.tenant_id,
                customer_id=event.customer_id,
                first_name=event.first_name,
                trace_id=format(ctx.trace_id, "032x") if ctx.is_valid else None,
            )
        )
    finally:
        CONCURRENCY["active"] -= 1


# --- the Thing aggregate -----------------------------------------------------------------

FORBIDDEN_NAME = "forbidden"
FROZEN_NAME = "frozen"


@dataclasses.dataclass(kw_only=True, eq=False)
class Thing(Aggregate):
    name: str

    def rename(self, name: str) -> None:
        if name.casefold() == FORBIDDEN_NAME:
            raise RuleBroken("name", f"a thing must not be named {FORBIDDEN_NAME!r}")
        if self.name == FROZEN_NAME:
            raise ConflictError("A frozen thing keeps its name.", field="name")
        if name == self.name:
            return
        self.change(name=name)
        self.record(
            CustomerUpdated(
                customer_id=self.id, first_name=name, last_name="Probe", changed=["name"]
            )
        )


class ThingRepository(AggregateRepository[Thing]):
    table = things
    aggregate = Thing
    what = "thing"


def if_match_version(if_match: str | None) -> int | None:
    """The version an ``If-Match`` names (None: any); one that names none never matches."""
    if if_match is None or if_match.strip() == "*":
        return None
    tag = if_match.strip().removeprefix("W/").strip('"')
    return int(tag) if tag.isdigit() and len(tag) < 10 else -1


def thing_out(thing: Thing) -> dict[str, Any]:
    return {"id": str(thing.id), "name": thing.name, "version": thing.version}


PUBLIC_FEEDS = r"/v1/probes/feeds/[^/]+"


class ThingIn(BaseModel):
    name: Annotated[Name, Field(max_length=100)]
    count: int = Field(default=1, ge=1, le=100)


class ThingPatch(BaseModel):
    name: Annotated[Name, Field(max_length=100)]


def _runtime(request: Request) -> Runtime[Settings]:
    runtime: Runtime[Settings] = request.app.state.runtime
    return runtime


def build_router() -> APIRouter:
    router = APIRouter(prefix="/v1/probes", tags=["probes"])

    @router.post("", status_code=201)
    async def create_thing(
        body: ThingIn, principal: StaffPrincipal, request: Request
    ) -> dict[str, Any]:
        thing_id = uuid.uuid4()
        async with _runtime(request).uow() as uow:
            await uow.session.execute(
                insert(things).values(id=thing_id, tenant_id=principal.tenant_id, name=body.name)
            )
            envelopes = [
                uow.publish(
                    CustomerRegistered(
                        customer_id=thing_id if body.count == 1 else uuid.uuid4(),
                        first_name=body.name,
                        last_name="Probe",
                    ),
                    tenant_id=principal.tenant_id,
                    aggregate_id=thing_id,
                    aggregate_version=n,
                )
                for n in range(1, body.count + 1)
            ]
            await uow.commit()
        return {"id": str(thing_id), "events": [str(e.id) for e in envelopes]}

    @router.get("")
    async def list_things(
        principal: StaffPrincipal,
        request: Request,
        limit: Annotated[int, Query(ge=1, le=100)] = 20,
    ) -> list[dict[str, Any]]:
        async with _runtime(request).engine.connect() as conn:
            rows = await conn.execute(
                select(things.c.id, things.c.name)
                .where(things.c.tenant_id == principal.tenant_id)
                .limit(limit)
            )
            return [{"id": str(r.id), "name": r.name} for r in rows]

    @router.get("/whoami")
    async def whoami(principal: CurrentPrincipal) -> dict[str, Any]:
        return {
            "sub": principal.sub,
            "tenant_id": str(principal.tenant_id),
            "role": principal.role.value,
            "permissions": sorted(p.value for p in principal.permissions),
        }

    @router.get("/notes")
    async def notes(
        principal: Annotated[Principal, Depends(require(Permission.view_notes))],
    ) -> dict[str, str]:
        return {"ok": principal.sub}

    @router.get("/admin")
    async def admin(principal: Annotated[Principal, Depends(require_admin())]) -> dict[str, str]:
        return {"ok": principal.sub}

    @router.get("/staff")
    async def staff(principal: StaffPrincipal) -> dict[str, str]:
        return {"ok": principal.sub}

    @router.post("/swap")
    async def swap(principal: StaffPrincipal, request: Request, first: str, second: str) -> None:
        """Renames two things in the order given, slowly: two opposite swaps deadlock."""
        async with _runtime(request).uow() as uow:
            for name in (first, second):
                await uow.session.execute(
                    things.update()
                    .where(things.c.tenant_id == principal.tenant_id, things.c.name == name)
                    .values(name=name)
                )
                await asyncio.sleep(0.3)
            await uow.commit()

    @router.get("/boom")
    async def boom() -> None:
        raise RuntimeError("unexpected")

    @router.post("/echo", response_class=StreamingResponse)
    async def echo(principal: StaffPrincipal, request: Request) -> StreamingResponse:
        """Streams the request body back in pieces (a streamed answer to a write)."""
        body = await request.body()

        async def pieces() -> AsyncIterator[bytes]:
            for start in range(0, len(body), 1000):
                await asyncio.sleep(0)
                yield body[start : start + 1000]

        return StreamingResponse(pieces(), media_type="application/octet-stream")

    @router.get("/page")
    async def page_things(
        principal: StaffPrincipal,
        request: Request,
        limit: PageLimit = DEFAULT_PAGE,
        cursor: str | None = None,
    ) -> dict[str, Any]:
        """Things by name, ``limit`` at a time, after the signed ``cursor``."""
        stmt = (
            select(things.c.id, things.c.name)
            .where(things.c.tenant_id == principal.tenant_id)
            .order_by(things.c.name, things.c.id)
            .limit(limit + 1)
        )
        if cursor is not None:
            name, after = decode_cursor(cursor, tuple[str, uuid.UUID])
            stmt = stmt.where(tuple_(things.c.name, things.c.id) > tuple_(name, after))
        async with _runtime(request).engine.connect() as conn:
            rows = (await conn.execute(stmt)).all()
        page, following = split_page(rows, limit, lambda r: encode_cursor([r.name, r.id]))
        return {"items": [{"id": str(r.id), "name": r.name} for r in page], "next": following}

    @router.get("/feeds/{key}")
    async def feed(key: str, response: Response) -> dict[str, str]:
        """Public: the URL is its own secret (``public_paths``); calendars may cache it."""
        response.headers["Cache-Control"] = "private, max-age=60"
        return {"feed": key}

    @router.get("/{thing_id}")
    async def read_thing(
        thing_id: uuid.UUID, principal: StaffPrincipal, uow: UnitOfWorkDep, response: Response
    ) -> dict[str, Any]:
        thing = await ThingRepository(uow.session, principal.tenant_id).require(thing_id)
        response.headers["ETag"] = etag(thing.version)
        return thing_out(thing)

    @router.patch("/{thing_id}")
    async def rename_thing(
        thing_id: uuid.UUID,
        body: ThingPatch,
        principal: StaffPrincipal,
        uow: UnitOfWorkDep,
        response: Response,
        if_match: IfMatch = None,
    ) -> dict[str, Any]:
        repo = ThingRepository(uow.session, principal.tenant_id)
        thing = await repo.require(thing_id)
        expected = if_match_version(if_match)
        if expected is not None:
            thing.version = expected  # the save applies only while the row is at it
        thing.rename(body.name)
        await repo.save(thing)
        uow.publish_recorded(thing)
        await uow.commit()
        response.headers["ETag"] = etag(thing.version)
        return thing_out(thing)

    return router


def make_spec(name: str = "kitprobe") -> ServiceSpec[Settings]:
    return ServiceSpec(
        name=name,
        port=8099,
        metadata=metadata,
        tables=tables,
        migrations_dir=MIGRATIONS,
        routers=lambda: [build_router()],
        handlers=lambda: HANDLERS,
        description="kit test probe",
        public_paths=(PUBLIC_FEEDS,),
    )


SPEC = make_spec()


def renamed(name: str) -> ServiceSpec[Settings]:
    return dataclasses.replace(SPEC, name=name)


# --- helpers for tests -----------------------------------------------------------------


async def commit_events(
    runtime: Runtime[Settings],
    count: int,
    *,
    tenant_id: uuid.UUID | None = None,
    first_name: str = "Ada",
    customer_ids: list[uuid.UUID] | None = None,
) -> list[uuid.UUID]:
    """Commit ``count`` CustomerRegistered events in one unit of work; their envelope ids."""
    tenant = tenant_id or uuid.uuid4()
    ids = customer_ids or [uuid.uuid4() for _ in range(count)]
    async with runtime.uow() as uow:
        envelopes = [
            uow.publish(
                CustomerRegistered(customer_id=cid, first_name=first_name, last_name="Probe"),
                tenant_id=tenant,
                aggregate_id=cid,
                aggregate_version=1,
            )
            for cid in ids
        ]
        await uow.commit()
    return [e.id for e in envelopes]


async def seen_counts(runtime: Runtime[Settings]) -> dict[uuid.UUID, int]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(seen.c.message_id, func.count()).group_by(seen.c.message_id)
        )
        return {r[0]: r[1] for r in rows}


async def outbox_state(runtime: Runtime[Settings]) -> dict[str, int]:
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                text(
                    "SELECT count(*) FILTER (WHERE published_at IS NULL) AS pending,"
                    " count(*) FILTER (WHERE published_at IS NOT NULL) AS published"
                    " FROM outbox"
                )
            )
        ).one()
        return {"pending": row.pending, "published": row.published}


async def published_ids(runtime: Runtime[Settings]) -> set[uuid.UUID]:
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(tables.outbox.c.id).where(tables.outbox.c.published_at.is_not(None))
        )
        return {r[0] for r in rows}


@contextlib.asynccontextmanager
async def probe_service(
    *,
    relay: bool = True,
    consumer: bool = True,
    name: str | None = None,
    handlers: Handlers | None = None,
    **overrides: Any,
) -> AsyncIterator[Runtime[Settings]]:
    """A probe service of its own (database and queues named for this call only), with
    the probe's handlers or ``handlers``."""
    reset()
    spec = renamed(name or f"kp_{uuid.uuid4().hex[:8]}")
    if handlers is not None:
        spec = dataclasses.replace(spec, handlers=lambda: handlers)
    try:
        # The run's own prefix (not one per service): the probe's name is already unique,
        # and the `frontdesk parked` CLI under test reads names from the environment.
        overrides.setdefault("bus_prefix", Settings().bus_prefix)
        async with running_service(spec, relay=relay, consumer=consumer, **overrides) as runtime:
            yield runtime
    finally:
        reset()
        await delete_queues(spec)


async def delete_queues(spec: ServiceSpec[Settings]) -> None:
    """Drop the probe's queues so later probes of the run do not feed them."""
    settings = spec.settings()
    topology = bus.Topology.from_settings(settings)
    connection = await aio_pika.connect(settings.amqp_url)
    try:
        channel = await connection.channel()
        await topology.delete_consumer(channel, spec.name, len(settings.retry_delays_ms))
    finally:
        await connection.close()


if __name__ == "__main__":
    sys.path.insert(0, str(HERE))
    main(renamed(os.environ.get("KIT_PROBE_NAME", "kitprobe")))


@contextlib.asynccontextmanager
async def one_connection(runtime: Runtime[Any], **overrides: Any) -> AsyncIterator[Runtime[Any]]:
    """The probe's database behind a pool of ONE connection and no overflow (``overrides``
    set the rest), for tests of what a process does when it has no connection to give."""
    settings = runtime.spec.settings(
        database_url=runtime.settings.resolved_database_url(),
        db_pool_size=1,
        db_max_overflow=0,
        **overrides,
    )
    narrow = Runtime(runtime.spec, settings)
    try:
        yield narrow
    finally:
        await narrow.engine.dispose()


@contextlib.asynccontextmanager
async def posts_waiting_for_the_connection(
    narrow: Runtime[Any], client: Any, headers: dict[str, str], names: list[str]
) -> AsyncIterator[list[asyncio.Task[Any]]]:
    """The pool's one connection held here while a ``POST /v1/probes`` for each name waits
    for it (yielded once they all wait); on leaving, the connection is given back and
    they go on."""
    async with narrow.engine.connect() as held:
        await held.execute(text("SELECT 1"))  # the one connection is ours now
        posts = [
            asyncio.create_task(client.post("/v1/probes", json={"name": n}, headers=headers))
            for n in names
        ]
        for _ in range(200):
            if narrow.engine.pool._pool.waiting == len(names):  # type: ignore[attr-defined]
                break
            await asyncio.sleep(0.05)
        else:
            raise AssertionError(f"{len(names)} requests never waited for the connection")
        yield posts
