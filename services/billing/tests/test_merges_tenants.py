"""Customers merged and unmerged (customers' events through the real broker): the merged
customer's invoices, credit notes, payments and journal move to the survivor with their
numbers and buyer details untouched, once however often the event comes, and back on
the unmerge. The tenant's settings from the gateway (identity.tenant.changed) change
what the next invoice shows: its currency and seller, newest event wins."""

import uuid
from typing import Any

from frontdesk.contracts.customers import CustomerMerged, CustomerUnmerged
from frontdesk.contracts.identity import Seller, TenantChanged

from .helpers import ADMIN, draft, invoice, issued, line, pay, position, postings_sum
from .test_events import settled
from .test_pdf import text_of


async def invoices_of(client, tokens, customer_id: Any) -> list[dict[str, Any]]:
    r = await client.get(
        "/v1/invoices", params={"customer_id": str(customer_id)}, headers=tokens.headers(ADMIN)
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def listed(client, tokens, path: str, customer_id: Any) -> list[str]:
    r = await client.get(
        path, params={"customer_id": str(customer_id)}, headers=tokens.headers(ADMIN)
    )
    assert r.status_code == 200, r.text
    return sorted(item["id"] for item in r.json()["items"])


def merged(merge_id: uuid.UUID, survivor: uuid.UUID, gone: uuid.UUID) -> CustomerMerged:
    return CustomerMerged(
        merge_id=merge_id, survivor_id=survivor, merged_id=gone, merged_by="staff-1"
    )


def unmerged(merge_id: uuid.UUID, survivor: uuid.UUID, gone: uuid.UUID) -> CustomerUnmerged:
    return CustomerUnmerged(
        merge_id=merge_id, survivor_id=survivor, merged_id=gone, unmerged_by="staff-1"
    )


async def test_a_merge_moves_the_money_once_and_the_unmerge_moves_exactly_it_back(
    client, tokens, bus
):
    admin = tokens.headers(ADMIN)
    survivor, gone, merge_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    own = await issued(client, tokens, survivor, bill_to={"name": "Ada Lovelace"})
    theirs = await issued(client, tokens, gone, bill_to={"name": "Ada L. (duplicate)"})
    paid = await issued(client, tokens, gone, lines=[line(3_000, tax_rate_bp=1900)])
    payment = await pay(client, tokens, paid["id"], 5_000)  # 2,000 over: the customer's credit
    r = await client.post(
        "/v1/credit-notes",
        json={"invoice_id": theirs["id"], "lines": [{"position": 0, "quantity": "0.5"}]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    note = r.json()
    draft_of_gone = await draft(client, tokens, gone)
    before_survivor = await position(client, tokens, survivor)
    before_gone = await position(client, tokens, gone)
    assert before_gone["outstanding_minor"] == 5_000 and before_gone["credit_minor"] == 2_000

    message = await bus.publish(merged(merge_id, survivor, gone), merge_id)
    await settled(bus, 1)
    moved = {own["id"], theirs["id"], paid["id"], draft_of_gone["id"]}
    assert {i["id"] for i in await invoices_of(client, tokens, survivor)} == moved
    assert await invoices_of(client, tokens, gone) == []
    # Numbers and the buyer as issued stay: only the customer link moved.
    after = await invoice(client, tokens, theirs["id"])
    assert after["number"] == theirs["number"]
    assert after["bill_to"]["name"] == "Ada L. (duplicate)"
    assert after["customer_id"] == str(survivor)
    assert await listed(client, tokens, "/v1/payments", survivor) == [payment["id"]]
    assert await listed(client, tokens, "/v1/credit-notes", survivor) == [note["id"]]
    pos = await position(client, tokens, survivor)
    assert pos["outstanding_minor"] == before_survivor["outstanding_minor"] + 5_000
    assert pos["credit_minor"] == 2_000 and pos["lifetime_spend_minor"] == 5_000
    assert await postings_sum(bus.runtime, bus.tenant_id, gone) == 0
    changes = await bus.outbox("billing.account.changed.v1")
    last = {c["payload"]["customer_id"]: c["payload"] for c in changes}
    assert last[str(survivor)]["outstanding_minor"] == pos["outstanding_minor"]
    assert last[str(gone)]["outstanding_minor"] == 0 and last[str(gone)]["credit_minor"] == 0

    # The same merge again (the same message, and the same merge under a new id): nothing.
    await bus.redeliver(message)
    await bus.publish(merged(merge_id, survivor, gone), merge_id)
    await settled(bus, 2)
    assert len(await bus.outbox("billing.account.changed.v1")) == len(changes)
    assert await position(client, tokens, survivor) == pos

    # While merged: the survivor's next invoice uses the credit (2,000) and a payment
    # settles part of the merged customer's old invoice.
    later = await issued(client, tokens, survivor)
    assert later["paid_minor"] == 2_000
    meanwhile = await pay(client, tokens, theirs["id"], 1_000)
    await bus.publish(unmerged(merge_id, survivor, gone), merge_id, version=2)
    await settled(bus, 1)
    # The survivor's own invoices stay; what the merge moved goes back, and the payment
    # made meanwhile follows its invoice.
    assert {i["id"] for i in await invoices_of(client, tokens, survivor)} == {
        own["id"],
        later["id"],
    }
    assert {i["id"] for i in await invoices_of(client, tokens, gone)} == moved - {own["id"]}
    assert await listed(client, tokens, "/v1/payments", gone) == sorted(
        [payment["id"], meanwhile["id"]]
    )
    assert await listed(client, tokens, "/v1/credit-notes", gone) == [note["id"]]
    # The credit the survivor used was the merged customer's: settled between them, so
    # neither holds a negative credit.
    back_gone = await position(client, tokens, gone)
    figures = ("outstanding_minor", "credit_minor", "lifetime_spend_minor")
    assert [back_gone[k] for k in figures] == [4_000, 0, 6_000]
    back = await position(client, tokens, survivor)
    assert back["outstanding_minor"] == before_survivor["outstanding_minor"] + 8_000
    assert back["credit_minor"] == 0
    total = await postings_sum(bus.runtime, bus.tenant_id, gone)
    assert total == back_gone["outstanding_minor"] - back_gone["credit_minor"]

    # Replayed, the unmerge moves nothing; nor does the merge once it was undone.
    await bus.publish(unmerged(merge_id, survivor, gone), merge_id, version=2)
    await bus.publish(merged(merge_id, survivor, gone), merge_id)
    await settled(bus, 2)
    assert await position(client, tokens, gone) == back_gone
    assert len(await invoices_of(client, tokens, survivor)) == 2


async def test_an_unmerge_before_its_merge_leaves_both_records_as_they_are(client, tokens, bus):
    survivor, gone, merge_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    theirs = await issued(client, tokens, gone)
    await bus.publish(unmerged(merge_id, survivor, gone), merge_id, version=2)
    await settled(bus, 1)
    await bus.publish(merged(merge_id, survivor, gone), merge_id)
    await settled(bus, 1)
    assert [i["id"] for i in await invoices_of(client, tokens, gone)] == [theirs["id"]]
    assert await invoices_of(client, tokens, survivor) == []


def tenant_changed(tenant_id: uuid.UUID, **extra: Any) -> TenantChanged:
    values: dict[str, Any] = {
        "tenant_id": tenant_id,
        "name": "Studio Nord",
        "slug": "studio-nord",
        "default_country": "CH",
        "language": "de",
        "currency": "CHF",
        "time_zone": "Europe/Zurich",
        "seller": Seller(
            legal_name="Studio Nord GmbH",
            address_lines=["Langstrasse 12"],
            postal_code="8004",
            city="Zürich",
            country="CH",
            tax_id="CHE-123.456.789",
            email="rechnung@nord.example",
            phone="+41 44 123 45 67",
        ),
    }
    return TenantChanged(**(values | extra))


async def test_the_tenants_settings_change_the_next_invoices_currency_and_seller(
    client, tokens, bus, tenant_id
):
    admin = tokens.headers(ADMIN)
    customer = uuid.uuid4()
    before = await issued(client, tokens, customer)
    assert before["currency"] == "EUR"  # the deployment's default: no copy yet

    await bus.publish(tenant_changed(tenant_id), tenant_id, version=3)
    await settled(bus, 1)
    made = await issued(client, tokens, customer)
    assert made["currency"] == "CHF"
    assert made["seller"]["name"] == "Studio Nord GmbH"
    assert made["seller"]["tax_id"] == "CHE-123.456.789"
    pdf = text_of((await client.get(f"/v1/invoices/{made['id']}/pdf", headers=admin)).content)
    assert "Studio Nord GmbH" in pdf and "Langstrasse 12" in pdf and "8004 Zürich" in pdf
    assert "Rechnung" in pdf  # the tenant's language: German labels
    assert "+41 44 123 45 67" in pdf
    # An invoice issued before keeps the seller it was issued with.
    old = await client.get(f"/v1/invoices/{before['id']}/pdf", headers=admin)
    assert "Studio Nord" not in text_of(old.content)

    # An older event arriving late changes nothing; a newer one does.
    await bus.publish(tenant_changed(tenant_id, name="Old", currency="GBP"), tenant_id, version=2)
    await settled(bus, 1)
    profile = (await client.get("/v1/billing-profile", headers=admin)).json()
    assert (profile["currency"], profile["seller_name"]) == ("CHF", "Studio Nord GmbH")
    newer = tenant_changed(tenant_id, currency="USD", seller=Seller(legal_name="Nord AG"))
    await bus.publish(newer, tenant_id, version=4)
    await settled(bus, 1)
    assert (await draft(client, tokens, customer))["currency"] == "USD"

    # What staff set in the billing profile wins over the tenant's copy.
    r = await client.patch(
        "/v1/billing-profile", json={"seller_name": "Nord Billing"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert r.json()["seller_name"] == "Nord Billing" and r.json()["currency"] == "USD"
    await bus.publish(tenant_changed(tenant_id, currency="USD"), tenant_id, version=5)
    await settled(bus, 1)
    last = await issued(client, tokens, customer)
    assert last["seller"]["name"] == "Nord Billing" and last["currency"] == "USD"
