"""Domain rules on the aggregates: fast, no database."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from frontdesk.contracts.credits import (
    CreditsRefunded,
    DebitRejected,
    DebitSucceeded,
    MembershipAssigned,
    MembershipChanged,
    MembershipExpired,
    PackagePurchased,
    PackageToppedUp,
)
from frontdesk.credits.domain import accounts as a
from frontdesk.credits.domain import catalogue as c
from frontdesk.credits.domain import debits as d
from frontdesk.credits.domain import memberships as m
from frontdesk.credits.domain import packages as p
from frontdesk.kit.errors import ConflictError, RuleBroken, StaleVersion

NOW = datetime(2030, 1, 1, tzinfo=UTC)
TENANT = uuid.uuid4()
CUSTOMER = uuid.uuid4()


def pkg(balance, days=None, status="active", age=0, **more):
    values = {
        "id": uuid.uuid4(),
        "tenant_id": TENANT,
        "customer_id": CUSTOMER,
        "name": "pack",
        "credits_total": balance,
        "balance": balance,
        "currency": "EUR",
        "status": status,
        "expires_at": NOW + timedelta(days=days) if days is not None else None,
        "created_at": NOW - timedelta(days=age),
        "paused_at": NOW if status == "paused" else None,
        "purchased_by": "t",
    }
    return p.Package(**{**values, **more})


def account(**more):
    return a.CreditAccount(tenant_id=TENANT, customer_id=CUSTOMER, **more)


def product(**more):
    values = {"name": "10 classes", "credits": 10, "price_minor": 9900, "currency": "EUR"}
    return c.CreditProduct.new(TENANT, {**values, "validity_days": 90, **more})


def plan(days=30, **more):
    values = {"name": "Gold", "discount_percent": 20, "duration_days": days}
    return c.MembershipPlan.new(TENANT, {**values, **more})


# --- the account: which packages a debit takes from -------------------------------


def test_plan_debit_earliest_expiry_first_skipping_unusable():
    never, late, soon = pkg(5), pkg(2, days=9), pkg(1, days=3)
    skipped = [
        pkg(9, days=1, status="paused"),
        pkg(9, days=-1),
        pkg(0, days=1),
        pkg(9, days=2, status="expired"),
    ]
    plan_ = a.plan_debit([never, late, *skipped, soon], 4, NOW)
    assert plan_ == [
        a.Allocation(soon.id, 1),
        a.Allocation(late.id, 2),
        a.Allocation(never.id, 1),
    ]
    assert a.plan_debit([never, late, soon, *skipped], 9, NOW) is None
    assert a.plan_debit([], 0, NOW) == []
    with pytest.raises(RuleBroken) as error:
        a.plan_debit([never], -1, NOW)
    assert error.value.field == "credits"


def test_same_expiry_oldest_first():
    old, new = pkg(1, days=5, age=3), pkg(1, days=5, age=1)
    assert a.plan_debit([new, old], 1, NOW) == [a.Allocation(old.id, 1)]


def test_account_debit_takes_all_or_nothing_and_writes_the_ledger():
    soon, never = pkg(1, days=3), pkg(5)
    booking = uuid.uuid4()
    assert account().debit([never, soon], 9, NOW, booking_id=booking) is None
    assert (soon.balance, never.balance) == (1, 5) and not soon.changed
    taken = account().debit([never, soon], 3, NOW, booking_id=booking)
    assert taken == [a.Allocation(soon.id, 1), a.Allocation(never.id, 2)]
    assert (soon.balance, never.balance) == (0, 3)
    [entry] = never.collect_entries()
    assert (entry.kind, entry.delta, entry.balance_after, entry.booking_id) == (
        "debit",
        -2,
        3,
        booking,
    )


def test_a_closed_account_refuses_changes():
    account().require_open()
    with pytest.raises(ConflictError) as error:
        account(closed_at=NOW).require_open()
    assert error.value.field == "customer_id" and error.value.status == 409


# --- a package ----------------------------------------------------------------------


def test_resume_moves_expiry_by_paused_time():
    package = pkg(3, days=10, status="paused")
    package.resume(NOW + timedelta(days=4))
    assert package.expires_at == NOW + timedelta(days=14)
    assert package.status == "active" and package.paused_at is None
    with pytest.raises(ConflictError) as error:
        pkg(3, days=10).resume(NOW)
    assert error.value.field == "status"


def test_pause_refuses_paused_and_closed_packages():
    package = pkg(3, days=10)
    package.pause(NOW, "injury")
    assert package.status == "paused" and package.paused_at == NOW
    assert [(e.kind, e.reason) for e in package.collect_entries()] == [("paused", "injury")]
    for refused in (package, pkg(0, status="expired"), pkg(0, status="voided")):
        with pytest.raises(ConflictError) as error:
            refused.pause(NOW)
        assert error.value.field == "status"


def test_extend_rules():
    package = pkg(3, days=10)
    assert package.extend(days=5, now=NOW) == "extended"
    assert package.expires_at == NOW + timedelta(days=15)
    with pytest.raises(RuleBroken) as error:
        pkg(3, days=10).extend(expires_at=NOW + timedelta(days=1), now=NOW)
    assert error.value.field == "expires_at"
    with pytest.raises(RuleBroken):
        pkg(3, days=10).extend(now=NOW)
    with pytest.raises(RuleBroken) as error:
        pkg(3).extend(days=5, now=NOW)
    assert error.value.field == "days"
    with pytest.raises(ConflictError):
        pkg(0, days=1, status="voided").extend(days=5, now=NOW)


def test_extend_never_passes_the_storable_bound():
    near = pkg(3, expires_at=datetime(2199, 12, 1, tzinfo=UTC))
    for days in (3650, 10**6):
        with pytest.raises(RuleBroken) as error:
            near.extend(days=days, now=NOW)
        assert error.value.field == "days"
    for days in (0, -1, 3651):
        with pytest.raises(RuleBroken) as error:
            pkg(3, days=10).extend(days=days, now=NOW)
        assert error.value.field == "days"
    with pytest.raises(RuleBroken) as error:
        pkg(3, days=10).extend(expires_at=datetime(9999, 1, 1, tzinfo=UTC), now=NOW)
    assert error.value.field == "expires_at"
    with pytest.raises(RuleBroken) as error:
        pkg(3, days=10).extend(expires_at=datetime(2031, 1, 1), now=NOW)
    assert error.value.field == "expires_at"
    assert near.expires_at == datetime(2199, 12, 1, tzinfo=UTC) and not near.changed


def test_extend_brings_an_expired_package_back_with_its_credits():
    package = pkg(6, days=-1)
    package.expire()
    assert (package.status, package.balance, package.expired_credits) == ("expired", 0, 6)
    assert package.extend(days=30, now=NOW) == "reactivated"
    assert (package.status, package.balance, package.expired_credits) == ("active", 6, 0)
    assert package.expires_at == NOW + timedelta(days=30)
    assert [(e.kind, e.delta) for e in package.collect_entries()] == [
        ("expired", -6),
        ("reactivated", 6),
    ]


def test_deduct_and_top_up():
    package = pkg(5)
    with pytest.raises(ConflictError) as error:
        package.deduct(9)
    assert error.value.field == "credits" and str(error.value) == "only 5 credits left"
    for credits in (0, p.MAX_CREDITS + 1):
        with pytest.raises(RuleBroken):
            package.deduct(credits)
    package.deduct(2, "correction")
    top_up = uuid.uuid4()
    package.top_up(p.Sale(4, 1800, None), top_up_id=top_up, actor="anna")
    assert (package.balance, package.credits_total) == (7, 9)
    deduct, topped = package.collect_entries()
    assert (deduct.kind, deduct.delta, deduct.balance_after) == ("deduct", -2, 3)
    assert (topped.id, topped.price_minor, topped.currency) == (top_up, 1800, "EUR")
    [event] = package.collect_events()
    assert isinstance(event, PackageToppedUp)
    assert (event.credits, event.price_minor, event.currency) == (4, 1800, "EUR")
    free = pkg(1)
    free.top_up(p.Sale(1), top_up_id=uuid.uuid4(), actor="anna")
    [entry] = free.collect_entries()
    assert (entry.price_minor, entry.currency) == (None, None)
    assert free.collect_events()[0].price_minor == 0  # type: ignore[attr-defined]
    full = pkg(1, credits_total=p.MAX_PACKAGE_CREDITS)
    with pytest.raises(ConflictError):
        full.top_up(p.Sale(1), top_up_id=uuid.uuid4(), actor="anna")
    with pytest.raises(ConflictError) as error:
        pkg(0, status="expired").top_up(p.Sale(1), top_up_id=uuid.uuid4(), actor="anna")
    assert error.value.field == "status"


def test_top_up_requests():
    for request, field in [
        (p.TopUp(), "credits"),
        (p.TopUp(credits=1, product_id=uuid.uuid4()), "credits"),
        (p.TopUp(product_id=uuid.uuid4(), price_minor=1), "price_minor"),
        (p.TopUp(product_id=uuid.uuid4(), currency="EUR"), "currency"),
        (p.TopUp(credits=1, currency="EUR"), "currency"),
        (p.TopUp(credits=0), "credits"),
        (p.TopUp(credits=1, price_minor=-1), "price_minor"),
        (p.TopUp(product_id=uuid.uuid4()), "product_id"),  # no such product
    ]:
        with pytest.raises(RuleBroken) as error:
            request.sale(None)
        assert error.value.field == field, request
    sold = product()
    assert p.TopUp(product_id=sold.id).sale(sold) == p.Sale(10, 9900, "EUR", sold.id)
    sold.retire()
    with pytest.raises(RuleBroken) as error:
        p.TopUp(product_id=sold.id).sale(sold)
    assert error.value.field == "product_id"


def test_a_new_package_from_a_product_or_a_grant():
    sold = product()
    package = p.Package.bought(sold, tenant_id=TENANT, customer_id=CUSTOMER, actor="t", now=NOW)
    assert (package.balance, package.price_minor, package.product_id) == (10, 9900, sold.id)
    assert package.expires_at == NOW + timedelta(days=90)
    [entry] = package.collect_entries()
    assert (entry.kind, entry.delta, entry.price_minor, entry.currency) == (
        "purchase",
        10,
        9900,
        "EUR",
    )
    [event] = package.collect_events()
    assert isinstance(event, PackagePurchased) and event.credits == 10
    granted = p.Package.bought(
        p.Grant(name="gift", credits=3),
        tenant_id=TENANT,
        customer_id=CUSTOMER,
        actor="t",
        now=NOW,
    )
    assert granted.expires_at is None and granted.collect_entries()[0].kind == "grant"
    for grant, field in [
        (p.Grant(name="x", credits=0), "credits"),
        (p.Grant(name="x", credits=1, validity_days=3, expires_at=NOW), "expires_at"),
        (p.Grant(name="x", credits=1, expires_at=NOW - timedelta(days=1)), "expires_at"),
        (p.Grant(name="x", credits=1, expires_at=datetime(9999, 1, 1, tzinfo=UTC)), "expires_at"),
    ]:
        with pytest.raises(RuleBroken) as error:
            grant.expiry(NOW)
        assert error.value.field == field
    sold.retire()
    with pytest.raises(RuleBroken) as error:
        p.Package.bought(sold, tenant_id=TENANT, customer_id=CUSTOMER, actor="t", now=NOW)
    assert error.value.field == "product_id"


def test_refund_into_a_closed_package_lands_and_closes_again():
    booking = uuid.uuid4()
    open_ = pkg(1, days=3)
    open_.refund(2, booking_id=booking, cause="booking cancelled")
    assert open_.balance == 3
    expired = pkg(0, status="expired")
    expired.refund(2, booking_id=booking, cause="booking cancelled")
    assert (expired.balance, expired.expired_credits) == (0, 2)
    assert [(e.kind, e.delta, e.balance_after) for e in expired.collect_entries()] == [
        ("refund", 2, 2),
        ("expired", -2, 0),
    ]
    voided = pkg(0, status="voided")
    voided.refund(2, booking_id=booking, cause="booking rejected")
    assert (voided.balance, voided.expired_credits) == (0, 0) and voided.changed


def test_void_empties_an_open_package():
    package = pkg(4, status="paused")
    package.void("customer deleted")
    assert (package.status, package.balance, package.paused_at) == ("voided", 0, None)
    [entry] = package.collect_entries()
    assert (entry.kind, entry.delta, entry.reason) == ("voided", -4, "customer deleted")


def test_an_edit_needs_the_current_version():
    package = pkg(1)
    package.require_version(None, "package")
    package.require_version(1, "package")
    with pytest.raises(StaleVersion) as error:
        package.require_version(2, "package")
    assert error.value.headers == {"ETag": '"1"'} and error.value.status == 412


# --- a booking's debit in the saga ------------------------------------------------


def test_booking_debit_outcomes():
    booking = uuid.uuid4()
    paid = d.BookingDebit.requested(booking, CUSTOMER, 2)
    paid.pay(account(), [pkg(1, days=3), pkg(5)], NOW)
    assert paid.status == "debited" and [x.credits for x in paid.debits] == [1, 1]
    [(event, version)] = paid.collect_events()
    assert isinstance(event, DebitSucceeded) and version == d.OUTCOME_VERSION
    for debit, acct, reason in [
        (d.BookingDebit.requested(booking, None, 1), account(), "no_customer"),
        (d.BookingDebit.requested(booking, CUSTOMER, -1), account(), "invalid_credits"),
        (
            d.BookingDebit.requested(booking, CUSTOMER, 1),
            account(closed_at=NOW),
            "customer_unknown",
        ),
        (d.BookingDebit.requested(booking, CUSTOMER, 9), account(), "insufficient_credits"),
    ]:
        debit.pay(acct, [pkg(5)], NOW)
        assert (debit.status, debit.reason) == ("rejected", reason)
        [(event, _)] = debit.collect_events()
        assert isinstance(event, DebitRejected) and event.reason == reason


def test_a_request_after_the_booking_ended_is_rejected_and_a_duplicate_ignored():
    booking = uuid.uuid4()
    tombstone = d.BookingDebit.tombstone(booking, CUSTOMER, "booking rejected", NOW)
    assert tombstone.answer_again(CUSTOMER, 2) == "rejected"
    [(event, _)] = tombstone.collect_events()
    assert isinstance(event, DebitRejected) and event.reason == "booking_closed"
    assert tombstone.settle(refund=True, cause="again", now=NOW) == []
    paid = d.BookingDebit.requested(booking, CUSTOMER, 0)
    assert paid.answer_again(CUSTOMER, 0) == "duplicate" and paid.collect_events() == []


def test_settle_refunds_once_or_forfeits():
    booking, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    debit = d.BookingDebit.requested(booking, CUSTOMER, 3)
    debit.debits = [a.Allocation(first, 1), a.Allocation(second, 2)]
    assert debit.settle(refund=True, cause="booking cancelled", now=NOW) == debit.debits
    assert (debit.status, debit.settled_at) == ("refunded", NOW)
    [(event, version)] = debit.collect_events()
    assert isinstance(event, CreditsRefunded) and version == d.REFUND_VERSION
    assert event.credits == 3
    assert debit.settle(refund=True, cause="booking cancelled", now=NOW) == []
    late = d.BookingDebit.requested(booking, CUSTOMER, 3)
    assert late.settle(refund=False, cause="booking cancelled", now=NOW) == []
    assert late.status == "forfeited" and late.collect_events() == []


def test_booking_debit_rows_round_trip():
    debit = d.BookingDebit.requested(uuid.uuid4(), CUSTOMER, 2)
    debit.debits = [a.Allocation(uuid.uuid4(), 2)]
    again = d.BookingDebit.from_row(debit.to_row())
    assert (again.status, again.debits, again.credits) == (debit.status, debit.debits, 2)


# --- memberships ------------------------------------------------------------------


def member(**more):
    return m.Membership.assign(
        plan(), tenant_id=TENANT, customer_id=CUSTOMER, actor="t", now=NOW, **more
    )


def test_membership_transitions_and_freeze():
    active = member()
    active.expires_at = NOW + timedelta(days=10)
    active.require_allowed(m.Change.frozen)
    with pytest.raises(ConflictError) as error:
        active.require_allowed(m.Change.unfrozen)
    assert error.value.field == "status"
    assert active.renewed_expiry(NOW) == NOW + timedelta(days=40)
    active.expires_at = NOW - timedelta(days=5)
    assert active.renewed_expiry(NOW) == NOW + timedelta(days=30)
    frozen = member()
    frozen.expires_at = NOW + timedelta(days=10)
    frozen.apply(m.Change.frozen, actor="t", now=NOW)
    assert frozen.unfrozen_expiry(NOW + timedelta(days=3)) == NOW + timedelta(days=13)
    frozen.apply(m.Change.unfrozen, actor="t", now=NOW + timedelta(days=3))
    assert (frozen.status, frozen.frozen_at) == ("active", None)
    assert frozen.expires_at == NOW + timedelta(days=13)


def test_assign_records_the_event_and_the_first_step():
    membership = member(reason="asked nicely")
    assert membership.expires_at == NOW + timedelta(days=30)
    [event] = membership.collect_events()
    assert isinstance(event, MembershipAssigned) and event.assigned_by == "t"
    [step] = membership.collect_steps()
    assert (step.action, step.reason, step.status) == ("assigned", "asked nicely", "active")
    for starts_at in (
        NOW - timedelta(days=31),
        datetime(2031, 1, 1),
        datetime(2199, 12, 31, tzinfo=UTC),
    ):
        with pytest.raises(RuleBroken) as error:
            member(starts_at=starts_at)
        assert error.value.field == "starts_at"


def test_plan_changes_and_cancel():
    membership = member()
    gold = membership.plan_id
    with pytest.raises(RuleBroken) as error:
        membership.apply(m.Change.upgraded, actor="t", now=NOW)
    assert error.value.field == "plan_id"
    same = plan()
    same.id = gold
    with pytest.raises(RuleBroken):
        membership.apply(m.Change.upgraded, actor="t", now=NOW, plan=same)
    platinum = plan(days=60, name="Platinum")
    later = NOW + timedelta(days=2)
    membership.apply(m.Change.upgraded, actor="t", now=later, plan=platinum)
    assert (membership.plan_name, membership.starts_at) == ("Platinum", later)
    assert membership.expires_at == later + timedelta(days=60)
    membership.apply(m.Change.cancelled, actor="t", now=later, reason="moved")
    assert membership.status == "cancelled"
    with pytest.raises(ConflictError):
        membership.apply(m.Change.renewed, actor="t", now=later)
    steps = membership.collect_steps()
    assert [(s.action, s.previous_plan_id) for s in steps] == [
        ("assigned", None),
        ("upgraded", gold),
        ("cancelled", None),
    ]
    events = membership.collect_events()
    assert [type(e) for e in events] == [MembershipAssigned, MembershipChanged, MembershipChanged]


def test_a_renewal_never_runs_past_the_storable_bound():
    membership = member()
    membership.expires_at = datetime(2199, 12, 15, tzinfo=UTC)
    with pytest.raises(ConflictError) as error:
        membership.apply(m.Change.renewed, actor="t", now=NOW)
    assert error.value.field == "expires_at"


def test_only_active_memberships_expire():
    membership = member()
    assert not membership.expire(NOW)
    assert membership.expire(NOW + timedelta(days=30))
    assert membership.status == "expired"
    assert isinstance(membership.collect_events()[-1], MembershipExpired)
    frozen = member()
    frozen.apply(m.Change.frozen, actor="t", now=NOW)
    assert not frozen.expire(NOW + timedelta(days=365))


# --- the catalogue ------------------------------------------------------------------


def test_retired_entries_are_no_longer_sold_or_assigned():
    sold, offered = product(), plan()
    assert c.on_sale(sold) is sold and c.offered(offered) is offered
    sold.retire()
    offered.retire()
    assert sold.changed == {"active"}
    for check, entry, field in [(c.on_sale, sold, "product_id"), (c.offered, offered, "plan_id")]:
        for missing in (entry, None):
            with pytest.raises(RuleBroken) as error:
                check(missing)  # type: ignore[operator]
            assert error.value.field == field
    sold.edit({"active": True, "price_minor": 100})
    assert c.on_sale(sold).price_minor == 100
