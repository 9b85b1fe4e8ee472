"""The rules of billing, without a database: rounding once per line, tax included or
not, membership discounts and included services, totals per rate, credit notes never
beyond the invoice, payments and refunds, balanced journal entries."""

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from frontdesk.billing.domain import ledger
from frontdesk.billing.domain.credit_notes import CreditNote, Selection, credited_by
from frontdesk.billing.domain.invoices import Invoice, InvoiceStatus
from frontdesk.billing.domain.ledger import Account, InvoiceFigures, JournalEntry, Posting
from frontdesk.billing.domain.memberships import KnownMembership, active_terms
from frontdesk.billing.domain.numbering import Document, Series
from frontdesk.billing.domain.payments import Method, Payment
from frontdesk.billing.domain.pricing import (
    Figures,
    LineKind,
    LineRequest,
    MembershipTerms,
    figures,
    price_line,
    price_lines,
    round_half_up,
    tax_summary,
)
from frontdesk.kit.errors import ConflictError, RuleBroken

NOW = datetime(2027, 3, 1, 10, tzinfo=UTC)
GOLD = MembershipTerms.of("m1", "Gold", 10, ["Yoga", "Sauna"])


def test_half_up_rounding_of_halves():
    assert round_half_up(Decimal("0.5")) == 1
    assert round_half_up(Decimal("1.5")) == 2
    assert round_half_up(Decimal("2.5")) == 3  # not banker's rounding
    assert round_half_up(Decimal("2.4999")) == 2


def test_tax_included_is_taken_out_of_the_price_once_per_line():
    f = figures(
        Decimal(1),
        10_000,
        tax_rate_bp=1900,
        discount_bp=0,
        membership_discount_bp=0,
        included=False,
        prices_include_tax=True,
    )
    # 10 000 * 1900 / 11 900 = 1596.64 -> 1597
    assert f == Figures(10_000, 0, 0, 8403, 1597, 10_000)


def test_tax_on_top_when_prices_exclude_it():
    f = figures(
        Decimal("2.5"),
        333,
        tax_rate_bp=700,
        discount_bp=0,
        membership_discount_bp=0,
        included=False,
        prices_include_tax=False,
    )
    # 2.5 * 333 = 832.5 -> 833; 833 * 7 % = 58.31 -> 58
    assert f == Figures(833, 0, 0, 833, 58, 891)


def test_rounding_per_line_not_on_the_total():
    """Each line rounds on its own; the total is the plain sum of the lines, never the
    rounded total of unrounded amounts."""
    lines = price_lines(
        [LineRequest("x", 5, quantity=Decimal("0.3"), tax_rate_bp=1900)] * 3,
        prices_include_tax=False,
    )
    # 0.3 * 5 = 1.5 -> 2 per line; tax 2 * 19 % = 0.38 -> 0 per line
    assert [line.figures.total_minor for line in lines] == [2, 2, 2]
    assert sum(line.figures.total_minor for line in lines) == 6  # not round(4.5 * 1.19)


def test_line_discount_then_membership_discount_with_breakdown():
    line = price_line(
        LineRequest("Class", 2_000, tax_rate_bp=0, discount_bp=500),
        0,
        prices_include_tax=True,
        membership=GOLD,
    )
    # 2 000 - 5 % (100) = 1 900; Gold 10 % of 1 900 = 190
    assert line.figures == Figures(2_000, 100, 190, 1_710, 0, 1_710)
    assert line.membership_plan == "Gold" and line.membership_discount_bp == 1000
    assert not line.included


def test_included_service_is_priced_at_zero_with_the_plan_named():
    line = price_line(
        LineRequest("Yoga, 18:00", 1_500, tax_rate_bp=1900, service="yoga"),
        0,
        prices_include_tax=True,
        membership=GOLD,
    )
    assert line.included and line.membership_plan == "Gold"
    assert line.figures == Figures(1_500, 0, 1_500, 0, 0, 0)


def test_credit_packages_and_membership_fees_get_no_membership_discount():
    for kind in (LineKind.credits, LineKind.membership, LineKind.fee):
        line = price_line(
            LineRequest("x", 1_000, kind=kind, service="Yoga"),
            0,
            prices_include_tax=True,
            membership=GOLD,
        )
        assert line.figures.total_minor == 1_000 and line.membership_plan is None


def test_default_tax_rate_applies_when_a_line_names_none():
    line = price_line(LineRequest("x", 1_190), 0, prices_include_tax=True, default_tax_rate_bp=1900)
    assert line.tax_rate_bp == 1900 and line.figures.tax_minor == 190


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (LineRequest("x", 1, quantity=Decimal(0)), "lines.0.quantity"),
        (LineRequest("x", 1, quantity=Decimal("0.0001")), "lines.0.quantity"),
        (LineRequest("x", -1), "lines.0.unit_price_minor"),
        (LineRequest("x", 1, tax_rate_bp=10_001), "lines.0.tax_rate_bp"),
        (LineRequest("x", 1, discount_bp=-1), "lines.0.discount_bp"),
    ],
)
def test_bad_lines_name_their_field(request_, field):
    with pytest.raises(RuleBroken) as caught:
        price_lines([request_], prices_include_tax=True)
    assert caught.value.field == field


def test_totals_per_tax_rate_are_sums_of_lines():
    lines = price_lines(
        [
            LineRequest("a", 1_070, tax_rate_bp=700),
            LineRequest("b", 1_190, tax_rate_bp=1900),
            LineRequest("c", 2_140, tax_rate_bp=700),
        ],
        prices_include_tax=True,
    )
    summary = tax_summary((line.tax_rate_bp, line.figures) for line in lines)
    assert [(t.rate_bp, t.net_minor, t.tax_minor, t.total_minor) for t in summary] == [
        (700, 3_000, 210, 3_210),
        (1900, 1_000, 190, 1_190),
    ]


def _invoice(*requests: LineRequest, total_paid: int = 0) -> Invoice:
    invoice = Invoice.draft(
        tenant_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        currency="EUR",
        prefix="",
        prices_include_tax=True,
        lines=price_lines(requests, prices_include_tax=True),
        actor="t",
    )
    invoice.issue(
        number="2027-000001",
        now=NOW,
        issued_on=date(2027, 3, 1),
        due_on=date(2027, 3, 15),
        bill_to={"name": "Ada"},
        seller={"name": "Studio"},
        locale="en",
        timezone="UTC",
    )
    return invoice


def test_issue_numbers_freezes_and_records_the_event():
    invoice = _invoice(LineRequest("x", 500))
    assert invoice.status == InvoiceStatus.open and invoice.number == "2027-000001"
    assert [type(e).__name__ for e in invoice.collect_events()] == ["InvoiceIssued"]
    with pytest.raises(ConflictError):
        invoice.edit(notes="changed")
    with pytest.raises(ConflictError):
        invoice.issue(
            number="2027-000002",
            now=NOW,
            issued_on=date(2027, 3, 1),
            due_on=date(2027, 3, 1),
            bill_to={},
            seller={},
            locale="en",
            timezone="UTC",
        )


def test_a_zero_invoice_is_paid_at_issue():
    invoice = _invoice(LineRequest("Included", 0))
    assert invoice.status == InvoiceStatus.paid


def test_settle_follows_the_ledger():
    invoice = _invoice(LineRequest("x", 1_000))
    invoice.settle(InvoiceFigures(1_000, 400, 0, 600), NOW)
    assert invoice.status == InvoiceStatus.open
    invoice.settle(InvoiceFigures(1_000, 1_000, 0, 0), NOW)
    assert invoice.status == InvoiceStatus.paid
    invoice.settle(InvoiceFigures(1_000, 600, 0, 400), NOW)  # a refund reopened it
    assert invoice.status == InvoiceStatus.open
    other = _invoice(LineRequest("x", 1_000))
    other.settle(InvoiceFigures(1_000, 0, 1_000, 0), NOW)  # credited before any payment
    assert other.status == InvoiceStatus.cancelled


def test_cancel_refused_once_paid():
    invoice = _invoice(LineRequest("x", 1_000))
    invoice.require_cancellable(InvoiceFigures(1_000, 0, 0, 1_000))
    with pytest.raises(ConflictError):
        invoice.require_cancellable(InvoiceFigures(1_000, 1, 0, 999))


def test_credit_notes_never_credit_more_than_the_invoice():
    invoice = _invoice(
        LineRequest("a", 1_000, quantity=Decimal(3)), LineRequest("b", 500, tax_rate_bp=1900)
    )
    first = invoice_credit(invoice, [Selection(0, Decimal(1))], [])
    assert first.total_minor == 1_000
    with pytest.raises(RuleBroken) as caught:
        CreditNote.lines_of(invoice, [Selection(0, Decimal(3))], credited_by([first]))
    assert caught.value.field == "lines.0.quantity"
    rest = invoice_credit(invoice, None, [first])  # everything that is left
    assert rest.total_minor == 2_000 + 500
    with pytest.raises(ConflictError):
        CreditNote.lines_of(invoice, None, credited_by([first, rest]))
    with pytest.raises(RuleBroken):
        CreditNote.lines_of(invoice, [Selection(7)], {})


def test_the_last_part_of_a_line_takes_exactly_what_is_left():
    invoice = _invoice(LineRequest("a", 333, quantity=Decimal(3), tax_rate_bp=1900))
    one = invoice_credit(invoice, [Selection(0, Decimal(1))], [])
    two = invoice_credit(invoice, [Selection(0, Decimal(1))], [one])
    three = invoice_credit(invoice, [Selection(0)], [one, two])
    assert one.total_minor + two.total_minor + three.total_minor == invoice.total_minor
    assert one.tax_minor + two.tax_minor + three.tax_minor == invoice.tax_minor


