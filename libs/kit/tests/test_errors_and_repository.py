"""Domain errors answer their problem+json, repositories keep to their tenant and to the
version that was read, and aggregates publish what they recorded at the saved version."""

import uuid

import httpx
import kit_probe
import pytest
from kit_probe import Thing, ThingRepository, probe_service, things
from sqlalchemy import func, select

from frontdesk.contracts.customers import CustomerUpdated
from frontdesk.kit.auth import Role
from frontdesk.kit.db import TableRepository
from frontdesk.kit.errors import (
    ConflictError,
    DomainError,
    NotFoundError,
    RuleBroken,
    StaleVersion,
)
from frontdesk.kit.problems import PROBLEM_JSON, from_domain
from frontdesk.kit.testing import app_client


@pytest.fixture(scope="module")
async def runtime():
    async with probe_service(relay=False, consumer=False) as rt:
        yield rt


@pytest.fixture
async def client(runtime):
    async with app_client(runtime) as c:
        yield c


def assert_problem(response: httpx.Response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status and body["title"]
    return body


async def create(client, headers, name: str = "Thing") -> str:
    r = await client.post("/v1/probes", json={"name": name}, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def stored(runtime, thing_id: str) -> tuple[str, int]:
    async with runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                select(things.c.name, things.c.version).where(things.c.id == uuid.UUID(thing_id))
            )
        ).one()
    return row.name, row.version


async def updates_published(runtime, thing_id: str) -> list[int]:
    """The aggregate versions of the CustomerUpdated envelopes in the outbox for a thing."""
    outbox = runtime.spec.tables.outbox
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(outbox.c.envelope)
            .where(outbox.c.routing_key == CustomerUpdated.routing_key())
            .order_by(outbox.c.seq)
        )
        return [e["aggregate_version"] for (e,) in rows if e["aggregate_id"] == thing_id]


# --- errors -> problem+json -------------------------------------------------------------


def test_each_domain_error_maps_to_its_problem():
    cases = [
        (NotFoundError.of("customer"), 404, "Not found", None),
        (ConflictError("Already cancelled.", field="status"), 409, "Conflict", "status"),
        (RuleBroken("name", "must not be empty"), 422, "Invalid input", "name"),
        (StaleVersion("package", 7), 412, "Precondition failed", None),
    ]
    for error, status, title, field in cases:
        assert isinstance(error, DomainError)
        problem = from_domain(error)
        assert (problem.status, problem.title) == (status, title)
        if field is None:
            assert not problem.errors
        else:
            assert [(e.field, e.message) for e in problem.errors or []] == [(field, error.message)]
    assert from_domain(StaleVersion("package", 7)).headers == {"ETag": '"7"'}
    assert "customer" in str(NotFoundError.of("customer"))
    assert from_domain(ConflictError("x", title="Already booked")).title == "Already booked"
    # they stay ordinary Python errors for code that catches the builtin kind
    assert isinstance(NotFoundError.of("x"), LookupError)
    assert isinstance(RuleBroken("f", "m"), ValueError)


async def test_an_edit_with_the_current_etag_applies_and_bumps_the_version(client, tokens, runtime):
    h = tokens.headers(Role.staff)
    thing_id = await create(client, h, "Before")
    r = await client.get(f"/v1/probes/{thing_id}", headers=h)
    assert r.status_code == 200 and r.headers["etag"] == '"1"'
    r = await client.patch(
        f"/v1/probes/{thing_id}", json={"name": "  After  "}, headers={**h, "If-Match": '"1"'}
    )
    assert r.status_code == 200, r.text
    assert r.headers["etag"] == '"2"'
    assert r.json() == {"id": thing_id, "name": "After", "version": 2}
    assert await stored(runtime, thing_id) == ("After", 2)
    # the event the aggregate recorded is published at the version the save gave it
    assert await updates_published(runtime, thing_id) == [2]
    # without If-Match (or with *) the edit applies to whatever is current
    r = await client.patch(f"/v1/probes/{thing_id}", json={"name": "Third"}, headers=h)
    assert r.status_code == 200 and r.headers["etag"] == '"3"'
    r = await client.patch(
        f"/v1/probes/{thing_id}", json={"name": "Fourth"}, headers={**h, "If-Match": "*"}
    )
    assert r.status_code == 200 and r.headers["etag"] == '"4"'
    assert await updates_published(runtime, thing_id) == [2, 3, 4]


async def test_an_edit_with_a_stale_etag_answers_412_with_the_current_one(client, tokens, runtime):
    h = tokens.headers(Role.staff)
    thing_id = await create(client, h, "Shared")
    first = await client.patch(
        f"/v1/probes/{thing_id}", json={"name": "Mine"}, headers={**h, "If-Match": '"1"'}
    )
    assert first.status_code == 200
    for stale in ('"1"', '"7"', '"garbage"'):
        late = await client.patch(
            f"/v1/probes/{thing_id}", json={"name": "Yours"}, headers={**h, "If-Match": stale}
        )
        body = assert_problem(late, 412)
        assert body["title"] == "Precondition failed"
        assert late.headers["etag"] == '"2"'
    assert await stored(runtime, thing_id) == ("Mine", 2)
    assert await updates_published(runtime, thing_id) == [2]


