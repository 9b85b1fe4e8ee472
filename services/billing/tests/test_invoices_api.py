"""Invoices, payments, credit notes and refunds over HTTP, against the real database:
the balances they leave, the statement that reconciles to the postings, the events they
publish, who may do what, and bad input answered 4xx without a half-written change."""

import uuid
from datetime import UTC, date, datetime, timedelta

from frontdesk.billing.application import invoices
from frontdesk.kit.auth import Permission, Principal, Role

from .helpers import (
    ADMIN,
    draft,
    invoice,
    issued,
    line,
    pay,
    position,
    postings_sum,
    row_counts,
)


def acting(tokens) -> Principal:
    return Principal(sub="t", tenant_id=tokens.tenant_id, role=Role.admin)


async def statement(client, tokens, customer_id, **query) -> dict:
    params = {"customer_id": str(customer_id), **query}
    r = await client.get("/v1/ledger/statement", params=params, headers=tokens.headers(ADMIN))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def test_draft_is_editable_unnumbered_and_priced_per_line(client, tokens):
    admin = tokens.headers(ADMIN)
    made = await draft(
        client,
        tokens,
        lines=[
            line(1_000, quantity="1.5", tax_rate_bp=1900, discount_bp=1000),
            line(250, quantity=3, tax_rate_bp=700),
        ],
        prices_include_tax=False,
    )
    assert made["status"] == "draft" and made["number"] is None and made["version"] == 1
    first, second = made["lines"]
    # 1.5 * 1000 = 1500; -10 % = 1350; +19 % = 256.5 -> 257
    assert (first["amount_minor"], first["discount_minor"], first["tax_minor"]) == (1500, 150, 257)
    assert first["total_minor"] == 1607
    assert (second["net_minor"], second["tax_minor"], second["total_minor"]) == (750, 53, 803)
    assert made["total_minor"] == 1607 + 803 and made["tax_minor"] == 257 + 53
    assert [(t["rate_bp"], t["tax_minor"]) for t in made["tax_summary"]] == [(700, 53), (1900, 257)]
    r = await client.patch(
        f"/v1/invoices/{made['id']}",
        json={"lines": [line(500)], "notes": "thanks"},
        headers={**admin, "If-Match": '"1"'},
    )
    assert r.status_code == 200, r.text
    assert r.json()["total_minor"] == 500 and r.headers["etag"] == '"2"'
    r = await client.patch(
        f"/v1/invoices/{made['id']}", json={"notes": "x"}, headers={**admin, "If-Match": '"1"'}
    )
    assert r.status_code == 412 and r.headers["etag"] == '"2"'


