"""Household payers (C14) and programs (K7) in the booking saga, through the real broker."""

import uuid
from datetime import UTC, datetime, timedelta

from frontdesk.contracts.scheduling import (
    BookingCancelled,
    BookingConfirmed,
    BookingPayment,
    BookingRequested,
)
from frontdesk.kit.auth import Permission

from .helpers import ADMIN, grant, row_counts
from .test_saga import balance, outcome

NOW = datetime.now(UTC)
COACH = uuid.uuid4()


def booking(customer, *, credits=1, payer=None, service=None, staff=None, days=1, seats=1):
    booking_id = uuid.uuid4()
    facts = {
        "booking_id": booking_id,
        "customer_id": customer,
        "session_id": uuid.uuid4(),
        "session_kind": "appointment",
        "title": "Personal training",
        "starts_at": NOW + timedelta(days=days),
        "ends_at": NOW + timedelta(days=days, hours=1),
        "payment": BookingPayment(method="credits", credits=credits),
        "payer_customer_id": payer,
        "service": service,
        "staff_id": staff,
        "seats": seats,
    }
    return booking_id, facts


async def refunded(bus, booking_id):
    async def find():
        for env in await bus.outbox("credits.debit.refunded.v1"):
            if env["payload"]["booking_id"] == str(booking_id):
                return env
        return None

    from frontdesk.kit.testing import wait_for

    return await wait_for(find)


# --- household payer ---------------------------------------------------------------------


async def test_a_parent_pays_for_a_child_and_gets_the_refund(client, tokens, runtime, bus):
    parent, child = uuid.uuid4(), uuid.uuid4()
    await grant(client, tokens, parent, 5)
    await grant(client, tokens, child, 1)  # the child's own credits are not touched
    booking_id, facts = booking(child, credits=2, payer=parent)
    await bus.publish(BookingRequested(**facts), booking_id)
    env = await outcome(bus, booking_id)
    assert env["type"] == "credits.debit.succeeded"
    assert env["payload"]["customer_id"] == str(child)
    assert env["payload"]["payer_customer_id"] == str(parent)
    assert (await balance(client, tokens, parent))["available"] == 3
    assert (await balance(client, tokens, child))["available"] == 1
    history = (
        await client.get(f"/v1/credit-history?booking_id={booking_id}", headers=tokens.headers())
    ).json()["items"]
    assert [(h["customer_id"], h["delta"]) for h in history] == [(str(parent), -2)]

    await bus.publish(BookingCancelled(**facts, refund=True), booking_id, version=3)
    env = await refunded(bus, booking_id)
    assert env["payload"]["payer_customer_id"] == str(parent)
    assert (await balance(client, tokens, parent))["available"] == 5
    assert (await balance(client, tokens, child))["available"] == 1


async def test_a_payer_without_enough_credits_is_rejected_naming_the_payer(
    client, tokens, runtime, bus
):
    parent, child = uuid.uuid4(), uuid.uuid4()
    await grant(client, tokens, child, 10)
    booking_id, facts = booking(child, credits=2, payer=parent)
    await bus.publish(BookingRequested(**facts), booking_id)
    env = await outcome(bus, booking_id)
    assert env["type"] == "credits.debit.rejected"
    assert env["payload"]["reason"] == "insufficient_credits"
    assert env["payload"]["payer_customer_id"] == str(parent)
    assert (await balance(client, tokens, child))["available"] == 10


# --- programs ------------------------------------------------------------------------------


async def make_program_product(client, tokens, **overrides):
    body = {
        "name": "8 x PT with Sam",
        "sessions": 2,
        "service": "Personal Training",
        "staff_id": str(COACH),
        "price_minor": 40000,
        "currency": "EUR",
        "validity_days": 60,
        **overrides,
    }
    r = await client.post("/v1/program-products", json=body, headers=tokens.headers(ADMIN))
    assert r.status_code == 201, r.text
    return r.json()


async def programs_of(client, tokens, customer):
    r = await client.get(f"/v1/programs?customer_id={customer}", headers=tokens.headers())
    assert r.status_code == 200, r.text
    return r.json()["items"]


async def test_a_program_is_bought_as_one_and_pays_matching_bookings_first(
    client, tokens, runtime, bus
):
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 5)
    product = await make_program_product(client, tokens)
    headers = {**tokens.headers(ADMIN), "Idempotency-Key": "pt-1"}
    body = {"customer_id": str(customer), "product_id": product["id"]}
    r = await client.post("/v1/programs", json=body, headers=headers)
    assert r.status_code == 201, r.text
    program = r.json()
    assert (program["sessions_total"], program["sessions_used"], program["state"]) == (
        2,
        0,
        "active",
    )
    again = await client.post("/v1/programs", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == program["id"]
    assert len(await programs_of(client, tokens, customer)) == 1
    purchased = await bus.outbox("credits.program.purchased.v1")
    assert [e["payload"]["price_minor"] for e in purchased] == [40000]

    # The coach's personal training (service matched without regard to case): the program.
    first, facts = booking(customer, service="personal training ", staff=COACH, days=3)
    await bus.publish(BookingRequested(**facts), first)
    env = await outcome(bus, first)
    assert env["type"] == "credits.debit.succeeded"
    assert env["payload"]["program_id"] == program["id"]
    assert env["payload"]["credits"] == 0 and env["payload"]["debits"] == []
    assert (await balance(client, tokens, customer))["available"] == 5

    # Another coach: not the program's kind, so credits pay.
    other, other_facts = booking(customer, service="Personal Training", staff=uuid.uuid4())
    await bus.publish(BookingRequested(**other_facts), other)
    env = await outcome(bus, other)
    assert env["payload"]["program_id"] is None
    assert (await balance(client, tokens, customer))["available"] == 4

    # Confirmed: progress shows used / total and the next session.
    await bus.publish(BookingConfirmed(**facts), first, version=2)

    async def confirmed():
        (found,) = await programs_of(client, tokens, customer)
        return found if found["next_session_at"] else None

    from frontdesk.kit.testing import wait_for

    found = await wait_for(confirmed)
    assert (found["sessions_used"], found["sessions_left"]) == (1, 1)
    assert datetime.fromisoformat(found["next_session_at"]) == facts["starts_at"]

    # Cancelled within the policy: the session goes back to the program.
    await bus.publish(BookingCancelled(**facts, refund=True), first, version=3)
    env = await refunded(bus, first)
    assert env["payload"]["program_id"] == program["id"] and env["payload"]["credits"] == 0
    (found,) = await programs_of(client, tokens, customer)
    assert (found["sessions_used"], found["next_session_at"]) == (0, None)
    progressed = await bus.outbox("credits.program.progressed.v1")
    assert [e["payload"]["change"] for e in progressed] == ["used", "returned"]


async def test_a_late_cancel_keeps_the_session_and_a_used_up_program_lets_credits_pay(
    client, tokens, runtime, bus
):
    customer = uuid.uuid4()
    await grant(client, tokens, customer, 5)
    product = await make_program_product(client, tokens, sessions=1, staff_id=None)
    r = await client.post(
        "/v1/programs",
        json={"customer_id": str(customer), "product_id": product["id"]},
        headers=tokens.headers(ADMIN),
    )
    assert r.status_code == 201, r.text
    late, facts = booking(customer, service="Personal Training", staff=COACH)
    await bus.publish(BookingRequested(**facts), late)
    assert (await outcome(bus, late))["payload"]["program_id"] == r.json()["id"]
    await bus.publish(BookingCancelled(**facts, refund=False, late=True), late, version=3)

    async def forfeited():
        (found,) = await programs_of(client, tokens, customer)
        counts = await row_counts(runtime, tokens.tenant_id, ("program_uses",))
        return found if counts["program_uses"] == 1 else None

    from frontdesk.kit.testing import wait_for

    found = await wait_for(forfeited)
    assert (found["sessions_used"], found["state"]) == (1, "completed")
    second, second_facts = booking(customer, service="Personal Training", staff=COACH)
    await bus.publish(BookingRequested(**second_facts), second)
    env = await outcome(bus, second)
    assert env["payload"]["program_id"] is None and env["payload"]["credits"] == 1


async def test_program_input_is_checked_and_customers_see_only_their_own(client, tokens, runtime):
    r = await client.post(
        "/v1/program-products",
        json={"name": "No kind", "sessions": 3, "price_minor": 100},
        headers=tokens.headers(ADMIN),
    )
    assert r.status_code == 422
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in r.json()["errors"]] == ["service"]
    r = await client.post(
        "/v1/program-products",
        json={"name": "x", "sessions": 0, "session_kind": "class", "price_minor": 100},
        headers=tokens.headers(ADMIN),
    )
    assert r.status_code == 422 and "sessions" in r.text
    r = await client.post(
        "/v1/program-products",
        json={"name": "x", "sessions": 3, "session_kind": "party", "price_minor": 100},
        headers=tokens.headers(ADMIN),
    )
    assert r.status_code == 422 and "session_kind" in r.text
    assert (await row_counts(runtime, tokens.tenant_id, ("program_products",)))[
        "program_products"
    ] == 0

    product = await make_program_product(client, tokens, service=None, session_kind="class")
    staff = tokens.headers("staff")
    r = await client.post(
        "/v1/programs",
        json={"customer_id": str(uuid.uuid4()), "product_id": product["id"]},
        headers=staff,
    )
    assert r.status_code == 403
    mine, other = uuid.uuid4(), uuid.uuid4()
    me = tokens.headers("customer", sub=mine)
    r = await client.post("/v1/programs", json={"product_id": product["id"]}, headers=me)
    assert r.status_code == 201 and r.json()["customer_id"] == str(mine)
    seller = tokens.headers("staff", Permission.manage_credits)
    r = await client.post(
        "/v1/programs",
        json={"customer_id": str(other), "product_id": product["id"]},
        headers=seller,
    )
    assert r.status_code == 201
    assert (await client.get(f"/v1/programs/{r.json()['id']}", headers=me)).status_code == 404
    listed = (await client.get("/v1/programs", headers=me)).json()["items"]
    assert [p["customer_id"] for p in listed] == [str(mine)]
    r = await client.post(
        "/v1/programs",
        json={"customer_id": str(other), "product_id": str(uuid.uuid4())},
        headers=seller,
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "product_id"
