"""Billing with customers and credits as real processes, over HTTP and the real broker:
a package bought with a price is invoiced, paid, and the customer's summary shows the
lifetime spend and nothing outstanding; the purchase delivered again invoices once.
Loyalty points redeemed for a voucher come off the next (program's) invoice.

    FRONTDESK_E2E_SERVICES=customers,credits,billing \\
        .venv/bin/pytest -p no:cacheprovider -q -m e2e services/billing/tests
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aio_pika
import pytest

from frontdesk.contracts import Envelope
from frontdesk.contracts.credits import PackagePurchased
from frontdesk.kit import bus
from frontdesk.kit.auth import Permission, Role, issue_token
from frontdesk.kit.settings import Settings
from frontdesk.kit.testing import wait_for

pytestmark = pytest.mark.e2e


async def _ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


async def _invoices(billing: Any, customer_id: str) -> list[dict[str, Any]]:
    found = await _ok(await billing.get("/v1/invoices", params={"customer_id": customer_id}))
    return found["items"]  # type: ignore[no-any-return]


async def _publish(stack: Any, envelope: Envelope) -> None:
    """Deliver an event as its producer's relay would (for a redelivery)."""
    connection = await aio_pika.connect(stack.env.get("FRONTDESK_AMQP_URL", Settings().amqp_url))
    try:
        channel = await connection.channel()
        exchange = await channel.get_exchange(
            f"{stack.env['FRONTDESK_BUS_PREFIX']}frontdesk.events"
        )
        await exchange.publish(
            bus.build_message(
                envelope.model_dump_json().encode(),
                message_id=str(envelope.id),
                routing_key=envelope.routing_key,
                headers={},
            ),
            routing_key=envelope.routing_key,
        )
    finally:
        await connection.close()


async def test_bought_paid_and_on_the_customer_summary_once(stack, tenant):
    billing = tenant.client("billing")
    customer = await _ok(
        await tenant.customers.post(
            "/v1/customers",
            json={
                "first_name": "Ada",
                "last_name": "Lovelace",
                "email": f"ada{uuid.uuid4().hex[:8]}@example.com",
            },
        ),
        201,
    )
    customer_id = str(customer["id"])
    package = await _ok(
        await tenant.credits.post(
            "/v1/credit-packages",
            json={
                "customer_id": customer_id,
                "credits": 10,
                "name": "10er card",
                "price_minor": 9_900,
                "currency": "EUR",
            },
        ),
        201,
    )

    (invoice,) = await wait_for(lambda: _invoices(billing, customer_id), timeout=30)
    assert (invoice["status"], invoice["total_minor"], invoice["source"]) == (
        "open",
        9_900,
        "package",
    )
    assert invoice["source_key"] == package["id"] and invoice["number"]
    assert invoice["bill_to"]["name"] == "Ada Lovelace"  # known from customers' event

    async def owed() -> dict[str, Any] | None:
        found = await _ok(await tenant.customers.get(f"/v1/customers/{customer_id}"))
        summary = found["summary"]
        return summary if summary["outstanding_minor"] == 9_900 else None

    await wait_for(owed, timeout=30)

    await _ok(
        await billing.post(
            "/v1/payments",
            json={"invoice_id": invoice["id"], "amount_minor": 9_900, "method": "card"},
        ),
        201,
    )

    async def settled() -> dict[str, Any] | None:
        found = await _ok(await tenant.customers.get(f"/v1/customers/{customer_id}"))
        summary = found["summary"]
        done = summary["lifetime_spend_minor"] == 9_900 and summary["outstanding_minor"] == 0
        return summary if done else None

    summary = await wait_for(settled, timeout=30)
    assert summary["currency"] == "EUR"
    paid = await _ok(await billing.get(f"/v1/invoices/{invoice['id']}"))
    assert (paid["status"], paid["due_minor"]) == ("paid", 0)

    # The purchase again: the same message twice, and the same sale under a new id.
    again = PackagePurchased(
        package_id=uuid.UUID(package["id"]),
        customer_id=uuid.UUID(customer_id),
        name="10er card",
        credits=10,
        price_minor=9_900,
        currency="EUR",
        purchased_by="staff",
    )
    envelope = Envelope.wrap(
        again, tenant_id=tenant.id, aggregate_id=again.package_id, aggregate_version=1
    )
    for _ in range(2):
        await _publish(stack, envelope)
    await _publish(
        stack,
        Envelope.wrap(
            again, tenant_id=tenant.id, aggregate_id=again.package_id, aggregate_version=1
        ),
    )
    # A later sale of the same customer is billed: the redeliveries were taken off the
    # queue before or with it, and none made an invoice.
    await _ok(
        await tenant.credits.post(
            "/v1/credit-packages",
            json={"customer_id": customer_id, "credits": 5, "price_minor": 5_000},
        ),
        201,
    )

    async def two() -> list[dict[str, Any]] | None:
        found = await _invoices(billing, customer_id)
        return found if len(found) >= 2 else None

    await wait_for(two, timeout=30)
    await asyncio.sleep(1.0)
    found = await _invoices(billing, customer_id)
    assert sorted(i["total_minor"] for i in found) == [5_000, 9_900]
    assert len({i["source_key"] for i in found}) == 2