async def test_partial_payments_overpayment_credit_note_and_refund_leave_the_right_balance(
    client, tokens, runtime, bus
):
    admin = tokens.headers(ADMIN)
    customer = uuid.uuid4()
    first = await issued(client, tokens, customer, lines=[line(10_000, tax_rate_bp=1900)])
    assert first["status"] == "open" and first["due_minor"] == 10_000
    assert first["bill_to"]["name"].startswith("Customer ")  # not known to billing yet

    await pay(client, tokens, first["id"], 3_000, "card")
    partly = await invoice(client, tokens, first["id"])
    assert (partly["status"], partly["paid_minor"], partly["due_minor"]) == ("open", 3_000, 7_000)

    # 8 000 pays the 7 000 due; 1 000 is kept as the customer's credit
    over = await pay(client, tokens, first["id"], 8_000, "cash")
    assert over["reference"].startswith("PAY-")
    paid = await invoice(client, tokens, first["id"])
    assert (paid["status"], paid["paid_minor"], paid["due_minor"]) == ("paid", 10_000, 0)
    pos = await position(client, tokens, customer)
    assert (pos["outstanding_minor"], pos["credit_minor"], pos["lifetime_spend_minor"]) == (
        0,
        1_000,
        11_000,
    )
    r = await client.post(
        "/v1/payments",
        json={"invoice_id": first["id"], "amount_minor": 1, "method": "cash"},
        headers=admin,
    )
    assert r.status_code == 409  # a paid invoice takes no payment

    # the next invoice takes the credit first
    second = await issued(client, tokens, customer, lines=[line(2_500, tax_rate_bp=0)])
    assert (second["paid_minor"], second["due_minor"]) == (1_000, 1_500)
    pos = await position(client, tokens, customer)
    assert (pos["outstanding_minor"], pos["credit_minor"]) == (1_500, 0)

    # a credit note for the paid first invoice: all of it becomes credit again
    r = await client.post(
        "/v1/credit-notes",
        json={"invoice_id": first["id"], "lines": [{"position": 0, "quantity": "0.5"}]},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    note = r.json()
    assert note["total_minor"] == 5_000 and note["tax_minor"] == 798
    pos = await position(client, tokens, customer)
    assert (pos["outstanding_minor"], pos["credit_minor"]) == (1_500, 5_000)

    # refund 6 000 of the cash payment: 5 000 from the credit, 1 000 owed again on it
    r = await client.post(
        f"/v1/payments/{over['id']}/refunds",
        json={"amount_minor": 6_000, "reason": "goodwill"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    assert r.json()["method"] == "cash" and r.json()["reference"].startswith("RF-")
    reopened = await invoice(client, tokens, first["id"])
    assert (reopened["status"], reopened["due_minor"]) == ("open", 1_000)
    pos = await position(client, tokens, customer)
    assert pos == {
        "currency": "EUR",
        "outstanding_minor": 2_500,
        "credit_minor": 0,
        "lifetime_spend_minor": 11_000 - 6_000,
        "balance_minor": 2_500,
    }
    r = await client.post(
        f"/v1/payments/{over['id']}/refunds", json={"amount_minor": 2_001}, headers=admin
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "amount_minor"

    # the statement lists every entry with its reference and reconciles to the postings
    found = await statement(client, tokens, customer)
    kinds = [(row["kind"], row["reference"][:3]) for row in found["lines"]]
    year = str(date.today().year)
    assert [k for k, _ in kinds] == [
        "invoice",
        "payment",
        "payment",
        "invoice",
        "credit_applied",
        "credit_note",
        "refund",
    ]
    assert found["lines"][0]["reference"] == f"{year}-000001"
    running = found["opening_minor"]
    for row in found["lines"]:
        running += row["debit_minor"] - row["credit_minor"]
        assert row["balance_minor"] == running
    assert (
        found["closing_minor"] == 2_500 == await postings_sum(runtime, tokens.tenant_id, customer)
    )
    # paged, it ends on the same balance
    page = await statement(client, tokens, customer, limit=3)
    assert len(page["lines"]) == 3 and page["next_cursor"]
    rest = await statement(client, tokens, customer, cursor=page["next_cursor"])
    assert rest["opening_minor"] == page["closing_minor"]
    assert rest["closing_minor"] == 2_500

    # the trial balance sums to zero; revenue and tax net of the credit note
    r = await client.get("/v1/ledger/balances", headers=admin)
    rows = r.json()
    assert sum(row["balance_minor"] for row in rows) == 0
    revenue = -sum(row["balance_minor"] for row in rows if row["account"] == "revenue")
    tax = -sum(row["balance_minor"] for row in rows if row["account"] == "tax")
    assert revenue + tax == 10_000 + 2_500 - 5_000
    cash = {row["method"]: row["balance_minor"] for row in rows if row["account"] == "cash"}
    assert cash == {"card": 3_000, "cash": 8_000 - 6_000}

    # every change told customers the position, with growing versions
    changes = await bus.outbox("billing.account.changed.v1")
    versions = [c["aggregate_version"] for c in changes]
    assert versions == sorted(versions) and len(set(versions)) == len(versions)
    last = changes[-1]["payload"]
    assert (last["lifetime_spend_minor"], last["outstanding_minor"]) == (5_000, 2_500)
    assert [e["payload"]["number"] for e in await bus.outbox("billing.credit_note.issued.v1")]
    assert len(await bus.outbox("billing.payment.recorded.v1")) == 2
    assert len(await bus.outbox("billing.payment.refunded.v1")) == 1
    paid_events = await bus.outbox("billing.invoice.paid.v1")
    assert paid_events[0]["payload"]["paid_minor"] == 10_000


async def test_cancel_a_draft_and_an_unpaid_invoice_but_not_a_paid_one(client, tokens, bus):
    admin = tokens.headers(ADMIN)
    made = await draft(client, tokens)
    r = await client.post(f"/v1/invoices/{made['id']}/cancel", headers=admin)
    assert r.json()["status"] == "cancelled" and r.json()["number"] is None
    unpaid = await issued(client, tokens)
    r = await client.post(
        f"/v1/invoices/{unpaid['id']}/cancel", json={"reason": "wrong customer"}, headers=admin
    )
    assert r.status_code == 200, r.text
    assert (r.json()["status"], r.json()["due_minor"], r.json()["credited_minor"]) == (
        "cancelled",
        0,
        10_000,
    )
    notes = (await client.get(f"/v1/credit-notes?invoice_id={unpaid['id']}", headers=admin)).json()
    assert [n["reason"] for n in notes["items"]] == ["wrong customer"]
    assert (
        await client.post(f"/v1/invoices/{unpaid['id']}/cancel", headers=admin)
    ).status_code == 409
    paid = await issued(client, tokens)
    await pay(client, tokens, paid["id"], 1)
    r = await client.post(f"/v1/invoices/{paid['id']}/cancel", headers=admin)
    assert r.status_code == 409 and r.json()["errors"][0]["field"] == "status"
    cancelled = await bus.outbox("billing.invoice.cancelled.v1")
    assert [c["payload"]["invoice_id"] for c in cancelled] == [unpaid["id"]]  # drafts: silent
    # an issued invoice is not edited
    r = await client.patch(f"/v1/invoices/{paid['id']}", json={"notes": "x"}, headers=admin)
    assert r.status_code == 409


async def test_idempotency_keys_make_one_payment_and_one_draft(client, tokens, runtime):
    admin = tokens.headers(ADMIN)
    open_ = await issued(client, tokens)
    body = {"invoice_id": open_["id"], "amount_minor": 500, "method": "transfer"}
    keyed = {**admin, "Idempotency-Key": "pay-1"}
    first = await client.post("/v1/payments", json=body, headers=keyed)
    again = await client.post("/v1/payments", json=body, headers=keyed)
    assert first.status_code == 201 and again.status_code == 200
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == first.json()["id"]
    other = await client.post("/v1/payments", json={**body, "amount_minor": 501}, headers=keyed)
    assert other.status_code == 409
    assert (await invoice(client, tokens, open_["id"]))["paid_minor"] == 500
    counts = await row_counts(runtime, tokens.tenant_id, ("payments",))
    assert counts == {"payments": 1}


async def test_bad_input_is_a_4xx_problem_naming_the_field_and_changes_nothing(
    client, tokens, runtime
):
    admin = tokens.headers(ADMIN)
    customer = str(uuid.uuid4())
    before = await row_counts(runtime, tokens.tenant_id, ("invoices", "payments", "postings"))
    cases = [
        ({"customer_id": customer, "lines": []}, "lines"),
        ({"customer_id": customer, "lines": [line(-1)]}, "lines.0.unit_price_minor"),
        ({"customer_id": customer, "lines": [line(1, quantity=0)]}, "lines.0.quantity"),
        ({"customer_id": customer, "lines": [line(1, quantity="0.0001")]}, "lines.0.quantity"),
        ({"customer_id": customer, "lines": [line(1, quantity="NaN")]}, "lines.0.quantity"),
        ({"customer_id": customer, "lines": [line(1, quantity=True)]}, "lines.0.quantity"),
        ({"customer_id": customer, "lines": [line(1.5)]}, "lines.0.unit_price_minor"),
        ({"customer_id": customer, "lines": [line("100")]}, "lines.0.unit_price_minor"),
        ({"customer_id": customer, "lines": [line(1, tax_rate_bp=10_001)]}, "lines.0.tax_rate_bp"),
        ({"customer_id": customer, "lines": [line(1, kind="gift")]}, "lines.0.kind"),
        (
            {"customer_id": customer, "lines": [line(1, description="a\u202eb")]},
            "lines.0.description",
        ),
        ({"customer_id": customer, "lines": [line(1)], "currency": "ZZZ"}, "currency"),
        ({"customer_id": customer, "lines": [line(1)], "prefix": "no spaces"}, "prefix"),
        ({"customer_id": customer, "lines": [line(1)], "due_on": "9999-01-01"}, "due_on"),
        ({"customer_id": "nope", "lines": [line(1)]}, "customer_id"),
        ({"customer_id": customer, "lines": [line(1)], "extra": 1}, "extra"),
    ]
    for body, field in cases:
        r = await client.post("/v1/invoices", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == "application/problem+json"
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
    made = await issued(client, tokens)
    payment_cases = [
        ({"invoice_id": made["id"], "amount_minor": 0, "method": "cash"}, "amount_minor"),
        ({"invoice_id": made["id"], "amount_minor": 1, "method": "cheque"}, "method"),
        (
            {"invoice_id": made["id"], "amount_minor": 1, "method": "cash", "currency": "USD"},
            "currency",
        ),
        ({"invoice_id": str(uuid.uuid4()), "amount_minor": 1, "method": "cash"}, "invoice_id"),
        (
            {
                "invoice_id": made["id"],
                "amount_minor": 1,
                "method": "cash",
                "received_at": "2027-01-01T10:00",
            },
            "received_at",
        ),
    ]
    for body, field in payment_cases:
        r = await client.post("/v1/payments", json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert field in [e["field"] for e in r.json()["errors"]], (field, r.json())
    bad_credit = await client.post(
        "/v1/credit-notes",
        json={"invoice_id": made["id"], "lines": [{"position": 0, "quantity": 2}]},
        headers=admin,
    )
    assert (
        bad_credit.status_code == 422
        and bad_credit.json()["errors"][0]["field"] == "lines.0.quantity"
    )
    r = await client.get("/v1/invoices?cursor=forged", headers=admin)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "cursor"
    r = await client.get("/v1/invoices?colour=red", headers=admin)
    assert r.status_code == 400
    r = await client.get(
        f"/v1/ledger/statement?customer_id={customer}&from=2027-02-01&to=2027-01-01", headers=admin
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "to"
    after = await row_counts(runtime, tokens.tenant_id, ("invoices", "payments", "postings"))
    assert after["payments"] == before["payments"]
    assert after["invoices"] == before["invoices"] + 1  # only the one made on purpose
    assert after["postings"] == before["postings"] + 3  # its receivable, revenue, tax


async def test_permissions_and_a_customer_sees_only_its_own_issued_invoices(client, tokens):
    customer = uuid.uuid4()
    mine = await issued(client, tokens, customer)
    my_draft = await draft(client, tokens, customer)
    theirs = await issued(client, tokens)
    staff = tokens.headers("staff")
    assert (await client.get("/v1/invoices", headers=staff)).status_code == 403
    assert (
        await client.post(
            "/v1/invoices", json={"customer_id": str(customer), "lines": [line(1)]}, headers=staff
        )
    ).status_code == 403
    manager = tokens.headers("staff", Permission.manage_billing)
    assert (await client.get("/v1/invoices", headers=manager)).status_code == 200
    me = tokens.headers("customer", sub=customer)
    listed = (await client.get("/v1/invoices", headers=me)).json()["items"]
    assert [i["id"] for i in listed] == [mine["id"]]
    assert (await client.get(f"/v1/invoices/{mine['id']}", headers=me)).status_code == 200
    assert (await client.get(f"/v1/invoices/{mine['id']}/pdf", headers=me)).status_code == 200
    for other in (theirs["id"], my_draft["id"]):
        assert (await client.get(f"/v1/invoices/{other}", headers=me)).status_code == 404
        assert (await client.get(f"/v1/invoices/{other}/pdf", headers=me)).status_code == 404
    assert (
        await client.get(f"/v1/invoices?customer_id={theirs['customer_id']}", headers=me)
    ).status_code == 404
    assert (
        await client.post(
            "/v1/payments",
            json={"invoice_id": mine["id"], "amount_minor": 1, "method": "cash"},
            headers=me,
        )
    ).status_code == 403
    other_tenant = tokens.headers(ADMIN, tenant_id=uuid.uuid4())
    assert (await client.get(f"/v1/invoices/{mine['id']}", headers=other_tenant)).status_code == 404
    assert (await client.get("/v1/invoices")).status_code == 401


async def test_kpis_per_tenant_and_customer(client, tokens, runtime):
    admin = tokens.headers(ADMIN)
    customer = uuid.uuid4()
    paid = await issued(client, tokens, customer, lines=[line(3_000)])
    await pay(client, tokens, paid["id"], 3_000)
    partly = await issued(client, tokens, customer, lines=[line(2_000)])
    await pay(client, tokens, partly["id"], 500)
    late = await draft(client, tokens, customer, lines=[line(1_000)])
    async with runtime.uow() as uow:  # issued 60 days ago: 14 days to pay have passed
        await invoices.issue(
            uow, acting(tokens), uuid.UUID(late["id"]), now=datetime.now(UTC) - timedelta(60)
        )
    await issued(client, tokens, lines=[line(700)])  # another customer's, open
    r = await client.get(f"/v1/billing-kpis?customer_id={customer}", headers=admin)
    assert r.status_code == 200, r.text
    (k,) = r.json()
    assert (k["billed_minor"], k["paid_minor"], k["pending_minor"]) == (6_000, 3_500, 2_500)
    assert k["overdue_minor"] == 1_000 and k["invoices"] == 3
    by_status = {s["status"]: s["count"] for s in k["by_status"]}
    assert by_status == {"paid": 1, "partially_paid": 1, "overdue": 1}
    assert (await invoice(client, tokens, late["id"]))["overdue"] is True
    (tenant,) = (await client.get("/v1/billing-kpis", headers=admin)).json()
    assert tenant["billed_minor"] == 6_700 and tenant["invoices"] == 4
    today = date.today().isoformat()
    (recent,) = (await client.get(f"/v1/billing-kpis?from={today}", headers=admin)).json()
    assert recent["billed_minor"] == 5_700
    me = tokens.headers("customer", sub=customer)
    (own,) = (await client.get("/v1/billing-kpis", headers=me)).json()
    assert own["billed_minor"] == 6_000
