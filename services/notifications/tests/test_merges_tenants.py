"""Customers merged and unmerged (customers' events through the real broker): the merged
customer's messages and bookings move to the survivor, the stricter consent holds, a
message still addressed to the merged id goes to the survivor's details; once however
often the event comes; the unmerge moves exactly that back. The tenant's settings from
the gateway (identity.tenant.changed) change the next message's language, venue name
and, for a booking whose zone was not told, its local time; the newest event wins."""

import uuid
from datetime import UTC, timedelta
from typing import Any

from sqlalchemy import text

from frontdesk.contracts.customers import CustomerMerged, CustomerUnmerged
from frontdesk.contracts.identity import TenantChanged

from .conftest import address, in_days, phone, settled


def merged(merge_id: uuid.UUID, survivor: uuid.UUID, gone: uuid.UUID) -> CustomerMerged:
    return CustomerMerged(
        merge_id=merge_id, survivor_id=survivor, merged_id=gone, merged_by="staff-1"
    )


def unmerged(merge_id: uuid.UUID, survivor: uuid.UUID, gone: uuid.UUID) -> CustomerUnmerged:
    return CustomerUnmerged(
        merge_id=merge_id, survivor_id=survivor, merged_id=gone, unmerged_by="staff-1"
    )


async def ids_of(world, customer_id: uuid.UUID) -> set[uuid.UUID]:
    return {m["id"] for m in await world.messages(customer_id=customer_id)}


async def consent(client, tokens, customer_id: uuid.UUID) -> tuple[bool, bool]:
    r = await client.get(f"/v1/contact-preferences/{customer_id}", headers=tokens.headers("staff"))
    assert r.status_code == 200, r.text
    return r.json()["sms"], r.json()["email"]


async def test_a_merge_moves_the_log_once_keeps_the_stricter_consent_and_unmerges(
    world, client, tokens, fakes
):
    own_phone, their_phone = phone(), phone()
    survivor = await world.customer(sms=own_phone, email=address())
    gone = await world.customer(sms=their_phone, email=address(), first_name="Ada L.")
    r = await client.patch(
        f"/v1/contact-preferences/{gone}", json={"email": False}, headers=tokens.headers("staff")
    )
    assert r.status_code == 200, r.text
    booking_id = uuid.uuid4()
    await world.tell(world.booking(gone, in_days(20), booking_id=booking_id), booking_id, 2)
    theirs = await ids_of(world, gone)
    own = await ids_of(world, survivor)
    assert len(theirs) == 6  # the confirmation and both reminders, on both channels
    consent_events = len(await world.outbox("notifications.consent.changed.v1"))

    merge_id = uuid.uuid4()
    await world.tell(merged(merge_id, survivor, gone), merge_id)
    assert await ids_of(world, survivor) == own | theirs
    assert await ids_of(world, gone) == set()
    # The stricter consent wins: the merged record's email opt-out holds for the survivor.
    assert await consent(client, tokens, survivor) == (True, False)
    changes = await world.outbox("notifications.consent.changed.v1")
    assert len(changes) == consent_events + 1
    assert changes[-1]["payload"] | {"source": "staff"} == {
        "customer_id": str(survivor),
        "channel": "email",
        "consent": False,
        "source": "staff",
    }
    r = await client.get(f"/v1/messages?customer_id={survivor}", headers=tokens.headers("staff"))
    assert {uuid.UUID(m["id"]) for m in r.json()["items"]} >= theirs

    # The same merge again, under a new message id: nothing moves, nothing is told.
    await world.tell(merged(merge_id, survivor, gone), merge_id)
    assert len(await world.outbox("notifications.consent.changed.v1")) == len(changes)
    assert await ids_of(world, gone) == set()

    # A message still addressed to the merged id (a late event) goes to the survivor.
    late = uuid.uuid4()
    await world.tell(world.booking(gone, in_days(12), booking_id=late), late, 2)

    def confirmation(ms: list[dict[str, Any]], channel: str) -> dict[str, Any] | None:
        return next(
            (
                m
                for m in ms
                if m["booking_id"] == late
                and m["kind"] == "booking_confirmed"
                and m["channel"] == channel
            ),
            None,
        )

    found = await settled(
        world,
        lambda ms: (
            (confirmation(ms, "sms") or {}).get("status") == "delivered"
            and (confirmation(ms, "email") or {}).get("status") == "skipped"
        ),
    )
    sms = confirmation(found, "sms")
    assert sms is not None and sms["recipient"] == own_phone and sms["customer_id"] == gone
    # Both confirmations (the moved one and the late one) went to the survivor's number.
    assert fakes.accepted(their_phone) == [] and len(fakes.accepted(own_phone)) == 2

    # The unmerge moves exactly what the merge moved back and lifts the merge's opt-out.
    await world.tell(unmerged(merge_id, survivor, gone), merge_id, version=2)
    assert await ids_of(world, gone) == theirs | {m["id"] for m in found if m["booking_id"] == late}
    assert await ids_of(world, survivor) == own
    assert await consent(client, tokens, survivor) == (True, True)
    assert await consent(client, tokens, gone) == (True, False)
    # Replayed, neither the unmerge nor the (undone) merge changes anything.
    await world.tell(unmerged(merge_id, survivor, gone), merge_id, version=2)
    await world.tell(merged(merge_id, survivor, gone), merge_id)
    assert await ids_of(world, survivor) == own
    assert await consent(client, tokens, survivor) == (True, True)


