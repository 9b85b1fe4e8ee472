"""The summary read model (C5) kept from other services' events on the real broker."""

import uuid
from datetime import timedelta

from customers_testing import NOW, account, balance, booking
from sqlalchemy import select

from frontdesk.contracts.credits import MembershipAssigned, MembershipChanged
from frontdesk.contracts.scheduling import (
    BookingAttended,
    BookingCancelled,
    BookingConfirmed,
    BookingCustomerLinked,
    BookingRejected,
    BookingRequested,
    BookingRescheduled,
)
from frontdesk.customers.adapters.tables import customer_bookings, customer_summaries
from frontdesk.kit.testing import wait_for

ADA = {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"}


async def make(client, tokens):
    return (await client.post("/v1/customers", json=ADA, headers=tokens.headers())).json()["id"]


async def summary_of(client, tokens, cid):
    r = await client.get(f"/v1/customers/{cid}", headers=tokens.headers())
    return r.json()["summary"]


async def test_credits_and_billing_reach_the_summary(sent, runtime, client, tokens, tenant_id):
    cid = await make(client, tokens)
    await sent.emit(balance(cid, available=8, paused=2, purchased=20), tenant_id, cid, 1)
    await sent.emit(account(cid, spend=99_50, outstanding=10_00), tenant_id, cid, 1)
    await sent.handled()
    s = await summary_of(client, tokens, cid)
    assert (s["credits_available"], s["credits_paused"], s["credits_purchased"]) == (8, 2, 20)
    assert (s["lifetime_spend_minor"], s["outstanding_minor"], s["currency"]) == (
        99_50,
        10_00,
        "EUR",
    )


async def test_stale_events_are_ignored(sent, runtime, client, tokens, tenant_id):
    cid = await make(client, tokens)
    await sent.emit(balance(cid, available=3, purchased=10), tenant_id, cid, 3)
    await sent.emit(account(cid, spend=300), tenant_id, cid, 3)
    await sent.handled()
    await sent.emit(balance(cid, available=9, purchased=9), tenant_id, cid, 2)
    await sent.emit(account(cid, spend=200), tenant_id, cid, 2)
    await sent.handled()
    s = await summary_of(client, tokens, cid)
    assert s["credits_available"] == 3 and s["credits_purchased"] == 10
    assert s["lifetime_spend_minor"] == 300


async def test_duplicate_delivery_has_one_effect(sent, runtime, client, tokens, tenant_id):
    cid = await make(client, tokens)
    taken = runtime.consumer.handled
    confirmed = booking(BookingConfirmed, customer_id=cid)
    env = await sent.emit(confirmed, tenant_id, confirmed.booking_id, 1)
    await sent.broker.publish(env)
    await sent.broker.publish(env)
    other = booking(BookingConfirmed, customer_id=cid)
    await sent.emit(other, tenant_id, other.booking_id, 1)
    await sent.handled()
    await wait_for(lambda: _true_when(runtime.consumer.handled >= taken + 4))
    s = await summary_of(client, tokens, cid)
    assert s["bookings_count"] == 2
    r = await client.get(f"/v1/customers/{cid}/activity", headers=tokens.headers())
    assert len(r.json()["items"]) == 2


async def _true_when(condition):
    return condition or None


async def test_booking_lifecycle_and_next_session(sent, runtime, client, tokens, tenant_id):
    cid = await make(client, tokens)
    past = booking(BookingConfirmed, customer_id=cid, starts_at=NOW - timedelta(days=10))
    soon = booking(
        BookingConfirmed, customer_id=cid, starts_at=NOW + timedelta(days=2), title="Evening Flow"
    )
    later = booking(BookingConfirmed, customer_id=cid, starts_at=NOW + timedelta(days=9))
    for event in (past, soon, later):
        await sent.emit(event, tenant_id, event.booking_id, 1)
    await sent.emit(
        booking(
            BookingAttended, customer_id=cid, booking_id=past.booking_id, starts_at=past.starts_at
        ),
        tenant_id,
        past.booking_id,
        2,
    )
    await sent.handled()
    s = await summary_of(client, tokens, cid)
    assert s["bookings_count"] == 3 and s["engagement"] == "growing"
    assert s["next_session"]["title"] == "Evening Flow"
    assert s["first_booking_at"].startswith(past.starts_at.date().isoformat())
    # Cancel the next one, move the last: the counts and next session follow.
    await sent.emit(
        booking(
            BookingCancelled,
            customer_id=cid,
            booking_id=soon.booking_id,
            starts_at=soon.starts_at,
            refund=True,
        ),
        tenant_id,
        soon.booking_id,
        2,
    )
    moved = NOW + timedelta(days=5)
    await sent.emit(
        booking(
            BookingRescheduled,
            customer_id=cid,
            booking_id=later.booking_id,
            starts_at=moved,
            previous_starts_at=later.starts_at,
        ),
        tenant_id,
        later.booking_id,
        2,
    )
    await sent.handled()
    s = await summary_of(client, tokens, cid)
    assert s["bookings_count"] == 2 and s["engagement"] == "active"
    assert s["next_session"]["booking_id"] == str(later.booking_id)
    assert s["last_booking_at"].startswith(moved.date().isoformat())
    # A stale confirmation of the cancelled booking changes nothing.
    await sent.emit(soon, tenant_id, soon.booking_id, 1)
    await sent.handled()
    assert (await summary_of(client, tokens, cid))["bookings_count"] == 2


async def test_events_before_the_customer_exists_are_kept(sent, runtime, client, tokens, tenant_id):
    """A guest booking linked later, and credits for a customer id not created here yet."""
    cid = uuid.uuid4()
    await sent.emit(balance(cid, available=4), tenant_id, cid, 1)
    guest_booking = booking(BookingConfirmed, customer_id=None)
    await sent.emit(guest_booking, tenant_id, guest_booking.booking_id, 2)
    await sent.handled()
    async with runtime.engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    select(customer_summaries).where(customer_summaries.c.customer_id == cid)
                )
            )
            .mappings()
            .one()
        )
    assert row["credits_available"] == 4 and row["tenant_id"] == tenant_id
    # The guest is resolved elsewhere; scheduling links the booking (version 3).
    real = await make(client, tokens)
    await sent.emit(
        booking(
            BookingCustomerLinked,
            customer_id=real,
            booking_id=guest_booking.booking_id,
            starts_at=guest_booking.starts_at,
        ),
        tenant_id,
        guest_booking.booking_id,
        3,
    )
    await sent.handled()
    s = await summary_of(client, tokens, real)
    assert s["bookings_count"] == 1  # still confirmed, now counted for the customer