async def test_a_missing_thing_or_another_tenants_answers_404_and_changes_nothing(
    client, tokens, runtime
):
    h = tokens.headers(Role.staff)
    thing_id = await create(client, h, "Private")
    body = assert_problem(
        await client.patch(f"/v1/probes/{uuid.uuid4()}", json={"name": "X"}, headers=h), 404
    )
    assert body["title"] == "Not found" and "thing" in body["detail"]
    assert_problem(await client.get(f"/v1/probes/{uuid.uuid4()}", headers=h), 404)

    stranger = tokens.headers(Role.admin, tenant_id=uuid.uuid4())
    other = await client.patch(
        f"/v1/probes/{thing_id}", json={"name": "Stolen"}, headers={**stranger, "If-Match": '"1"'}
    )
    assert assert_problem(other, 404)["detail"] == body["detail"]  # indistinguishable
    assert "etag" not in other.headers
    assert_problem(await client.get(f"/v1/probes/{thing_id}", headers=stranger), 404)
    assert await stored(runtime, thing_id) == ("Private", 1)


async def test_a_broken_rule_answers_422_naming_the_field_and_changes_nothing(
    client, tokens, runtime
):
    h = tokens.headers(Role.staff)
    thing_id = await create(client, h, "Fine")
    r = await client.patch(
        f"/v1/probes/{thing_id}", json={"name": "Forbidden"}, headers={**h, "If-Match": '"1"'}
    )
    body = assert_problem(r, 422)
    assert [e["field"] for e in body["errors"]] == ["name"]
    assert await stored(runtime, thing_id) == ("Fine", 1)
    assert await updates_published(runtime, thing_id) == []


async def test_a_conflict_with_the_current_state_answers_409_naming_the_field(
    client, tokens, runtime
):
    h = tokens.headers(Role.staff)
    thing_id = await create(client, h, kit_probe.FROZEN_NAME)
    r = await client.patch(f"/v1/probes/{thing_id}", json={"name": "Thawed"}, headers=h)
    body = assert_problem(r, 409)
    assert body["title"] == "Conflict"
    assert [e["field"] for e in body["errors"]] == ["name"]
    assert await stored(runtime, thing_id) == (kit_probe.FROZEN_NAME, 1)


@pytest.mark.parametrize(
    "name",
    ["a\x00b", "evil\u202egnp.exe", "ad\u200bmin", "   "],
    ids=["NUL", "RLO", "zero-width", "blank"],
)
async def test_unstorable_names_answer_422_naming_the_field_on_create_and_edit(
    client, tokens, runtime, name
):
    h = tokens.headers(Role.staff)
    body = assert_problem(await client.post("/v1/probes", json={"name": name}, headers=h), 422)
    assert [e["field"] for e in body["errors"]] == ["name"]
    thing_id = await create(client, h, "Clean")
    r = await client.patch(f"/v1/probes/{thing_id}", json={"name": name}, headers=h)
    assert [e["field"] for e in assert_problem(r, 422)["errors"]] == ["name"]
    assert await stored(runtime, thing_id) == ("Clean", 1)


async def test_a_method_a_fixed_path_does_not_serve_answers_405_not_a_path_error(client, tokens):
    h = tokens.headers(Role.staff)
    r = await client.patch("/v1/probes/whoami", json={"name": "X"}, headers=h)
    body = assert_problem(r, 405)
    assert "GET" in {m.strip() for m in r.headers["allow"].split(",")}
    assert "PATCH" not in r.headers["allow"]
    assert "errors" not in body
    # the fixed path itself still serves GET
    assert (await client.get("/v1/probes/whoami", headers=h)).status_code == 200
    # a path no fixed route serves is an invalid id, named
    body = assert_problem(
        await client.patch("/v1/probes/not-a-uuid", json={"name": "X"}, headers=h), 422
    )
    assert [e["field"] for e in body["errors"]] == ["thing_id"]


# --- repositories -----------------------------------------------------------------------


class ThingTable(TableRepository):
    table = things
    what = "thing"


async def test_a_repository_sees_and_writes_only_its_own_tenant(runtime):
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    async with runtime.uow() as uow:
        table = ThingTable(uow.session, mine)
        row = await table.insert({"id": uuid.uuid4(), "name": "Mine", "tenant_id": theirs})
        assert row["tenant_id"] == mine and row["version"] == 1  # the repository's tenant wins
        thing = await ThingRepository(uow.session, mine).add(
            Thing(id=uuid.uuid4(), tenant_id=mine, name="Also mine")
        )
        await uow.commit()

    async with runtime.uow() as uow:
        other = ThingRepository(uow.session, theirs)
        for found_id in (row["id"], thing.id):
            assert await other.get(found_id) is None
            with pytest.raises(NotFoundError) as caught:
                await other.require(found_id)
            assert "thing" in caught.value.message
            with pytest.raises(NotFoundError):
                await other.update(found_id, {"name": "Stolen"})
            with pytest.raises(NotFoundError):
                await other.update(found_id, {"name": "Stolen"}, expected_version=1)
        stray = Thing(id=thing.id, tenant_id=theirs, name="Stolen", version=1)
        stray.change(name="Stolen")
        with pytest.raises(NotFoundError):
            await other.save(stray)
        await uow.commit()

    async with runtime.uow() as uow:
        repo = ThingRepository(uow.session, mine)
        loaded = await repo.require(thing.id)
        assert isinstance(loaded, Thing)
        assert (loaded.name, loaded.version, loaded.tenant_id) == ("Also mine", 1, mine)
        assert (await ThingTable(uow.session, mine).require(row["id"]))["name"] == "Mine"


