"""Invoices made from other services' events through the real broker, each exactly once;
memberships' discounts and included services on a booking's invoice; cancellations by
the policy; customers' names on invoices and erasure."""

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import text

from frontdesk.contracts.credits import (
    MembershipAssigned,
    MembershipChanged,
    PackagePurchased,
    PackageToppedUp,
)
from frontdesk.contracts.customers import CustomerErased, CustomerRegistered
from frontdesk.contracts.scheduling import BookingCancelled, BookingConfirmed, BookingPayment
from frontdesk.kit.testing import wait_for

from .helpers import ADMIN, invoice, pay, position
from .test_pdf import text_of

NOW = datetime.now(UTC)


async def invoices_of(client, tokens, **query: Any) -> list[dict[str, Any]]:
    r = await client.get("/v1/invoices", params=query, headers=tokens.headers(ADMIN))
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def settled(bus, count: int) -> None:
    """Until the consumer took ``count`` more messages off the queue."""
    start = await bus.handled()

    async def done() -> bool:
        return await bus.handled() >= start + count

    await wait_for(done, timeout=15)


def purchased(customer_id: uuid.UUID, price: int = 9_900, **extra: Any) -> PackagePurchased:
    return PackagePurchased(
        package_id=extra.pop("package_id", uuid.uuid4()),
        customer_id=customer_id,
        name="10 classes",
        credits=10,
        price_minor=price,
        currency="EUR",
        purchased_by="staff-1",
        **extra,
    )


def confirmed(customer_id: uuid.UUID | None, price: int = 2_000, **extra: Any) -> BookingConfirmed:
    return BookingConfirmed(
        booking_id=extra.pop("booking_id", uuid.uuid4()),
        customer_id=customer_id,
        session_id=uuid.uuid4(),
        session_kind="class",
        title=extra.pop("title", "Yoga"),
        starts_at=extra.pop("starts_at", NOW + timedelta(days=2)),
        ends_at=NOW + timedelta(days=2, hours=1),
        timezone="Europe/Berlin",
        payment=BookingPayment(method="pay_per_session", price_minor=price, currency="EUR"),
        **extra,
    )


def membership(customer_id: uuid.UUID, **extra: Any) -> dict[str, Any]:
    return {
        "membership_id": extra.pop("membership_id", uuid.uuid4()),
        "customer_id": customer_id,
        "plan_id": uuid.uuid4(),
        "plan_name": "Gold",
        "discount_percent": 10,
        "included_services": ["Sauna"],
        "starts_at": NOW - timedelta(days=1),
        "expires_at": NOW + timedelta(days=29),
        **extra,
    }


async def test_a_priced_purchase_is_invoiced_once_however_often_it_arrives(client, tokens, bus):
    customer = uuid.uuid4()
    event = purchased(customer)
    message = await bus.publish(event, event.package_id)
    found = await wait_for(lambda: invoices_of(client, tokens, customer_id=str(customer)))
    (made,) = found
    assert (made["status"], made["source"], made["source_key"]) == (
        "open",
        "package",
        str(event.package_id),
    )
    assert made["total_minor"] == 9_900 and made["lines"][0]["kind"] == "credits"
    assert made["created_by"] == "system"
    await bus.redeliver(message)  # the same message again: the inbox drops it
    await bus.publish(event, event.package_id)  # the same sale under a new message id
    await bus.publish(event, event.package_id)
    await settled(bus, 3)
    assert len(await invoices_of(client, tokens, customer_id=str(customer))) == 1
    pos = await position(client, tokens, customer)
    assert pos["outstanding_minor"] == 9_900
    changes = await bus.outbox("billing.account.changed.v1")
    assert [c["payload"]["outstanding_minor"] for c in changes] == [9_900]
    free = purchased(customer, price=0)
    await bus.publish(free, free.package_id)
    await settled(bus, 1)
    assert len(await invoices_of(client, tokens, customer_id=str(customer))) == 1


