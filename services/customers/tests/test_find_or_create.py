"""Likely duplicates (C1) and find-or-create by email, over HTTP and from guest bookings (C4)."""

import asyncio
import uuid

from customers_testing import booking
from sqlalchemy import func, select

from frontdesk.contracts.base import Contact
from frontdesk.contracts.scheduling import BookingRequested
from frontdesk.customers.adapters.tables import customers, messaging
from frontdesk.kit.testing import wait_for

ADA = {
    "first_name": "Ada",
    "last_name": "Lovelace",
    "email": "ada@example.com",
    "phone": "+447911123456",
}


async def test_likely_duplicates_are_flagged_not_blocked(client, tokens):
    admin = tokens.headers()
    first = (await client.post("/v1/customers", json=ADA, headers=admin)).json()
    assert first["possible_duplicates"] == []
    same_email = await client.post(
        "/v1/customers",
        headers=admin,
        json={"first_name": "Augusta", "last_name": "King", "email": "ADA@example.com"},
    )
    assert same_email.status_code == 201
    assert same_email.json()["possible_duplicates"] == [first["id"]]
    same_phone = (
        await client.post(
            "/v1/customers",
            headers=admin,
            json={"first_name": "Someone", "last_name": "Else", "phone": "07911 123456"},
        )
    ).json()
    assert same_phone["possible_duplicates"] == [first["id"]]
    same_name = (
        await client.post(
            "/v1/customers",
            headers=admin,
            json={"first_name": "ADA", "last_name": "lovelace", "email": "other@example.com"},
        )
    ).json()
    assert same_name["possible_duplicates"] == [first["id"]]
    unrelated = (
        await client.post(
            "/v1/customers",
            headers=admin,
            json={"first_name": "Grace", "last_name": "Hopper", "email": "grace@example.com"},
        )
    ).json()
    assert unrelated["possible_duplicates"] == []
    # GET shows them too, both ways; another tenant's look-alike never appears.
    await client.post("/v1/customers", json=ADA, headers=tokens.headers(tenant_id=uuid.uuid4()))
    again = (await client.get(f"/v1/customers/{first['id']}", headers=admin)).json()
    assert set(again["possible_duplicates"]) == {
        same_email.json()["id"],
        same_phone["id"],
        same_name["id"],
    }


async def test_find_or_create_creates_then_finds(client, tokens):
    admin = tokens.headers()
    r = await client.post(
        "/v1/customers/find-or-create",
        headers=admin,
        json={"first_name": "Ada", "last_name": "Lovelace", "email": "Ada@Example.com"},
    )
    assert r.status_code == 201, r.text
    again = await client.post(
        "/v1/customers/find-or-create",
        headers=admin,
        json={"first_name": "A.", "last_name": "L.", "email": "ada@example.COM"},
    )
    assert again.status_code == 200
    assert again.json()["id"] == r.json()["id"]
    assert again.json()["first_name"] == "Ada"  # found, not overwritten
    bad = await client.post(
        "/v1/customers/find-or-create",
        headers=admin,
        json={"first_name": "Ada", "last_name": "L", "email": "nope"},
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "email"


async def test_concurrent_find_or_create_makes_exactly_one(client, tokens, runtime, tenant_id):
    admin = tokens.headers()
    body = {"first_name": "Ada", "last_name": "Lovelace", "email": "race@example.com"}
    responses = await asyncio.gather(
        *(client.post("/v1/customers/find-or-create", headers=admin, json=body) for _ in range(20))
    )
    assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    async with runtime.engine.connect() as conn:
        count = await conn.scalar(
            select(func.count()).select_from(customers).where(customers.c.tenant_id == tenant_id)
        )
        registered = await conn.scalar(
            select(func.count())
            .select_from(messaging.outbox)
            .where(
                messaging.outbox.c.routing_key == "customers.customer.registered.v1",
                messaging.outbox.c.tenant_id == tenant_id,
            )
        )
    assert count == 1 and registered == 1
    # Same email in another tenant is another customer.
    other = await client.post(
        "/v1/customers/find-or-create", json=body, headers=tokens.headers(tenant_id=uuid.uuid4())
    )
    assert other.status_code == 201


def _requested(guest, customer_id=None):
    return booking(BookingRequested, customer_id=customer_id, guest=guest)


async def _outbox(runtime, routing_key, tenant_id):
    # Filtered by tenant: other services' tests may share the bus within one run.
    async with runtime.engine.connect() as conn:
        rows = (
            (
                await conn.execute(
                    select(messaging.outbox.c.envelope).where(
                        messaging.outbox.c.routing_key == routing_key,
                        messaging.outbox.c.tenant_id == tenant_id,
                    )
                )
            )
            .scalars()
            .all()
        )
    return list(rows)


async def test_guest_booking_is_resolved_to_one_customer(
    broker, runtime, client, tokens, tenant_id
):
    guest = Contact(
        first_name="Grace", last_name="Hopper", email="Grace@Example.com", phone="+44 7911 123456"
    )
    first = _requested(guest)
    await broker.emit(first, tenant_id, first.booking_id)
    resolved = await wait_for(lambda: _outbox(runtime, "customers.guest.resolved.v1", tenant_id))
    payload = resolved[0]["payload"]
    assert resolved[0]["aggregate_id"] == str(first.booking_id)
    assert payload["booking_id"] == str(first.booking_id) and payload["created"] is True
    customer = (
        await client.get(f"/v1/customers/{payload['customer_id']}", headers=tokens.headers())
    ).json()
    assert customer["email"] == "grace@example.com" and customer["source"] == "booking"
    assert customer["phone"] == "+447911123456"
    registered = await _outbox(runtime, "customers.customer.registered.v1", tenant_id)
    assert [r["payload"]["source"] for r in registered] == ["booking"]

    # A second booking by the same email finds the customer; nothing new is registered.
    second = _requested(guest.model_copy(update={"email": "grace@example.com "}))
    await broker.emit(second, tenant_id, second.booking_id)

    async def two():
        rows = await _outbox(runtime, "customers.guest.resolved.v1", tenant_id)
        return rows if len(rows) == 2 else None

    rows = await wait_for(two)
    later = next(r for r in rows if r["payload"]["booking_id"] == str(second.booking_id))
    assert later["payload"] == {
        "booking_id": str(second.booking_id),
        "customer_id": payload["customer_id"],
        "created": False,
    }
    assert len(await _outbox(runtime, "customers.customer.registered.v1", tenant_id)) == 1


async def test_guest_without_usable_email_is_logged_not_crashing(broker, runtime, tenant_id):
    bad = _requested(Contact(first_name="No", last_name="Mail", email="not an email"))
    none = _requested(Contact(first_name="No", last_name="Mail", phone="+447911123456"))
    good = _requested(Contact(first_name="Ok", last_name="Guest", email="ok@example.com"))
    for event in (bad, none, good):
        await broker.emit(event, tenant_id, event.booking_id)
    rows = await wait_for(lambda: _outbox(runtime, "customers.guest.resolved.v1", tenant_id))
    assert [r["payload"]["booking_id"] for r in rows] == [str(good.booking_id)]
    async with runtime.engine.connect() as conn:
        emails = (
            (
                await conn.execute(
                    select(customers.c.email).where(customers.c.tenant_id == tenant_id)
                )
            )
            .scalars()
            .all()
        )
    assert emails == ["ok@example.com"]
