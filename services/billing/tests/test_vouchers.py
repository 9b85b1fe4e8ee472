"""Loyalty vouchers (credits' ``loyalty.voucher_issued``) and programs bought (credits'
``program.purchased``), through the real broker and database: a voucher comes off the
customer's next invoice, never below zero, the rest waits for the one after; another
currency's waits; a cancelled invoice gives it back; the same voucher or program sale
delivered again counts once. The rules themselves, without a database, first."""

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from frontdesk.billing.adapters.tables import metadata
from frontdesk.billing.domain.credit_notes import CreditNote, Selection, credited_by
from frontdesk.billing.domain.invoices import Invoice, InvoiceStatus
from frontdesk.billing.domain.pricing import LineRequest, price_lines, spread
from frontdesk.billing.domain.vouchers import Use, Voucher, to_give_back, to_use
from frontdesk.contracts.credits import LoyaltyVoucherIssued, ProgramPurchased
from frontdesk.kit.testing import wait_for

from .helpers import ADMIN, draft, invoice, issued, line, position, postings_sum
from .test_events import invoices_of, purchased, settled
from .test_merges_tenants import merged
from .test_pdf import text_of

NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)

# --- the rules ------------------------------------------------------------------------------


def voucher(amount: int, currency: str = "EUR", used: int = 0) -> Voucher:
    return Voucher(uuid.uuid4(), uuid.uuid4(), 100, amount, currency, "staff-1", used)


def test_spread_splits_by_the_lines_totals_and_never_beyond_one():
    assert spread(1_000, [3_000, 1_000]) == [750, 250]
    assert spread(100, [1, 1, 1]) == [1, 1, 1]  # capped at the lines' sum
    assert spread(2, [1, 1, 1]) == [1, 1, 0]  # the unit left goes to the earliest
    assert spread(7, [0, 5, 5]) == [0, 4, 3]
    assert sum(spread(9_999, [3_333, 3_333, 3_334])) == 9_999


def test_vouchers_are_used_oldest_first_in_the_invoices_currency_up_to_its_total():
    old, chf, new = voucher(1_000, used=400), voucher(5_000, "CHF"), voucher(2_000)
    assert to_use([old, chf, new], "EUR", 1_500) == [
        Use(old.voucher_id, 600),
        Use(new.voucher_id, 900),
    ]
    assert to_use([old, chf, new], "EUR", 0) == []
    assert to_use([chf], "EUR", 1_000) == []
    # Given back: the last used first, never more than each has on the invoice.
    used = [Use(old.voucher_id, 600), Use(new.voucher_id, 900)]
    assert to_give_back(used, 1_000) == [Use(new.voucher_id, -900), Use(old.voucher_id, -100)]


def _invoice(*prices: tuple[int, int]) -> Invoice:
    lines = price_lines(
        [LineRequest("x", price, tax_rate_bp=rate) for price, rate in prices or [(1, 0)]],
        prices_include_tax=True,
    )
    return Invoice.draft(
        tenant_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        currency="EUR",
        prefix="",
        prices_include_tax=True,
        lines=lines,
        actor="staff-1",
    )


def test_a_voucher_lowers_the_total_and_the_tax_of_each_rate_never_below_zero():
    made = _invoice((10_000, 1_900), (5_000, 700))
    made.use_vouchers([Use(uuid.uuid4(), 3_000)])
    assert (made.total_minor, made.voucher_discount_minor) == (12_000, 3_000)
    first, second = made.lines
    assert (first["voucher_discount_minor"], first["total_minor"]) == (2_000, 8_000)
    assert (second["voucher_discount_minor"], second["total_minor"]) == (1_000, 4_000)
    assert first["tax_minor"] == 1_277  # 8 000 * 1900 / 11 900, rounded once
    assert made.net_minor + made.tax_minor == made.total_minor
    assert made.vouchers == [{"voucher_id": made.vouchers[0]["voucher_id"], "amount_minor": 3_000}]
    whole = _invoice((2_000, 1_900))
    whole.use_vouchers([Use(uuid.uuid4(), 2_000)])
    assert (whole.total_minor, whole.tax_minor, whole.net_minor) == (0, 0, 0)
    with pytest.raises(Exception, match="total"):
        _invoice((1_000, 0)).use_vouchers([Use(uuid.uuid4(), 1_001)])


