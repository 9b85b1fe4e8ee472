"""Deleted customers stay gone whatever arrives later; last activity is the latest thing
the customer did (C5/C7), from every source, never moving backwards. Real broker."""

import asyncio
import uuid
from datetime import datetime, timedelta

import pytest
from conftest import envelope
from customers_testing import NOW, account, balance, booking
from sqlalchemy import func, select

from frontdesk.contracts.base import Contact
from frontdesk.contracts.billing import InvoiceIssued, InvoicePaid
from frontdesk.contracts.credits import (
    BalanceChanged,
    MembershipAssigned,
    PackagePurchased,
    PackageToppedUp,
)
from frontdesk.contracts.identity import CustomerAccountCreated, LoginSucceeded
from frontdesk.contracts.notifications import MessageSent
from frontdesk.contracts.scheduling import (
    BookingAttended,
    BookingCancelled,
    BookingConfirmed,
    BookingCustomerLinked,
    BookingNoShow,
    BookingRejected,
    BookingRequested,
    BookingRescheduled,
)
from frontdesk.customers import consumers
from frontdesk.customers.adapters.summaries import SummaryRepository
from frontdesk.customers.adapters.tables import (
    customer_activity,
    customer_bookings,
    customer_memberships,
    customer_summaries,
    deleted_customers,
)
from frontdesk.kit.consumer import Batched


async def make(client, tokens, first="Ada", last="Lovelace", email="ada@example.com"):
    body = {"first_name": first, "last_name": last, "email": email}
    r = await client.post("/v1/customers", json=body, headers=tokens.headers())
    assert r.status_code == 201, r.text
    return r.json()["id"]


async def rows_about(runtime, cid):
    counts = {}
    async with runtime.engine.connect() as conn:
        for table in (
            customer_summaries,
            customer_bookings,
            customer_activity,
            customer_memberships,
        ):
            counts[table.name] = await conn.scalar(
                select(func.count()).select_from(table).where(table.c.customer_id == cid)
            )
    return counts


def purchased(cid, price=50_00):
    return PackagePurchased(
        package_id=uuid.uuid4(),
        customer_id=cid,
        name="10 classes",
        credits=10,
        price_minor=price,
        purchased_by="front-desk",
    )


def invoice(cls, cid, **extra):
    return cls(
        invoice_id=uuid.uuid4(),
        number="2026-0001",
        customer_id=cid,
        total_minor=30_00,
        currency="EUR",
        **extra,
    )


# -- deleted customers ------------------------------------------------------------------


async def test_events_after_delete_bring_nothing_back(sent, client, tokens, runtime, tenant_id):
    cid = await make(client, tokens)
    other = await make(client, tokens, "Grace", "Hopper", "grace@example.com")
    first = booking(BookingConfirmed, customer_id=cid)
    await sent.emit(first, tenant_id, first.booking_id, 1)
    await sent.emit(balance(cid, available=2, purchased=2), tenant_id, cid, 1)
    await sent.handled()
    assert (
        await client.delete(f"/v1/customers/{cid}", headers=tokens.headers())
    ).status_code == 204

    # Everything still in flight about the customer arrives after the delete.
    c = uuid.UUID(cid)
    await sent.emit(balance(c, available=7, paused=1, purchased=9), tenant_id, c, 5)
    await sent.emit(account(c, spend=99_00, outstanding=5_00), tenant_id, c, 5)
    attended = booking(BookingAttended, customer_id=c, booking_id=first.booking_id)
    await sent.emit(attended, tenant_id, first.booking_id, 2)
    late = booking(BookingConfirmed, customer_id=c)
    await sent.emit(late, tenant_id, late.booking_id, 2)
    await sent.emit(purchased(c), tenant_id)
    await sent.emit(invoice(InvoicePaid, c, paid_minor=30_00), tenant_id)
    await sent.emit(MessageSent(message_id=uuid.uuid4(), customer_id=c, channel="sms"), tenant_id)
    mid = uuid.uuid4()
    await sent.emit(
        MembershipAssigned(
            membership_id=mid,
            customer_id=c,
            plan_id=uuid.uuid4(),
            plan_name="Gold",
            discount_percent=10,
            starts_at=NOW,
            expires_at=NOW + timedelta(days=30),
            assigned_by="x",
        ),
        tenant_id,
        mid,
        1,
    )
    await sent.handled()

    staff = tokens.headers("staff")
    assert (await client.get(f"/v1/customers/{cid}", headers=staff)).status_code == 404
    listed = (await client.get("/v1/customers", headers=staff)).json()["items"]
    assert [i["id"] for i in listed] == [other]
    assert (await client.get("/v1/customers?q=lovelace", headers=staff)).json()["items"] == []
    stats = (await client.get("/v1/customers/stats", headers=staff)).json()
    assert stats["total_customers"] == 1 and stats["with_credits"] == 0
    assert stats["total_bookings"] == 0 and stats["total_revenue"] == []
    assert stats["tabs"]["paused_credits"] == 0
    # Nothing is kept about the customer again: no summary, booking, activity, membership.
    assert set((await rows_about(runtime, c)).values()) == {0}
    async with runtime.engine.connect() as conn:
        tombstones = await conn.scalar(
            select(func.count())
            .select_from(deleted_customers)
            .where(deleted_customers.c.customer_id == c, deleted_customers.c.tenant_id == tenant_id)
        )
    assert tombstones == 1


