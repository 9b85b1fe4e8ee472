"""``kit.upsert.insert``: PostgreSQL's INSERT … ON CONFLICT compiled once per shape, and
each call still writing its own values (a cached statement must never carry one call's
value into the next)."""

import uuid

import pytest
from kit_probe import probe_service, things
from sqlalchemy import event, select
from sqlalchemy.dialects.postgresql import insert as sqlalchemy_insert

from frontdesk.kit.upsert import insert


@pytest.fixture(scope="module")
async def runtime():
    async with probe_service(relay=False, consumer=False) as rt:
        yield rt


def rename(build, thing_id: uuid.UUID, tenant: uuid.UUID, name: str, version: int):
    stmt = build(things).values(id=thing_id, tenant_id=tenant, name="first")
    return stmt.on_conflict_do_update(
        index_elements=[things.c.id],
        set_={"name": name, things.c.version: version},  # plain values, by name and column
        where=things.c.version < version,
    ).returning(things.c.name, things.c.version)


async def test_each_call_writes_its_own_values_through_one_compiled_statement(runtime) -> None:
    tenant, thing_id = uuid.uuid4(), uuid.uuid4()
    compiled: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:
        compiled.append(context.cache_hit.name)

    event.listen(runtime.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with runtime.engine.begin() as conn:
            written = [
                (await conn.execute(rename(insert, thing_id, tenant, name, version))).first()
                for name, version in (("first", 1), ("Ada", 2), ("Grace", 3), ("stale", 2))
            ]
    finally:
        event.remove(runtime.engine.sync_engine, "before_cursor_execute", count)
    assert [tuple(row) if row else None for row in written] == [
        ("first", 1),  # inserted
        ("Ada", 2),
        ("Grace", 3),
        None,  # the WHERE kept the newer version
    ]
    async with runtime.engine.connect() as conn:
        row = (await conn.execute(select(things).where(things.c.id == thing_id))).one()
    assert (row.name, row.version) == ("Grace", 3)
    # Compiled the first time only: every later call found it in the cache.
    assert compiled == ["CACHE_MISS"] + ["CACHE_HIT"] * 3


async def test_renders_what_sqlalchemy_renders(runtime) -> None:
    tenant, thing_id = uuid.uuid4(), uuid.uuid4()
    dialect = runtime.engine.dialect
    for build in (
        lambda b: rename(b, thing_id, tenant, "Ada", 2),
        lambda b: (
            b(things).values(id=thing_id, tenant_id=tenant, name="x").on_conflict_do_nothing()
        ),
    ):
        assert str(build(insert).compile(dialect=dialect)) == str(
            build(sqlalchemy_insert).compile(dialect=dialect)
        )


async def test_a_second_on_conflict_clause_is_refused() -> None:
    stmt = insert(things).values(id=uuid.uuid4()).on_conflict_do_nothing()
    with pytest.raises(ValueError, match="ON CONFLICT"):
        stmt.on_conflict_do_nothing()