async def test_a_priced_top_up_is_invoiced_and_a_free_one_is_not(client, tokens, bus):
    customer = uuid.uuid4()
    package = uuid.uuid4()
    for price in (0, 3_000):
        event = PackageToppedUp(
            top_up_id=uuid.uuid4(),
            package_id=package,
            customer_id=customer,
            name="10 classes",
            credits=3,
            price_minor=price,
            currency="EUR",
            topped_up_by="staff-1",
        )
        await bus.publish(event, package, version=2)
    (made,) = await wait_for(lambda: invoices_of(client, tokens, customer_id=str(customer)))
    assert made["source"] == "top_up" and made["total_minor"] == 3_000


async def test_memberships_are_invoiced_per_period_and_price_bookings(client, tokens, bus):
    customer = uuid.uuid4()
    assigned = MembershipAssigned(
        **membership(customer), price_minor=4_900, currency="EUR", assigned_by="staff-1"
    )
    await bus.publish(assigned, assigned.membership_id)
    (fee,) = await wait_for(lambda: invoices_of(client, tokens, customer_id=str(customer)))
    assert fee["source"] == "membership" and fee["total_minor"] == 4_900
    assert fee["lines"][0]["kind"] == "membership" and "Gold" in fee["lines"][0]["description"]
    renewed = MembershipChanged(
        **membership(
            customer,
            membership_id=assigned.membership_id,
            expires_at=assigned.expires_at + timedelta(days=30),
        ),
        price_minor=4_900,
        currency="EUR",
        change="renewed",
        changed_by="staff-1",
    )
    await bus.publish(renewed, assigned.membership_id, version=2)
    await bus.publish(renewed, assigned.membership_id, version=2)  # again, a new id
    await wait_for(
        lambda: _count(invoices_of(client, tokens, customer_id=str(customer)), 2), timeout=15
    )

    # a pay-per-session booking: Gold's 10 % on a class, an included service at zero
    yoga = confirmed(customer, 2_000, title="Yoga")
    sauna = confirmed(customer, 1_500, title="Wellness", service="Sauna")
    await bus.publish(yoga, yoga.booking_id, version=2)
    await bus.publish(sauna, sauna.booking_id, version=2)
    await wait_for(lambda: _count(invoices_of(client, tokens, source="booking"), 2))
    (yoga_invoice,) = await invoices_of(client, tokens, source_key=str(yoga.booking_id))
    (line,) = yoga_invoice["lines"]
    assert (line["amount_minor"], line["membership_discount_minor"], line["total_minor"]) == (
        2_000,
        200,
        1_800,
    )
    assert line["membership_plan"] == "Gold" and line["membership_discount_bp"] == 1000
    assert yoga_invoice["membership_discount_minor"] == 200
    (sauna_invoice,) = await invoices_of(client, tokens, source_key=str(sauna.booking_id))
    (line,) = sauna_invoice["lines"]
    assert line["included"] and line["membership_plan"] == "Gold"
    assert (line["amount_minor"], line["total_minor"]) == (1_500, 0)
    assert sauna_invoice["status"] == "paid" and sauna_invoice["due_minor"] == 0
    # the PDF shows the breakdown
    pdf = await client.get(f"/v1/invoices/{yoga_invoice['id']}/pdf", headers=tokens.headers(ADMIN))
    assert "Membership Gold 10 %" in text_of(pdf.content)


async def _count(found, n: int) -> bool:
    return len(await found) == n


async def test_cancellation_by_the_policy(client, tokens, bus, runtime):
    customer = uuid.uuid4()
    unpaid, paid, late = (confirmed(customer, 2_000) for _ in range(3))
    for booking in (unpaid, paid, late):
        await bus.publish(booking, booking.booking_id, version=2)
    await wait_for(lambda: _count(invoices_of(client, tokens, customer_id=str(customer)), 3))
    (paid_invoice,) = await invoices_of(client, tokens, source_key=str(paid.booking_id))
    await pay(client, tokens, paid_invoice["id"], 2_000)

    def cancelled(booking: BookingConfirmed, refund: bool) -> BookingCancelled:
        return BookingCancelled(**booking.model_dump(), refund=refund, late=not refund)

    await bus.publish(cancelled(unpaid, True), unpaid.booking_id, version=3)
    await bus.publish(cancelled(paid, True), paid.booking_id, version=3)
    await bus.publish(cancelled(late, False), late.booking_id, version=3)
    await settled(bus, 3)

    async def status(booking: BookingConfirmed) -> dict[str, Any]:
        (found,) = await invoices_of(client, tokens, source_key=str(booking.booking_id))
        return found

    assert (await status(unpaid))["status"] == "cancelled"
    refunded = await status(paid)
    assert (refunded["status"], refunded["credited_minor"]) == ("paid", 2_000)
    assert (await status(late))["status"] == "open"  # a late cancel keeps the price
    pos = await position(client, tokens, customer)
    assert (pos["outstanding_minor"], pos["credit_minor"]) == (2_000, 2_000)
    assert pos["lifetime_spend_minor"] == 2_000  # paid and not refunded

    # cancelled before the confirmation arrived: the late confirmation invoices nothing
    early = confirmed(customer, 2_000)
    await bus.publish(cancelled(early, True), early.booking_id, version=3)
    await settled(bus, 1)
    await bus.publish(early, early.booking_id, version=2)
    await settled(bus, 1)
    assert await invoices_of(client, tokens, source_key=str(early.booking_id)) == []


async def test_bookings_that_are_not_billed(client, tokens, bus):
    credits = confirmed(uuid.uuid4())
    credits = BookingConfirmed(
        **{**credits.model_dump(), "payment": BookingPayment(method="credits", credits=1)}
    )
    guest = confirmed(None)
    for booking in (credits, guest):
        await bus.publish(booking, booking.booking_id, version=2)
    await settled(bus, 2)
    assert await invoices_of(client, tokens) == []


async def test_customer_details_on_invoices_and_erasure(client, tokens, bus, runtime):
    customer = uuid.uuid4()
    registered = CustomerRegistered(
        customer_id=customer, first_name="Ada", last_name="Lovelace", email="ada@example.com"
    )
    await bus.publish(registered, customer)
    await settled(bus, 1)
    event = purchased(customer)
    await bus.publish(event, event.package_id)
    (made,) = await wait_for(lambda: invoices_of(client, tokens, customer_id=str(customer)))
    assert made["bill_to"]["name"] == "Ada Lovelace"
    assert made["bill_to"]["email"] == "ada@example.com"
    await pay(client, tokens, made["id"], 9_900)

    await bus.publish(CustomerErased(customer_id=customer), customer, version=5)
    await settled(bus, 1)
    assert await invoices_of(client, tokens, customer_id=str(customer)) == []
    kept = await invoice(client, tokens, made["id"])  # the legal record stays
    assert kept["number"] == made["number"] and kept["total_minor"] == 9_900
    assert kept["customer_id"] != str(customer)
    assert kept["bill_to"]["name"] == "Ada Lovelace" and kept["bill_to"]["email"] is None
    async with runtime.engine.connect() as conn:
        left = (
            await conn.execute(
                text(
                    "SELECT (SELECT count(*) FROM postings WHERE customer_id = :c) + "
                    "(SELECT count(*) FROM journal_entries WHERE customer_id = :c) + "
                    "(SELECT count(*) FROM payments WHERE customer_id = :c) + "
                    "(SELECT count(*) FROM billing_customers WHERE customer_id = :c)"
                ),
                {"c": customer},
            )
        ).scalar()
    assert left == 0
    anonymous = await position(client, tokens, kept["customer_id"])
    assert anonymous["lifetime_spend_minor"] == 9_900 and anonymous["outstanding_minor"] == 0