async def test_deleted_in_one_tenant_is_not_deleted_in_another(
    sent, client, tokens, runtime, tenant_id
):
    """The tombstone is per tenant: the same id elsewhere still gets its summary."""
    cid = await make(client, tokens)
    assert (
        await client.delete(f"/v1/customers/{cid}", headers=tokens.headers())
    ).status_code == 204
    elsewhere = uuid.uuid4()
    c = uuid.UUID(cid)
    await sent.emit(balance(c, available=3), elsewhere, c, 1)
    await sent.handled()
    async with runtime.engine.connect() as conn:
        kept = await conn.scalar(
            select(customer_summaries.c.credits_available).where(
                customer_summaries.c.tenant_id == elsewhere,
                customer_summaries.c.customer_id == c,
            )
        )
    assert kept == 3


async def test_an_event_handled_during_the_delete_goes_with_it(client, tokens, runtime, tenant_id):
    """The handler's check and write, and the delete, never interleave: a delete that
    starts while a handler is writing waits for it, then deletes what it wrote."""
    cid = await make(client, tokens)
    c = uuid.UUID(cid)
    async with runtime.uow() as uow:
        model = SummaryRepository(uow.session, tenant_id)
        assert not await model.forgotten(c)
        deleting = asyncio.create_task(
            client.delete(f"/v1/customers/{cid}", headers=tokens.headers())
        )
        await asyncio.sleep(0.3)
        assert not deleting.done()  # waiting for the handler's transaction
        assert await model.apply_balance(c, 1, available=5, paused=0, purchased=5)
        await uow.commit()
    assert (await deleting).status_code == 204
    assert set((await rows_about(runtime, c)).values()) == {0}
    async with runtime.uow() as uow:
        assert await SummaryRepository(uow.session, tenant_id).forgotten(c)


async def test_a_run_of_events_about_several_customers_keeps_a_deleted_one_gone(
    client, tokens, runtime, tenant_id
):
    """Events about several customers handled together (as the consumer hands a run of
    them over): the live customer's summary moves, nothing comes back about the deleted
    one, and a delete started meanwhile waits for the run's transaction."""
    live = uuid.UUID(await make(client, tokens))
    gone = uuid.UUID(await make(client, tokens, "Grace", "Hopper", "grace@example.com"))
    later = uuid.UUID(await make(client, tokens, "Alan", "Turing", "alan@example.com"))
    deleted = await client.delete(f"/v1/customers/{gone}", headers=tokens.headers())
    assert deleted.status_code == 204
    events = [
        (balance(live, available=4, purchased=4), live),
        (booking(BookingConfirmed, customer_id=live), None),
        (balance(gone, available=9, purchased=9), gone),
        (booking(BookingConfirmed, customer_id=gone), None),
        (booking(BookingConfirmed, customer_id=later), None),
    ]
    items = [
        (envelope(event, tenant_id, aggregate or event.booking_id, 1), event)
        for event, aggregate in events
    ]
    run = consumers.handlers[BookingConfirmed]
    assert isinstance(run, Batched) and consumers.handlers[BalanceChanged] is run
    async with runtime.uow() as uow:
        uow.hold_commits()  # one transaction for the run, as in the consumer
        await run.handle(uow, items)
        deleting = asyncio.create_task(
            client.delete(f"/v1/customers/{later}", headers=tokens.headers())
        )
        await asyncio.sleep(0.3)
        assert not deleting.done()  # the run holds its customers' locks to the commit
        await uow.commit_held()
    assert (await deleting).status_code == 204
    summary = (await client.get(f"/v1/customers/{live}", headers=tokens.headers())).json()
    assert summary["summary"]["credits_available"] == 4
    assert summary["summary"]["bookings_count"] == 1
    assert set((await rows_about(runtime, gone)).values()) == {0}
    assert set((await rows_about(runtime, later)).values()) == {0}