def test_a_partial_credit_note_gives_back_its_share_of_the_voucher():
    made = _invoice()
    made.edit(  # four sessions at 25.00
        lines=price_lines(
            [LineRequest("x", 2_500, quantity=Decimal(4), tax_rate_bp=1_900)],
            prices_include_tax=True,
        )
    )
    made.use_vouchers([Use(uuid.uuid4(), 2_000)])
    made.number, made.status = "2027-000001", InvoiceStatus.open  # issued, for the rule
    lines = CreditNote.lines_of(made, [Selection(0, Decimal(1))], {})
    assert (lines[0]["total_minor"], lines[0]["voucher_discount_minor"]) == (2_000, 500)
    note = CreditNote.against(
        made, lines, number="CN-1", now=NOW, issued_on=NOW.date(), actor="staff-1"
    )
    rest = CreditNote.lines_of(made, None, credited_by([note]))
    assert (rest[0]["total_minor"], rest[0]["voucher_discount_minor"]) == (6_000, 1_500)


# --- through the broker ---------------------------------------------------------------------


def issued_voucher(customer: uuid.UUID, amount: int, currency: str = "EUR") -> LoyaltyVoucherIssued:
    return LoyaltyVoucherIssued(
        voucher_id=uuid.uuid4(),
        customer_id=customer,
        points=amount // 10,
        amount_minor=amount,
        currency=currency,
        issued_by="staff-1",
    )


async def vouchers_of(client, tokens, customer: Any, **query: Any) -> list[dict[str, Any]]:
    r = await client.get(
        "/v1/vouchers",
        params={"customer_id": str(customer), **query},
        headers=tokens.headers(ADMIN),
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def left_of(client, tokens, customer: Any) -> dict[str, int]:
    """What the customer's vouchers have left, per currency."""
    return {
        v["currency"]: v["remaining_minor"] for v in await vouchers_of(client, tokens, customer)
    }


async def kept(bus, client, tokens, customer: uuid.UUID, *events: LoyaltyVoucherIssued) -> None:
    for event in events:
        await bus.publish(event, event.voucher_id)

    async def all_there() -> bool:
        return len(await vouchers_of(client, tokens, customer)) == len(events)

    await wait_for(all_there, timeout=15)


async def test_a_voucher_comes_off_the_next_invoices_and_counts_once_however_often_it_comes(
    client, tokens, bus, runtime, tenant_id
):
    customer = uuid.uuid4()
    event = issued_voucher(customer, 3_000)
    message = await bus.publish(event, event.voucher_id)
    (found,) = await wait_for(lambda: vouchers_of(client, tokens, customer))
    assert (found["amount_minor"], found["remaining_minor"], found["points"]) == (3_000, 3_000, 300)
    await bus.redeliver(message)  # the same message: the inbox drops it
    await bus.publish(event, event.voucher_id)  # the same voucher, a new message id
    await settled(bus, 2)
    (found,) = await vouchers_of(client, tokens, customer)
    assert found["remaining_minor"] == 3_000

    # A 20.00 package: the voucher pays all of it (the invoice is zero, never negative)...
    first = purchased(customer, price=2_000)
    await bus.publish(first, first.package_id)
    (made,) = await wait_for(lambda: invoices_of(client, tokens, customer_id=str(customer)))
    assert (made["total_minor"], made["voucher_discount_minor"], made["status"]) == (
        0,
        2_000,
        "paid",
    )
    assert made["vouchers"] == [{"voucher_id": str(event.voucher_id), "amount_minor": 2_000}]
    (found,) = await vouchers_of(client, tokens, customer)
    assert (found["used_minor"], found["remaining_minor"]) == (2_000, 1_000)

    # ...and what is left comes off the next one.
    second = purchased(customer, price=9_900)
    await bus.publish(second, second.package_id)

    async def two() -> list[dict[str, Any]]:
        found = await invoices_of(client, tokens, customer_id=str(customer))
        return found if len(found) == 2 else []

    _, later = await wait_for(two)
    assert (later["total_minor"], later["voucher_discount_minor"]) == (8_900, 1_000)
    assert later["lines"][0]["amount_minor"] == 9_900
    assert (await position(client, tokens, customer))["outstanding_minor"] == 8_900
    assert await postings_sum(runtime, tenant_id, customer) == 8_900
    assert await vouchers_of(client, tokens, customer, open="true") == []
    (used_up,) = await vouchers_of(client, tokens, customer, open="false")
    assert used_up["remaining_minor"] == 0


async def test_a_voucher_waits_for_its_currency_shows_on_the_pdf_and_a_cancel_gives_it_back(
    client, tokens, bus
):
    admin = tokens.headers(ADMIN)
    customer = uuid.uuid4()
    eur, chf = issued_voucher(customer, 2_500), issued_voucher(customer, 1_000, "CHF")
    await kept(bus, client, tokens, customer, eur, chf)

    # A draft keeps its price: vouchers are used as the invoice is issued.
    made = await draft(client, tokens, customer)
    assert (made["total_minor"], made["voucher_discount_minor"]) == (10_000, 0)
    r = await client.post(f"/v1/invoices/{made['id']}/issue", headers=admin)
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["total_minor"], done["voucher_discount_minor"], done["due_minor"]) == (
        7_500,
        2_500,
        7_500,
    )
    assert (done["tax_minor"], done["net_minor"]) == (1_197, 6_303)  # 19 % of what is paid
    assert done["vouchers"] == [{"voucher_id": str(eur.voucher_id), "amount_minor": 2_500}]
    assert await left_of(client, tokens, customer) == {
        "EUR": 0,
        "CHF": 1_000,
    }  # another currency's voucher is not used

    r = await client.get(f"/v1/invoices/{done['id']}/pdf", headers=admin)
    body = text_of(r.content)
    for expected in ("Loyalty voucher", "-€25.00", "€100.00", "€75.00"):
        assert expected in body, (expected, body)

    # Cancelled (voided by a credit note): the voucher is whole again.
    r = await client.post(f"/v1/invoices/{done['id']}/cancel", headers=admin)
    assert r.status_code == 200 and r.json()["status"] == "cancelled", r.text
    r = await client.get("/v1/credit-notes", params={"invoice_id": done["id"]}, headers=admin)
    (note,) = r.json()["items"]
    assert (note["total_minor"], note["voucher_discount_minor"]) == (7_500, 2_500)
    assert await left_of(client, tokens, customer) == {"EUR": 2_500, "CHF": 1_000}

    # A small invoice the voucher pays in full, then cancelled: the voucher comes back too.
    small = await issued(client, tokens, customer, lines=[line(1_000, tax_rate_bp=1900)])
    assert (small["total_minor"], small["status"]) == (0, "paid")
    r = await client.post(f"/v1/invoices/{small['id']}/cancel", headers=admin)
    assert r.status_code == 200, r.text
    assert (await invoice(client, tokens, small["id"]))["status"] == "cancelled"
    (eur_left,) = await vouchers_of(client, tokens, customer, currency="EUR")
    assert eur_left["remaining_minor"] == 2_500


