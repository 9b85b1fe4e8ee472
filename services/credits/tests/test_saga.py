"""The credits side of the booking saga, driven through the real broker."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import select, text, update

from frontdesk.contracts.base import Contact
from frontdesk.contracts.customers import CustomerDeleted, CustomerErased
from frontdesk.contracts.scheduling import (
    BookingCancelled,
    BookingCustomerLinked,
    BookingPayment,
    BookingRejected,
    BookingRequested,
)
from frontdesk.credits.adapters.tables import booking_debits, credit_packages
from frontdesk.credits.application import debits, packages
from frontdesk.kit.testing import lock_awaited, wait_for

from .helpers import acting, grant

NOW = datetime.now(UTC)


def facts(booking_id, customer_id, credits=1, method="credits"):
    return {
        "booking_id": booking_id,
        "customer_id": customer_id,
        "session_id": uuid.uuid4(),
        "session_kind": "class",
        "title": "Yoga",
        "starts_at": NOW + timedelta(days=1),
        "ends_at": NOW + timedelta(days=1, hours=1),
        "payment": BookingPayment(method=method, credits=credits),
    }


def requested(booking_id, customer_id, credits=1, method="credits"):
    return BookingRequested(**facts(booking_id, customer_id, credits, method))


async def outcome(bus, booking_id, timeout=10.0):
    """The debit outcome credits published for the booking."""

    async def find():
        for key in ("credits.debit.succeeded.v1", "credits.debit.rejected.v1"):
            for env in await bus.outbox(key):
                if env["payload"]["booking_id"] == str(booking_id):
                    return env
        return None

    return await wait_for(find, timeout=timeout)


async def packages_of(runtime, customer):
    async with runtime.engine.connect() as conn:
        rows = (
            (
                await conn.execute(
                    select(credit_packages).where(credit_packages.c.customer_id == customer)
                )
            )
            .mappings()
            .all()
        )
    return {str(r["id"]): r for r in rows}


async def balance(client, tokens, customer):
    r = await client.get(
        f"/v1/credit-packages/balance?customer_id={customer}", headers=tokens.headers()
    )
    return r.json()


async def test_debit_takes_earliest_expiry_first_and_skips_paused_and_expired(
    client, tokens, runtime, bus
):
    customer = uuid.uuid4()
    later = await grant(client, tokens, customer, 4, validity_days=20)
    never = await grant(client, tokens, customer, 10)
    soon = await grant(client, tokens, customer, 3, validity_days=5)
    paused = await grant(client, tokens, customer, 50, validity_days=1)
    lapsed = await grant(client, tokens, customer, 50, validity_days=2)
    swept = await grant(client, tokens, customer, 50, validity_days=3)
    assert (
        await client.post(f"/v1/credit-packages/{paused['id']}/pause", headers=tokens.headers())
    ).status_code == 200
    async with runtime.engine.begin() as conn:  # past its expiry, not yet swept
        await conn.execute(
            update(credit_packages)
            .where(credit_packages.c.id == uuid.UUID(lapsed["id"]))
            .values(expires_at=NOW - timedelta(minutes=1))
        )
    await packages.expire_due_packages(runtime.uow, now=NOW + timedelta(days=3, hours=1))
    # that sweep also expired "lapsed"; put it back as "past expiry, not swept"
    async with runtime.engine.begin() as conn:
        await conn.execute(
            update(credit_packages)
            .where(credit_packages.c.id == uuid.UUID(lapsed["id"]))
            .values(status="active", balance=50, expired_credits=0)
        )

    booking = uuid.uuid4()
    await bus.publish(requested(booking, customer, credits=9), booking)
    env = await outcome(bus, booking)
    assert env["type"] == "credits.debit.succeeded"
    assert env["payload"]["debits"] == [
        {"package_id": soon["id"], "credits": 3},
        {"package_id": later["id"], "credits": 4},
        {"package_id": never["id"], "credits": 2},
    ]
    rows = await packages_of(runtime, customer)
    assert [rows[p["id"]]["balance"] for p in (soon, later, never)] == [0, 0, 8]
    assert rows[paused["id"]]["balance"] == 50 and rows[paused["id"]]["status"] == "paused"
    assert rows[lapsed["id"]]["balance"] == 50
    assert rows[swept["id"]]["status"] == "expired"
    history = (
        await client.get(f"/v1/credit-history?booking_id={booking}", headers=tokens.headers())
    ).json()["items"]
    assert [(h["package_id"], h["delta"]) for h in history] == [
        (soon["id"], -3),
        (later["id"], -4),
        (never["id"], -2),
    ]
    assert all(h["actor"] == "system" for h in history)


async def test_insufficient_credits_are_rejected_with_a_reason(client, tokens, runtime, bus):
    customer = uuid.uuid4()
    package = await grant(client, tokens, customer, 2)
    booking = uuid.uuid4()
    await bus.publish(requested(booking, customer, credits=3), booking)
    env = await outcome(bus, booking)
    assert env["type"] == "credits.debit.rejected"
    assert env["payload"]["reason"] == "insufficient_credits"
    assert (await packages_of(runtime, customer))[package["id"]]["balance"] == 2


async def test_guests_and_other_payment_methods(client, tokens, runtime, bus):
    guest_booking, paid_booking, marker = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 5)
    handled = runtime.consumer.handled
    await bus.publish(requested(guest_booking, None), guest_booking)
    await bus.publish(requested(paid_booking, customer, method="pay_per_session"), paid_booking)
    await bus.publish(
        BookingCancelled(**facts(paid_booking, customer, 0, "pay_per_session"), refund=True),
        paid_booking,
        version=2,
    )
    await bus.publish(requested(marker, customer), marker)
    env = await outcome(bus, guest_booking)
    assert env["payload"]["reason"] == "no_customer"
    await outcome(bus, marker)
    await wait_for(lambda: _true(runtime.consumer.handled >= handled + 4))
    async with runtime.engine.connect() as conn:
        known = (await conn.execute(select(booking_debits.c.booking_id))).scalars().all()
    assert paid_booking not in known
    assert (await balance(client, tokens, customer))["available"] == 4


async def test_a_guest_who_is_a_customer_pays_with_credits_once_linked(
    client, tokens, runtime, bus
):
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 5)
    guest = Contact(first_name="Ada", last_name="Lovelace", email="ada@example.com")
    booking, late = uuid.uuid4(), uuid.uuid4()
    handled = runtime.consumer.handled
    await bus.publish(BookingRequested(**facts(booking, None, credits=2), guest=guest), booking)
    await bus.publish(BookingRequested(**facts(late, None, credits=2), guest=guest), late)
    await wait_for(lambda: _true(runtime.consumer.handled >= handled + 2))
    # no answer yet: customers is still resolving the contact
    assert await bus.outbox("credits.debit.rejected.v1") == []
    assert await bus.outbox("credits.debit.succeeded.v1") == []

    await bus.publish(BookingCustomerLinked(**facts(booking, customer, credits=2)), booking, 2)
    env = await outcome(bus, booking)
    assert env["type"] == "credits.debit.succeeded"
    assert env["payload"]["customer_id"] == str(customer)
    assert (await balance(client, tokens, customer))["available"] == 3

    # the other booking timed out before its customer was known: never debited
    handled = runtime.consumer.handled
    await bus.publish(
        BookingRejected(**facts(late, None, credits=2), reason="timeout"), late, version=2
    )
    await wait_for(lambda: _true(runtime.consumer.handled >= handled + 1))
    await bus.publish(BookingCustomerLinked(**facts(late, customer, credits=2)), late, 3)
    env = await outcome(bus, late)
    assert env["payload"]["reason"] == "booking_closed"
    assert (await balance(client, tokens, customer))["available"] == 3


async def test_redelivered_request_debits_once(client, tokens, runtime, bus):
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 5)
    booking = uuid.uuid4()
    handled = runtime.consumer.handled
    message = await bus.publish(requested(booking, customer, credits=2), booking)
    await bus.redeliver(message)
    await bus.publish(requested(booking, customer, credits=2), booking)  # new id, same booking
    marker = uuid.uuid4()
    await bus.publish(requested(marker, customer, credits=0), marker)
    await outcome(bus, marker)
    await wait_for(lambda: _true(runtime.consumer.handled >= handled + 4))
    succeeded = [
        e
        for e in await bus.outbox("credits.debit.succeeded.v1")
        if e["payload"]["booking_id"] == str(booking)
    ]
    assert len(succeeded) == 1
    assert (await balance(client, tokens, customer))["available"] == 3


async def test_refund_after_cancel_restores_the_right_packages_once(client, tokens, runtime, bus):
    customer = uuid.uuid4()
    first = await grant(client, tokens, customer, 1, validity_days=3)
    second = await grant(client, tokens, customer, 5, validity_days=9)
    other_booking = uuid.uuid4()
    booking = uuid.uuid4()
    await bus.publish(requested(booking, customer, credits=3), booking)
    await outcome(bus, booking)
    await bus.publish(requested(other_booking, customer, credits=1), other_booking)
    await outcome(bus, other_booking)
    rows = await packages_of(runtime, customer)
    assert (rows[first["id"]]["balance"], rows[second["id"]]["balance"]) == (0, 2)

    cancel = BookingCancelled(**facts(booking, customer, 3), refund=True)
    message = await bus.publish(cancel, booking, version=3)
    await bus.redeliver(message)
    await bus.publish(cancel, booking, version=3)  # a duplicate under another id
    await wait_for(lambda: bus.outbox("credits.debit.refunded.v1"))
    await asyncio.sleep(0.5)
    refunds = await bus.outbox("credits.debit.refunded.v1")
    assert len(refunds) == 1 and refunds[0]["payload"]["credits"] == 3
    assert refunds[0]["payload"]["debits"] == [
        {"package_id": first["id"], "credits": 1},
        {"package_id": second["id"], "credits": 2},
    ]
    rows = await packages_of(runtime, customer)
    assert (rows[first["id"]]["balance"], rows[second["id"]]["balance"]) == (1, 4)
    assert (await balance(client, tokens, customer))["available"] == 5


async def test_late_cancel_forfeits_and_rejection_after_debit_refunds(client, tokens, runtime, bus):
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 5)
    forfeited, timed_out = uuid.uuid4(), uuid.uuid4()
    for booking in (forfeited, timed_out):
        await bus.publish(requested(booking, customer, credits=2), booking)
        await outcome(bus, booking)
    await bus.publish(
        BookingCancelled(**facts(forfeited, customer, 2), refund=False, late=True),
        forfeited,
        version=3,
    )
    await bus.publish(
        BookingRejected(**facts(timed_out, customer, 2), reason="timeout"), timed_out, version=3
    )

    async def settled():
        async with runtime.engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(booking_debits.c.booking_id, booking_debits.c.status).where(
                        booking_debits.c.tenant_id == tokens.tenant_id
                    )
                )
            ).all()
        return {b: s for b, s in rows if s != "debited"}

    statuses = await wait_for(lambda: _both(settled))
    assert statuses == {forfeited: "forfeited", timed_out: "refunded"}
    assert (await balance(client, tokens, customer))["available"] == 3


async def _both(settled):
    found = await settled()
    return found if len(found) == 2 else None


async def test_cancellation_before_the_request_leaves_a_tombstone(client, tokens, runtime, bus):
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 5)
    booking = uuid.uuid4()
    await bus.publish(
        BookingRejected(**facts(booking, customer, 2), reason="timeout"), booking, version=3
    )

    async def tombstone():
        async with runtime.engine.connect() as conn:
            return (
                await conn.execute(
                    select(booking_debits.c.status).where(booking_debits.c.booking_id == booking)
                )
            ).scalar()

    assert await wait_for(tombstone) == "closed"
    await bus.publish(requested(booking, customer, credits=2), booking)
    env = await outcome(bus, booking)
    assert env["type"] == "credits.debit.rejected"
    assert env["payload"]["reason"] == "booking_closed"
    assert (await balance(client, tokens, customer))["available"] == 5


async def test_100_concurrent_debits_against_10_credits(client, tokens, runtime):
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 4, validity_days=10)
    await grant(client, tokens, customer, 6)

    async def one() -> str:
        async with runtime.uow() as uow:
            result = await debits.debit_for_booking(
                uow, tokens.tenant_id, uuid.uuid4(), customer, 1
            )
            await uow.commit()
        return result.status

    results = await asyncio.gather(*(one() for _ in range(100)))
    assert results.count("debited") == 10
    assert results.count("rejected") == 90
    assert (await balance(client, tokens, customer))["available"] == 0
    async with runtime.engine.connect() as conn:
        total = (
            await conn.execute(
                text("SELECT sum(balance) FROM credit_packages WHERE customer_id = :c"),
                {"c": customer},
            )
        ).scalar()
        versions = (
            (
                await conn.execute(
                    text(
                        "SELECT envelope->>'aggregate_version' FROM outbox "
                        "WHERE routing_key = 'credits.balance.changed.v1' AND tenant_id = :t "
                        "ORDER BY seq"
                    ),
                    {"t": tokens.tenant_id},
                )
            )
            .scalars()
            .all()
        )
    assert total == 0
    assert [int(v) for v in versions] == list(range(1, 13))  # 2 grants + 10 debits


async def test_credits_bought_while_a_debit_waits_for_the_account_pay_for_it(
    client, tokens, runtime
):
    """The debit reads the packages in the statement that waits for the account's lock:
    credits bought meanwhile, committed before the lock is granted, count."""
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 1)

    async def debit_three() -> debits.DebitOutcome:
        async with runtime.uow() as uow:
            return await debits.debit_for_booking(uow, tokens.tenant_id, uuid.uuid4(), customer, 3)

    async with runtime.uow() as buying:
        buying.hold_commits()  # the purchase holds the account's lock until commit_held
        await packages.purchase(
            buying,
            acting(tokens),
            packages.PurchaseRequest(customer_id=customer, credits=2, name="Top-up"),
        )
        debit = asyncio.create_task(debit_three())
        await wait_for(lambda: lock_awaited(runtime.engine))
        await buying.commit_held()
    outcome = await debit
    assert (outcome.status, outcome.reason) == ("debited", None)
    assert sum(a.credits for a in outcome.debits) == 3
    assert (await balance(client, tokens, customer))["available"] == 0


async def test_a_debit_is_planned_once_per_connection_not_per_booking(client, tokens, runtime):
    """The debit's write runs its cached plan: planning it again for every booking took as
    long as running it (the rush's debits/s; ``bench/credit_debit.py``)."""
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 10)
    plans: list[tuple[int, int]] = []
    for _ in range(7):  # PostgreSQL compares its first five custom plans with the generic
        async with runtime.uow() as uow:
            result = await debits.debit_for_booking(
                uow, tokens.tenant_id, uuid.uuid4(), customer, 1
            )
            assert result.status == "debited"
            found = await uow.session.execute(
                text(
                    "SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                    "WHERE statement LIKE '%UPDATE credit_packages AS p%' "
                    "AND statement NOT LIKE '%pg_prepared_statements%'"
                )
            )
            plans.extend(found.tuples())
            await uow.commit()
    assert plans and all(custom == 0 and generic >= 1 for generic, custom in plans), plans