# -- last activity ----------------------------------------------------------------------


async def last_activity(client, tokens, cid):
    r = await client.get(f"/v1/customers/{cid}", headers=tokens.headers())
    value = r.json()["summary"]["last_activity_at"]
    return datetime.fromisoformat(value) if value else None


def near(a, b):
    return a is not None and abs(a - b) < timedelta(seconds=1)


async def test_last_activity_is_the_latest_thing_the_customer_did(sent, client, tokens, tenant_id):
    cid = await make(client, tokens)
    c = uuid.UUID(cid)
    ago = {d: NOW - timedelta(days=d) for d in (1, 2, 5, 10)}

    b = booking(BookingConfirmed, customer_id=c, starts_at=NOW + timedelta(days=3))
    await sent.emit(b, tenant_id, b.booking_id, 2, ago[10])
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), ago[10])  # booked

    await sent.emit(purchased(c), tenant_id, None, 1, ago[5])
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), ago[5])  # bought credits
    await sent.emit(purchased(c, price=0), tenant_id, None, 1, ago[2])
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), ago[5])  # a free grant is not
    top_up = PackageToppedUp(
        top_up_id=uuid.uuid4(),
        package_id=uuid.uuid4(),
        customer_id=c,
        name="10 classes",
        credits=5,
        price_minor=25_00,
        topped_up_by="front-desk",
    )
    await sent.emit(top_up, tenant_id, None, 2, ago[2])
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), ago[2])  # a bought top-up is

    # An older payment arriving late does not move it back.
    await sent.emit(invoice(InvoicePaid, c, paid_minor=30_00), tenant_id, None, 1, ago[5])
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), ago[2])

    # What the studio did, or what happened to the customer, is not their activity.
    recent = NOW - timedelta(hours=1)
    other = booking(BookingConfirmed, customer_id=c, starts_at=NOW - timedelta(hours=2))
    await sent.emit(other, tenant_id, other.booking_id, 1, ago[5])
    await sent.emit(
        MessageSent(message_id=uuid.uuid4(), customer_id=c, channel="email"),
        tenant_id,
        None,
        1,
        recent,
    )
    await sent.emit(invoice(InvoiceIssued, c), tenant_id, None, 1, recent)
    await sent.emit(
        booking(
            BookingNoShow, customer_id=c, booking_id=other.booking_id, starts_at=other.starts_at
        ),
        tenant_id,
        other.booking_id,
        2,
        recent,
    )
    await sent.emit(
        booking(
            BookingRescheduled,
            customer_id=c,
            booking_id=b.booking_id,
            starts_at=NOW + timedelta(days=4),
            previous_starts_at=b.starts_at,
        ),
        tenant_id,
        b.booking_id,
        3,
        recent,
    )
    studio_cancel = booking(BookingConfirmed, customer_id=c)
    await sent.emit(studio_cancel, tenant_id, studio_cancel.booking_id, 1, ago[5])
    await sent.emit(
        booking(
            BookingCancelled,
            customer_id=c,
            booking_id=studio_cancel.booking_id,
            starts_at=studio_cancel.starts_at,
            refund=True,
            cancelled_by="studio",
        ),
        tenant_id,
        studio_cancel.booking_id,
        2,
        recent,
    )
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), ago[2])

    # Paying an invoice is.
    await sent.emit(invoice(InvoicePaid, c, paid_minor=30_00), tenant_id, None, 1, ago[1])
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), ago[1])

    # So is cancelling a booking oneself, and attending.
    own = NOW - timedelta(hours=12)
    await sent.emit(
        booking(
            BookingCancelled,
            customer_id=c,
            booking_id=b.booking_id,
            starts_at=b.starts_at,
            refund=True,
            cancelled_by="customer",
        ),
        tenant_id,
        b.booking_id,
        4,
        own,
    )
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), own)
    visit = NOW - timedelta(minutes=30)
    came = booking(BookingConfirmed, customer_id=c, starts_at=visit)
    await sent.emit(came, tenant_id, came.booking_id, 1, ago[1])
    await sent.emit(
        booking(BookingAttended, customer_id=c, booking_id=came.booking_id, starts_at=visit),
        tenant_id,
        came.booking_id,
        2,
        visit,
    )
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), visit)

    # A stale event of a booking (version 1 after version 2) changes nothing.
    await sent.emit(
        booking(BookingRejected, customer_id=c, booking_id=came.booking_id, reason="x"),
        tenant_id,
        came.booking_id,
        1,
        NOW,
    )
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), visit)