async def test_an_unmerge_before_its_merge_leaves_both_records_alone(world):
    survivor = await world.customer(sms=phone())
    gone = await world.customer(sms=phone())
    booking_id = uuid.uuid4()
    await world.tell(world.booking(gone, in_days(20), booking_id=booking_id), booking_id, 2)
    theirs = await ids_of(world, gone)
    merge_id = uuid.uuid4()
    await world.tell(unmerged(merge_id, survivor, gone), merge_id, version=2)
    await world.tell(merged(merge_id, survivor, gone), merge_id)
    assert await ids_of(world, gone) == theirs
    assert await ids_of(world, survivor) == set()


def tenant_changed(tenant_id: uuid.UUID, **extra: Any) -> TenantChanged:
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "name": "Studio Nord",
        "slug": "studio-nord",
        "default_country": "CH",
        "language": "de",
        "currency": "CHF",
        "time_zone": "Europe/Zurich",
    }
    return TenantChanged(**(values | extra))


async def sms_body(world, fakes, number: str, booking_id: uuid.UUID) -> str:
    await settled(
        world,
        lambda ms: any(
            m["booking_id"] == booking_id and m["channel"] == "sms" and m["status"] == "delivered"
            for m in ms
        ),
    )
    [request] = [r for r in fakes.accepted(number) if r["body"]][-1:]
    return str(request["body"])


async def test_the_tenants_settings_change_the_next_messages_language_name_and_zone(
    world, fakes, tenant_id
):
    number = phone()
    customer = await world.customer(sms=number)
    # 18:00 in Zurich (and Berlin), told as a bare UTC time: no location zone known.
    start = in_days(10, hour=18).astimezone(UTC)
    first = uuid.uuid4()
    await world.tell(world.booking(customer, start, booking_id=first, timezone="UTC"), first, 2)
    before = await sms_body(world, fakes, number, first)
    assert "PM" in before and "Studio Nord" not in before  # the deployment's English, UTC

    await world.tell(tenant_changed(tenant_id), tenant_id, version=3)
    second = uuid.uuid4()
    await world.tell(world.booking(customer, start, booking_id=second, timezone="UTC"), second, 2)
    after = await sms_body(world, fakes, number, second)
    assert "18:00" in after and "Studio Nord" in after and "PM" not in after
    reminders = [m for m in await world.messages(booking_id=second) if m["kind"] == "reminder_24h"]
    # Reminded at 18:00 Zurich time the day before: the tenant's zone stood in.
    assert {m["due_at"] for m in reminders} == {start - timedelta(days=1)}

    # An older event arriving late changes nothing; a newer one does.
    await world.tell(tenant_changed(tenant_id, name="Old", language="en"), tenant_id, version=2)
    async with world.runtime.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT name, language FROM tenant_settings WHERE tenant_id = :t"),
                {"t": tenant_id},
            )
        ).one()
    assert tuple(row) == ("Studio Nord", "de")
    await world.tell(tenant_changed(tenant_id, name="Studio Süd", language="fr"), tenant_id, 4)
    third = uuid.uuid4()
    located = world.booking(customer, start, booking_id=third, timezone="Europe/London")
    await world.tell(located, third, 2)
    last = await sms_body(world, fakes, number, third)
    assert "Studio Süd" in last and "17:00" in last  # a told zone is the location's own