async def test_100_booking_requests_through_the_broker(client, tokens, runtime, bus):
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 10)
    bookings = [uuid.uuid4() for _ in range(100)]
    async with runtime.uow() as uow:
        for booking in bookings:
            uow.publish(
                requested(booking, customer),
                tenant_id=tokens.tenant_id,
                aggregate_id=booking,
                aggregate_version=1,
            )
        await uow.commit()

    async def all_answered():
        async with runtime.engine.connect() as conn:
            n = (
                await conn.execute(
                    text("SELECT count(*) FROM booking_debits WHERE tenant_id = :t"),
                    {"t": tokens.tenant_id},
                )
            ).scalar()
        return n == 100

    await wait_for(all_answered, timeout=30)
    succeeded = await wait_for(lambda: _count(bus, "credits.debit.succeeded.v1", 10))
    rejected = await wait_for(lambda: _count(bus, "credits.debit.rejected.v1", 90))
    assert len(succeeded) == 10 and len(rejected) == 90
    assert {e["payload"]["reason"] for e in rejected} == {"insufficient_credits"}
    assert (await balance(client, tokens, customer))["available"] == 0


async def _count(bus, key, n):
    rows = await bus.outbox(key)
    return rows if len(rows) >= n else None


async def test_customer_deleted_voids_packages_and_erasure_scrubs_reasons(
    client, tokens, runtime, bus
):
    customer = uuid.uuid4()
    package = await grant(client, tokens, customer, 5, reason="birthday gift for Ada")
    plan = (
        await client.post(
            "/v1/membership-plans",
            json={"name": "Gold", "discount_percent": 10, "duration_days": 30},
            headers=tokens.headers(),
        )
    ).json()
    membership = (
        await client.post(
            "/v1/memberships",
            json={
                "customer_id": str(customer),
                "plan_id": plan["id"],
                "reason": "Ada asked nicely",
            },
            headers=tokens.headers(),
        )
    ).json()
    await bus.publish(CustomerErased(customer_id=customer), customer, version=5)
    await bus.publish(CustomerDeleted(customer_id=customer), customer, version=6)

    async def voided():
        rows = await packages_of(runtime, customer)
        return rows[package["id"]]["status"] == "voided"

    await wait_for(voided)
    r = await client.get(f"/v1/memberships/{membership['id']}", headers=tokens.headers())
    assert r.json()["status"] == "cancelled"
    history = (
        await client.get(f"/v1/credit-history?customer_id={customer}", headers=tokens.headers())
    ).json()["items"]
    assert [(h["kind"], h["delta"]) for h in history] == [("grant", 5), ("voided", -5)]
    assert history[0]["reason"] is None
    m_history = (
        await client.get(f"/v1/memberships/{membership['id']}/history", headers=tokens.headers())
    ).json()["items"]
    assert m_history[0]["reason"] is None
    assert [h["action"] for h in m_history] == ["assigned", "cancelled"]
    assert (await balance(client, tokens, customer))["available"] == 0
    changed = await bus.outbox("credits.membership.changed.v1")
    assert changed[-1]["payload"]["status"] == "cancelled"
    r = await client.post(
        "/v1/credit-packages",
        json={"customer_id": str(customer), "credits": 2},
        headers=tokens.headers(),
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "customer_id"


async def _true(value):
    return value