async def test_adding_an_aggregate_of_another_tenant_never_lands_in_that_tenant(runtime):
    mine, theirs = uuid.uuid4(), uuid.uuid4()
    planted = Thing(id=uuid.uuid4(), tenant_id=theirs, name="Planted")
    async with runtime.uow() as uow:
        try:
            await ThingRepository(uow.session, mine).add(planted)
        except (DomainError, ValueError):
            pass  # refusing is fine too
        else:
            await uow.commit()
    async with runtime.uow() as uow:
        assert await ThingRepository(uow.session, theirs).get(planted.id) is None


async def test_concurrent_saves_the_second_is_stale_and_names_the_current_version(runtime):
    tenant = uuid.uuid4()
    async with runtime.uow() as uow:
        thing = await ThingRepository(uow.session, tenant).add(
            Thing(id=uuid.uuid4(), tenant_id=tenant, name="Start")
        )
        await uow.commit()

    async with runtime.uow() as first, runtime.uow() as second:
        a = await ThingRepository(first.session, tenant).require(thing.id)
        b = await ThingRepository(second.session, tenant).require(thing.id)
        a.rename("By first")
        await ThingRepository(first.session, tenant).save(a)
        first.publish_recorded(a)
        await first.commit()
        assert a.version == 2 and not a.changed

        b.rename("By second")
        with pytest.raises(StaleVersion) as caught:
            await ThingRepository(second.session, tenant).save(b)
        assert caught.value.current == 2
        assert from_domain(caught.value).headers == {"ETag": '"2"'}

    async with runtime.uow() as uow:
        current = await ThingRepository(uow.session, tenant).require(thing.id)
        assert (current.name, current.version) == ("By first", 2)
    assert await updates_published(runtime, str(thing.id)) == [2]


async def test_a_save_without_changes_writes_nothing_and_publishes_nothing(runtime):
    tenant = uuid.uuid4()
    async with runtime.uow() as uow:
        repo = ThingRepository(uow.session, tenant)
        thing = await repo.add(Thing(id=uuid.uuid4(), tenant_id=tenant, name="Same"))
        thing.rename("Same")  # no change
        await repo.save(thing)
        assert uow.publish_recorded(thing) == []
        await uow.commit()
    async with runtime.engine.connect() as conn:
        version = (
            await conn.execute(select(things.c.version).where(things.c.id == thing.id))
        ).scalar_one()
    assert version == 1


async def test_table_update_bumps_the_version_and_checks_the_expected_one(runtime):
    tenant = uuid.uuid4()
    async with runtime.uow() as uow:
        table = ThingTable(uow.session, tenant)
        row = await table.insert({"id": uuid.uuid4(), "name": "v1"})
        row = await table.update(row["id"], {"name": "v2"})
        assert (row["name"], row["version"]) == ("v2", 2)
        row = await table.update(row["id"], {"name": "v3"}, expected_version=2)
        assert row["version"] == 3
        with pytest.raises(StaleVersion) as caught:
            await table.update(row["id"], {"name": "late"}, expected_version=2)
        assert caught.value.current == 3
        await uow.commit()
    async with runtime.engine.connect() as conn:
        count = (
            await conn.execute(
                select(func.count()).select_from(things).where(things.c.tenant_id == tenant)
            )
        ).scalar_one()
    assert count == 1


# --- aggregates (no database) -----------------------------------------------------------


def test_an_aggregate_remembers_what_changed_and_hands_its_events_over_once():
    thing = Thing(id=uuid.uuid4(), tenant_id=uuid.uuid4(), name="Old")
    assert thing.version == 1 and not thing.changed
    thing.rename("New")
    assert thing.changed == {"name"} and thing.name == "New"
    events = thing.collect_events()
    assert [type(e) for e in events] == [CustomerUpdated]
    assert events[0].first_name == "New"
    assert thing.collect_events() == []
    with pytest.raises(AttributeError):
        thing.change(colour="red")
    thing.saved({"version": 2, "name": "New"})
    assert thing.version == 2 and not thing.changed
    assert Thing.from_row(thing.to_row() | {"unrelated": 1}).to_row() == thing.to_row()


def test_a_rule_names_its_field_and_leaves_the_aggregate_unchanged():
    thing = Thing(id=uuid.uuid4(), tenant_id=uuid.uuid4(), name="Old")
    with pytest.raises(RuleBroken) as caught:
        thing.rename("FORBIDDEN")
    assert caught.value.field == "name" and caught.value.status == 422
    assert thing.name == "Old" and not thing.changed and thing.collect_events() == []