async def test_points_redeemed_for_a_voucher_come_off_the_programs_invoice(stack, tenant):
    """Credits' real events: points earned on a paid invoice, redeemed for a discount
    voucher; the program bought next is invoiced with the voucher taken off."""
    billing, credits = tenant.client("billing"), tenant.credits
    await _ok(
        await credits.put(
            "/v1/loyalty/rule",
            json={"currency": "EUR", "points_per_unit": 1, "discount_minor_per_point": 10},
        )
    )
    customer = await _ok(
        await tenant.customers.post(
            "/v1/customers",
            json={
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": f"grace{uuid.uuid4().hex[:8]}@example.com",
            },
        ),
        201,
    )
    customer_id = str(customer["id"])
    await _ok(
        await credits.post(
            "/v1/credit-packages",
            json={"customer_id": customer_id, "credits": 10, "price_minor": 9_900},
        ),
        201,
    )
    (invoice,) = await wait_for(lambda: _invoices(billing, customer_id), timeout=30)
    await _ok(
        await billing.post(
            "/v1/payments",
            json={"invoice_id": invoice["id"], "amount_minor": 9_900, "method": "card"},
        ),
        201,
    )

    async def earned() -> dict[str, Any] | None:
        found = await _ok(await credits.get(f"/v1/loyalty/accounts/{customer_id}"))
        return found if found["balance"] == 99 else None  # 1 point per euro paid

    await wait_for(earned, timeout=30)
    await _ok(
        await credits.post(
            "/v1/loyalty/redemptions",
            json={"customer_id": customer_id, "redeem_for": "discount", "points": 80},
        ),
        201,
    )

    async def voucher() -> list[dict[str, Any]] | None:
        found = await _ok(await billing.get("/v1/vouchers", params={"customer_id": customer_id}))
        return found["items"] or None

    (kept,) = await wait_for(voucher, timeout=30)
    assert (kept["amount_minor"], kept["remaining_minor"], kept["points"]) == (800, 800, 80)

    product = await _ok(
        await credits.post(
            "/v1/program-products",
            json={
                "name": "Personal training x5",
                "sessions": 5,
                "service": "Personal training",
                "price_minor": 5_000,
            },
        ),
        201,
    )
    program = await _ok(
        await credits.post(
            "/v1/programs", json={"customer_id": customer_id, "product_id": product["id"]}
        ),
        201,
    )

    async def program_invoice() -> list[dict[str, Any]] | None:
        found = await _ok(
            await billing.get(
                "/v1/invoices", params={"source": "program", "source_key": program["id"]}
            )
        )
        return found["items"] or None

    (made,) = await wait_for(program_invoice, timeout=30)
    assert (made["total_minor"], made["voucher_discount_minor"], made["status"]) == (
        4_200,
        800,
        "open",
    )
    left = await _ok(await billing.get("/v1/vouchers", params={"customer_id": customer_id}))
    assert [v["remaining_minor"] for v in left["items"]] == [0]


async def test_billing_api_never_answers_5xx_or_off_its_documented_answers(stack):
    """The shared fuzz (tests/e2e/test_openapi_fuzz.py) on billing's OpenAPI."""
    from test_openapi_fuzz import fuzz  # tests/e2e is on the path (conftest)

    token = issue_token(
        stack.settings, tenant_id=uuid.uuid4(), role=Role.admin, permissions=list(Permission)
    )
    sent, failures = await asyncio.to_thread(
        fuzz, stack.url("billing"), {"Authorization": f"Bearer {token}"}
    )
    assert sent > 0
    assert not failures, "\n\n".join(failures)