async def test_vouchers_follow_a_merge_and_a_customer_sees_only_its_own(client, tokens, bus):
    survivor, gone = uuid.uuid4(), uuid.uuid4()
    await kept(bus, client, tokens, gone, issued_voucher(gone, 1_500))
    await bus.publish(merged(uuid.uuid4(), survivor, gone), survivor)

    async def moved() -> list[dict[str, Any]]:
        return await vouchers_of(client, tokens, survivor)

    (found,) = await wait_for(moved)
    assert await vouchers_of(client, tokens, gone) == []
    done = await issued(client, tokens, survivor)
    assert done["voucher_discount_minor"] == 1_500

    me = tokens.headers("customer", sub=survivor)
    r = await client.get("/v1/vouchers", headers=me)
    assert [v["voucher_id"] for v in r.json()["items"]] == [found["voucher_id"]]
    other = tokens.headers("customer", sub=uuid.uuid4())
    r = await client.get(f"/v1/vouchers/{found['voucher_id']}", headers=other)
    assert r.status_code == 404
    r = await client.get("/v1/vouchers", params={"customer_id": str(survivor)}, headers=other)
    assert r.status_code == 404


async def test_a_priced_program_is_invoiced_once_and_a_free_one_not_at_all(client, tokens, bus):
    customer = uuid.uuid4()
    event = ProgramPurchased(
        program_id=uuid.uuid4(),
        customer_id=customer,
        name="Personal training x8",
        sessions=8,
        price_minor=48_000,
        currency="EUR",
        purchased_by="staff-1",
    )
    message = await bus.publish(event, event.program_id)
    (made,) = await wait_for(lambda: invoices_of(client, tokens, customer_id=str(customer)))
    assert (made["source"], made["source_key"], made["total_minor"], made["status"]) == (
        "program",
        str(event.program_id),
        48_000,
        "open",
    )
    assert made["lines"][0]["kind"] == "credits" and "8 sessions" in made["lines"][0]["description"]
    await bus.redeliver(message)
    await bus.publish(event, event.program_id)  # the same sale under a new message id
    free = event.model_copy(update={"program_id": uuid.uuid4(), "price_minor": 0})
    await bus.publish(free, free.program_id)
    await settled(bus, 3)
    assert len(await invoices_of(client, tokens, customer_id=str(customer))) == 1
    assert (await position(client, tokens, customer))["outstanding_minor"] == 48_000


async def test_the_migrations_create_the_tables_the_code_uses(runtime):
    async with runtime.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []
