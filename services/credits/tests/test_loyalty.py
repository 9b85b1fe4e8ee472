"""K6 loyalty: the tenant's rule over HTTP, points from billing's events through the real
broker, redemptions, history, and the balance that never goes below zero."""

import asyncio
import uuid
from datetime import date

from frontdesk.contracts.billing import InvoicePaid, PaymentRefunded
from frontdesk.credits.application import loyalty
from frontdesk.credits.domain.loyalty import Redemption
from frontdesk.kit.errors import ConflictError
from frontdesk.kit.testing import wait_for

from .helpers import ADMIN, acting, row_counts
from .test_saga import balance

RULE = {
    "currency": "EUR",
    "points_per_unit": 1,
    "unit_minor": 100,
    "points_per_credit": 10,
    "discount_minor_per_point": 5,
}


async def set_rule(client, tokens, **overrides):
    r = await client.put(
        "/v1/loyalty/rule", json={**RULE, **overrides}, headers=tokens.headers(ADMIN)
    )
    assert r.status_code == 200, r.text
    return r.json()


def paid(customer, invoice_id, amount, currency="EUR"):
    return InvoicePaid(
        invoice_id=invoice_id,
        number="INV-1",
        customer_id=customer,
        total_minor=amount,
        currency=currency,
        issued_on=date.today(),
        paid_minor=amount,
    )


def refund(customer, invoice_id, amount):
    return PaymentRefunded(
        payment_id=uuid.uuid4(),
        invoice_id=invoice_id,
        customer_id=customer,
        amount_minor=amount,
        currency="EUR",
        refund_id=uuid.uuid4(),
    )


async def account(client, tokens, customer):
    r = await client.get(f"/v1/loyalty/accounts/{customer}", headers=tokens.headers())
    assert r.status_code == 200, r.text
    return r.json()


async def settled(client, tokens, customer, entries):
    """The account once its history holds ``entries`` lines."""

    async def enough():
        r = await client.get(f"/v1/loyalty/accounts/{customer}/history", headers=tokens.headers())
        return r.json()["items"] if len(r.json()["items"]) >= entries else None

    await wait_for(enough)
    return await account(client, tokens, customer)


async def test_points_are_earned_once_per_invoice_and_reversed_in_proportion(
    client, tokens, runtime, bus
):
    assert (await client.get("/v1/loyalty/rule", headers=tokens.headers())).status_code == 404
    await set_rule(client, tokens)
    customer, invoice = uuid.uuid4(), uuid.uuid4()
    event = paid(customer, invoice, 12345)
    message = await bus.publish(event, invoice, version=2)
    await bus.publish(event, invoice, version=2)  # the same invoice paid again: no new points
    await bus.redeliver(message)
    found = await settled(client, tokens, customer, 1)
    assert (found["balance"], found["earned"]) == (123, 123)

    half = refund(customer, invoice, 6172)
    await bus.publish(half, half.payment_id)
    await bus.publish(half, half.payment_id)  # the same refund again
    found = await settled(client, tokens, customer, 2)
    assert found["balance"] == 123 - 123 * 6172 // 12345  # 62
    rest = refund(customer, invoice, 6173)
    await bus.publish(rest, rest.payment_id)
    found = await settled(client, tokens, customer, 3)
    assert (found["balance"], found["reversed"], found["shortfall"]) == (0, 123, 0)
    history = (
        await client.get(f"/v1/loyalty/accounts/{customer}/history", headers=tokens.headers())
    ).json()["items"]
    assert [(h["kind"], h["delta"], h["balance_after"]) for h in history] == [
        ("earned", 123, 123),
        ("reversed", -61, 62),
        ("reversed", -62, 0),
    ]
    assert [h["source_id"] for h in history] == [
        str(invoice),
        str(half.refund_id),
        str(rest.refund_id),
    ]
    changes = await bus.outbox("credits.loyalty.changed.v1")
    assert [e["payload"]["balance"] for e in changes] == [123, 62, 0]
    assert [e["aggregate_version"] for e in changes] == [1, 2, 3]


async def test_no_rule_no_points_and_another_currency_earns_nothing(client, tokens, runtime, bus):
    customer = uuid.uuid4()
    first = uuid.uuid4()
    await bus.publish(paid(customer, first, 5000), first)

    async def handled():
        return (await row_counts(runtime, tokens.tenant_id, ("inbox",)))["inbox"] == 1

    await wait_for(handled)  # consumed while the studio had no rule
    await set_rule(client, tokens)
    dollars = uuid.uuid4()
    await bus.publish(paid(customer, dollars, 5000, "USD"), dollars)
    euros = uuid.uuid4()
    await bus.publish(paid(customer, euros, 1000), euros)
    found = await settled(client, tokens, customer, 1)
    assert found["balance"] == 10
    assert (
        await client.delete("/v1/loyalty/rule", headers=tokens.headers(ADMIN))
    ).status_code == 204
    later = uuid.uuid4()
    await bus.publish(paid(customer, later, 1000), later)
    assert (await client.get("/v1/loyalty/rule", headers=tokens.headers())).status_code == 404
    r = await client.post(
        "/v1/loyalty/redemptions",
        json={"customer_id": str(customer), "redeem_for": "discount", "points": 5},
        headers=tokens.headers(ADMIN),
    )
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "redeem_for"
    await asyncio.sleep(0.5)
    assert (await account(client, tokens, customer))["balance"] == 10