def invoice_credit(invoice, selections, earlier) -> CreditNote:
    lines = CreditNote.lines_of(invoice, selections, credited_by(earlier))
    return CreditNote.against(
        invoice, lines, number="CN-2027-000001", now=NOW, issued_on=date(2027, 3, 2), actor="t"
    )


def test_refunds_never_exceed_the_payment():
    payment = Payment.received(
        tenant_id=uuid.uuid4(),
        customer_id=uuid.uuid4(),
        invoice_id=uuid.uuid4(),
        invoice_number="2027-000001",
        reference="PAY-2027-000001",
        method=Method.card,
        amount_minor=1_000,
        applied_minor=1_000,
        currency="EUR",
        received_at=NOW,
        actor="t",
    )
    refund = payment.refund(600, refunded_before_minor=0, reference="RF-1", actor="t", now=NOW)
    assert refund.method == Method.card and refund.amount_minor == 600
    with pytest.raises(RuleBroken) as caught:
        payment.refund(401, refunded_before_minor=600, reference="RF-2", actor="t", now=NOW)
    assert caught.value.field == "amount_minor"


def test_journal_entries_must_balance_in_code_too():
    with pytest.raises(ValueError, match="sum to zero"):
        JournalEntry(
            kind=ledger.EntryKind.invoice,
            reference="x",
            currency="EUR",
            customer_id=None,
            document_id=uuid.uuid4(),
            invoice_id=None,
            postings=(Posting(Account.revenue, -1, tax_rate_bp=0), Posting(Account.tax, 2)),
        )


def test_an_overpayment_goes_to_the_customer_credit():
    customer = uuid.uuid4()
    entry = ledger.payment_received(
        payment_id=uuid.uuid4(),
        reference="PAY-1",
        customer_id=customer,
        invoice_id=uuid.uuid4(),
        currency="EUR",
        method="cash",
        amount_minor=1_200,
        applied_minor=1_000,
    )
    by_account = {p.account: p.amount_minor for p in entry.postings}
    assert by_account == {
        Account.cash: 1_200,
        Account.receivable: -1_000,
        Account.customer_credit: -200,
    }


def test_the_membership_active_at_a_time():
    customer = uuid.uuid4()
    old = KnownMembership(
        uuid.uuid4(), customer, "Silver", 5, [], NOW.replace(year=2026), NOW, "active"
    )
    gold = KnownMembership(
        uuid.uuid4(), customer, "Gold", 10, ["Yoga"], NOW, NOW.replace(year=2028), "active"
    )
    frozen = KnownMembership(
        uuid.uuid4(), customer, "X", 50, [], NOW, NOW.replace(year=2028), "frozen"
    )
    terms = active_terms([old, gold, frozen], NOW)
    assert terms is not None and terms.plan_name == "Gold" and terms.includes("YOGA")
    assert active_terms([frozen], NOW) is None


def test_numbers():
    assert Series(Document.invoice, "", 2027).number(123) == "2027-000123"
    assert Series(Document.credit_note, "CN-", 2027).number(4) == "CN-2027-000004"


def test_a_merge_moves_once_and_its_unmerge_only_after_it():
    from frontdesk.billing.domain.merges import CustomerMerge, on_merged, on_unmerged, settlement

    ids = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    assert on_merged(None) == "move"
    assert on_merged(CustomerMerge(*ids, "merged")) == "nothing"  # a replay
    assert on_merged(CustomerMerge(*ids, "unmerged")) == "nothing"  # undone before it came
    assert on_unmerged(CustomerMerge(*ids, "merged")) == "move_back"
    assert on_unmerged(CustomerMerge(*ids, "unmerged")) == "nothing"
    assert on_unmerged(None) == "nothing"
    assert settlement(-2_000, 5_000) == ("survivor", 2_000)
    assert settlement(300, -100) == ("merged", 100)
    assert settlement(0, 10) is None


def test_the_tenants_copy_fills_what_staff_never_set():
    from frontdesk.billing.domain.profiles import BillingProfile
    from frontdesk.billing.domain.tenants import TenantCopy

    tenant = uuid.uuid4()
    copy = TenantCopy(
        name="Studio Nord",
        version=2,
        currency="chf",
        language="de",
        time_zone="Not/AZone",
        seller={"address_lines": ["Langstrasse 12"], "postal_code": "8004", "city": "Zürich"},
    )
    profile = BillingProfile(id=tenant, tenant_id=tenant)
    effective = profile.with_tenant(copy)
    assert (effective.currency, effective.locale, effective.timezone) == ("CHF", "de", "UTC")
    assert effective.seller_name == "Studio Nord"
    assert effective.seller_address == "Langstrasse 12\n8004 Zürich"
    assert profile.with_tenant(None) is profile
    profile.edit({"currency": "EUR", "seller_name": "Own"})
    assert profile.with_tenant(copy).currency == "EUR"
    assert profile.with_tenant(copy).seller_name == "Own"
    assert profile.with_tenant(copy).locale == "de"