async def test_membership_shown_and_stale_changes_ignored(sent, runtime, client, tokens, tenant_id):
    cid = await make(client, tokens)
    mid = uuid.uuid4()
    common = {
        "membership_id": mid,
        "customer_id": cid,
        "plan_id": uuid.uuid4(),
        "discount_percent": 10,
        "starts_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=30),
    }
    await sent.emit(
        MembershipAssigned(plan_name="Gold", assigned_by="x", **common), tenant_id, mid, 1
    )
    await sent.emit(
        MembershipChanged(plan_name="Platinum", change="upgraded", changed_by="x", **common),
        tenant_id,
        mid,
        3,
    )
    await sent.handled()
    await sent.emit(
        MembershipChanged(plan_name="Silver", change="downgraded", changed_by="x", **common),
        tenant_id,
        mid,
        2,
    )
    await sent.handled()
    s = await summary_of(client, tokens, cid)
    assert s["membership"]["plan_name"] == "Platinum"
    assert s["membership"]["expires_at"].startswith(common["expires_at"].date().isoformat())


async def test_rejected_booking_is_shown_rejected_and_not_counted(
    sent, runtime, client, tokens, tenant_id
):
    """The saga's rejection (no credits, timeout) must not leave the booking pending here."""
    cid = await make(client, tokens)
    requested = booking(BookingRequested, customer_id=cid, starts_at=NOW + timedelta(days=3))
    await sent.emit(requested, tenant_id, requested.booking_id, 1)
    await sent.emit(
        booking(
            BookingRejected,
            customer_id=cid,
            booking_id=requested.booking_id,
            starts_at=requested.starts_at,
            reason="insufficient_credits",
        ),
        tenant_id,
        requested.booking_id,
        2,
    )
    await sent.handled()
    async with runtime.engine.connect() as conn:
        status = await conn.scalar(
            select(customer_bookings.c.status).where(
                customer_bookings.c.booking_id == requested.booking_id
            )
        )
    assert status == "rejected"
    s = await summary_of(client, tokens, cid)
    assert s["bookings_count"] == 0 and s["next_session"] is None
    activity = (await client.get(f"/v1/customers/{cid}/activity", headers=tokens.headers())).json()
    assert any("rejected" in item["summary"].lower() for item in activity["items"])