async def test_activity_from_a_clock_ahead_is_not_in_the_future(sent, client, tokens, tenant_id):
    cid = await make(client, tokens)
    c = uuid.UUID(cid)
    await sent.emit(purchased(c), tenant_id, None, 1, NOW + timedelta(days=3))
    await sent.handled()
    at = await last_activity(client, tokens, cid)
    assert at is not None and NOW <= at <= datetime.now(at.tzinfo)


async def test_a_guest_booking_linked_later_brings_its_activity(sent, client, tokens, tenant_id):
    """A guest without a usable email is not resolved here; scheduling links it later.
    The customer's activity is the booking, not the (system) link."""
    booked = NOW - timedelta(days=4)
    guest = booking(
        BookingRequested,
        customer_id=None,
        guest=Contact(first_name="Ann", last_name="Guest", email=None),
    )
    await sent.emit(guest, tenant_id, guest.booking_id, 1, booked)
    await sent.handled()
    cid = await make(client, tokens, "Ann", "Guest", "ann@example.com")
    await sent.emit(
        booking(
            BookingCustomerLinked,
            customer_id=uuid.UUID(cid),
            booking_id=guest.booking_id,
            starts_at=guest.starts_at,
        ),
        tenant_id,
        guest.booking_id,
        2,
        NOW,
    )
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), booked)


async def test_list_filter_and_default_sort_use_every_source(sent, client, tokens, tenant_id):
    buyer = await make(client, tokens, "Bea", "Buyer", "bea@example.com")
    payer = await make(client, tokens, "Pat", "Payer", "pat@example.com")
    booker = await make(client, tokens, "Bo", "Booker", "bo@example.com")
    await make(client, tokens, "Nia", "Nothing", "nia@example.com")
    await sent.emit(purchased(uuid.UUID(buyer)), tenant_id, None, 1, NOW - timedelta(days=3))
    await sent.emit(
        invoice(InvoicePaid, uuid.UUID(payer), paid_minor=30_00),
        tenant_id,
        None,
        1,
        NOW - timedelta(days=6),
    )
    b = booking(BookingConfirmed, customer_id=uuid.UUID(booker), starts_at=NOW - timedelta(days=20))
    await sent.emit(b, tenant_id, b.booking_id, 1, NOW - timedelta(days=21))
    await sent.handled()
    staff = tokens.headers("staff")

    async def names(query):
        r = await client.get(f"/v1/customers{query}", headers=staff)
        assert r.status_code == 200, r.text
        return [i["first_name"] for i in r.json()["items"]]

    assert await names("") == ["Bea", "Pat", "Bo", "Nia"]
    assert await names("?last_activity_within_days=7") == ["Bea", "Pat"]
    assert await names("?inactive_for_days=7") == ["Bo", "Nia"]


@pytest.mark.parametrize("cancelled_by", ["customer", "staff", "studio", "system"])
def test_only_the_customer_cancelling_is_their_activity(cancelled_by):
    from frontdesk.customers.domain.summary import customer_acted

    event = booking(
        BookingCancelled, customer_id=uuid.uuid4(), refund=False, cancelled_by=cancelled_by
    )
    assert customer_acted(event) is (cancelled_by == "customer")


async def test_a_customers_self_service_sign_in_is_their_activity(sent, client, tokens, tenant_id):
    cid = await make(client, tokens)
    c = uuid.UUID(cid)
    account_id = uuid.uuid4()
    created = CustomerAccountCreated(account_id=account_id, customer_id=c)
    await sent.emit(created, tenant_id, account_id, 1, NOW - timedelta(days=3))
    await sent.handled()
    assert await last_activity(client, tokens, cid) is None  # made, not yet used

    def login(kind: str, method: str = "link") -> LoginSucceeded:
        return LoginSucceeded(
            account_id=account_id if kind == "customer" else uuid.uuid4(),
            kind=kind,
            customer_id=c if kind == "customer" else None,
            role=kind,
            method=method,
            session_id=uuid.uuid4(),
        )

    await sent.emit(
        login("customer", "password"), tenant_id, account_id, 2, NOW - timedelta(days=2)
    )
    await sent.emit(login("staff"), tenant_id, None, 1, NOW - timedelta(hours=1))
    await sent.handled()
    assert near(await last_activity(client, tokens, cid), NOW - timedelta(days=2))
    r = await client.get(f"/v1/customers/{cid}/activity", headers=tokens.headers())
    lines = [(i["kind"], i["summary"]) for i in r.json()["items"]]
    assert lines == [
        ("account", "Signed in to self-service with a password"),
        ("account", "Self-service account created"),
    ]