async def test_redeem_for_credits_and_for_a_discount_voucher(client, tokens, runtime, bus):
    await set_rule(client, tokens)
    customer, invoice = uuid.uuid4(), uuid.uuid4()
    await bus.publish(paid(customer, invoice, 10000), invoice)
    await settled(client, tokens, customer, 1)  # 100 points

    headers = {**tokens.headers(ADMIN), "Idempotency-Key": "r-1"}
    body = {"customer_id": str(customer), "redeem_for": "credits", "credits": 3}
    r = await client.post("/v1/loyalty/redemptions", json=body, headers=headers)
    assert r.status_code == 201, r.text
    done = r.json()
    assert (done["points"], done["balance"], done["credits"]) == (30, 70, 3)
    again = await client.post("/v1/loyalty/redemptions", json=body, headers=headers)
    assert again.status_code == 200 and again.json()["id"] == done["id"]
    assert (await balance(client, tokens, customer))["available"] == 3
    package = (
        await client.get(f"/v1/credit-packages/{done['package_id']}", headers=tokens.headers())
    ).json()
    assert (package["name"], package["price_minor"], package["customer_id"]) == (
        "Loyalty reward",
        0,
        str(customer),
    )
    purchases = await bus.outbox("credits.package.purchased.v1")
    assert [e["payload"]["price_minor"] for e in purchases] == [0]  # nothing to invoice

    me = tokens.headers("customer", sub=customer)
    r = await client.post(
        "/v1/loyalty/redemptions", json={"redeem_for": "discount", "points": 40}, headers=me
    )
    assert r.status_code == 201, r.text
    assert (r.json()["amount_minor"], r.json()["balance"]) == (200, 30)
    (voucher,) = await bus.outbox("credits.loyalty.voucher_issued.v1")
    assert voucher["payload"]["amount_minor"] == 200
    assert voucher["payload"]["voucher_id"] == r.json()["voucher_id"]
    found = await account(client, tokens, customer)
    assert (found["balance"], found["redeemed"], len(found["vouchers"])) == (30, 70, 1)

    before = await row_counts(
        runtime, tokens.tenant_id, ("loyalty_entries", "loyalty_vouchers", "credit_packages")
    )
    r = await client.post(
        "/v1/loyalty/redemptions",
        json={"customer_id": str(customer), "redeem_for": "credits", "credits": 4},
        headers=tokens.headers(ADMIN),
    )
    assert r.status_code == 409
    assert [e["field"] for e in r.json()["errors"]] == ["points"]
    for bad in (
        {"customer_id": str(customer), "redeem_for": "discount", "points": 0},
        {"customer_id": str(customer), "redeem_for": "discount", "credits": 1},
        {"customer_id": str(customer), "redeem_for": "cash", "points": 1},
    ):
        r = await client.post("/v1/loyalty/redemptions", json=bad, headers=tokens.headers(ADMIN))
        assert r.status_code == 422, (bad, r.text)
    other = tokens.headers("customer", sub=uuid.uuid4())
    assert (await client.get(f"/v1/loyalty/accounts/{customer}", headers=other)).status_code == 404
    assert (
        await row_counts(
            runtime, tokens.tenant_id, ("loyalty_entries", "loyalty_vouchers", "credit_packages")
        )
        == before
    )


async def test_a_refund_larger_than_the_balance_takes_it_to_zero_and_records_the_shortfall(
    client, tokens, runtime, bus
):
    await set_rule(client, tokens)
    customer, invoice = uuid.uuid4(), uuid.uuid4()
    await bus.publish(paid(customer, invoice, 10000), invoice)
    await settled(client, tokens, customer, 1)
    async with runtime.uow() as uow:
        await loyalty.redeem(uow, acting(tokens), Redemption(customer, "discount", points=80))
    full = refund(customer, invoice, 10000)
    await bus.publish(full, full.payment_id)
    found = await settled(client, tokens, customer, 3)
    assert (found["balance"], found["shortfall"], found["reversed"]) == (0, 80, 20)


async def test_concurrent_redemptions_never_overspend(client, tokens, runtime, bus):
    await set_rule(client, tokens)
    customer, invoice = uuid.uuid4(), uuid.uuid4()
    await bus.publish(paid(customer, invoice, 10000), invoice)
    await settled(client, tokens, customer, 1)  # 100 points

    async def one():
        async with runtime.uow() as uow:
            try:
                await loyalty.redeem(
                    uow, acting(tokens), Redemption(customer, "discount", points=30)
                )
                return True
            except ConflictError:
                return False

    results = await asyncio.gather(*(one() for _ in range(6)))
    assert results.count(True) == 3
    found = await account(client, tokens, customer)
    assert (found["balance"], found["redeemed"], len(found["vouchers"])) == (10, 90, 3)
