"""Rules of loyalty, programs, payers and merges, without a database."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from frontdesk.credits.domain.debits import BookingDebit
from frontdesk.credits.domain.loyalty import (
    LoyaltyAccount,
    LoyaltyRule,
    Redemption,
    reversal_for,
)
from frontdesk.credits.domain.merges import CustomerMerge
from frontdesk.credits.domain.programs import Program, ProgramProduct, SessionFacts, choose
from frontdesk.kit.errors import ConflictError, RuleBroken

NOW = datetime(2027, 3, 1, 12, tzinfo=UTC)
TENANT = uuid.uuid4()
COACH = uuid.uuid4()


def rule(**overrides):
    values = {
        "tenant_id": TENANT,
        "currency": "EUR",
        "points_per_unit": 2,
        "unit_minor": 100,
        "points_per_credit": 10,
        "discount_minor_per_point": 5,
        **overrides,
    }
    return LoyaltyRule(**values)


def test_points_are_per_currency_unit_rounded_down_and_only_in_the_rules_currency():
    assert rule().points_for(12345, "EUR") == 246
    assert rule().points_for(99, "EUR") == 1
    assert rule(points_per_unit=1).points_for(99, "EUR") == 0
    assert rule().points_for(12345, "USD") == 0
    assert rule(unit_minor=1).points_for(500, "EUR") == 1000  # a currency without cents
    with pytest.raises(RuleBroken) as e:
        rule(points_per_unit=0)
    assert e.value.field == "points_per_unit"


def test_partial_refunds_together_reverse_exactly_what_one_refund_would():
    earned, paid = 123, 12345
    first = reversal_for(earned, paid, 0, 0, 6172)
    second = reversal_for(earned, paid, 6172, first, 6173)
    assert (first, second, first + second) == (61, 62, 123)
    assert reversal_for(earned, paid, paid, earned, 100) == 0  # nothing left to refund
    assert reversal_for(0, paid, 0, 0, 100) == 0


def test_a_reversal_never_takes_the_balance_below_zero_it_records_the_shortfall():
    account = LoyaltyAccount(tenant_id=TENANT, customer_id=uuid.uuid4(), balance=20)
    entry = account.reverse(
        100, refund_id=uuid.uuid4(), invoice_id=uuid.uuid4(), amount_minor=1, currency="EUR"
    )
    assert (account.balance, entry.delta, entry.shortfall) == (0, -20, 80)


def test_a_redemption_above_the_balance_is_refused_naming_points():
    account = LoyaltyAccount(tenant_id=TENANT, customer_id=uuid.uuid4(), balance=29)
    with pytest.raises(ConflictError) as e:
        account.redeem(30, redemption_id=uuid.uuid4(), redeemed_for="discount")
    assert e.value.field == "points" and account.balance == 29


def test_redemption_costs_follow_the_rule():
    customer = uuid.uuid4()
    assert Redemption(customer, "credits", credits=3).cost(rule()) == 30
    assert Redemption(customer, "discount", points=7).cost(rule()) == 7
    with pytest.raises(RuleBroken) as e:
        Redemption(customer, "credits", credits=3).cost(rule(points_per_credit=None))
    assert e.value.field == "redeem_for"
    with pytest.raises(ConflictError):
        Redemption(customer, "discount", points=7).cost(None)
    with pytest.raises(RuleBroken) as e:
        Redemption(customer, "discount", credits=1).cost(rule())
    assert e.value.field == "points"


def product(**overrides):
    values = {
        "name": "PT x 2",
        "sessions": 2,
        "service": "Personal Training",
        "staff_id": COACH,
        "price_minor": 1000,
        "currency": "EUR",
        "validity_days": 30,
        **overrides,
    }
    return ProgramProduct.new(TENANT, values)


def program(**overrides):
    return Program.bought(
        product(**overrides), tenant_id=TENANT, customer_id=uuid.uuid4(), actor="a", now=NOW
    )


def session(service="personal training", kind="appointment", staff=COACH, seats=1):
    return SessionFacts(service, kind, staff, NOW + timedelta(days=1), seats)


def test_a_program_product_names_a_kind_of_session():
    with pytest.raises(RuleBroken) as e:
        product(service=None)
    assert e.value.field == "service"
    with pytest.raises(RuleBroken) as e:
        product(session_kind="party")
    assert e.value.field == "session_kind"
    item = product()
    with pytest.raises(RuleBroken):
        item.edit({"service": None})


def test_a_program_covers_its_service_coach_and_kind_while_usable():
    found = program(session_kind="appointment")
    assert found.covers(session(), NOW)
    assert not found.covers(session(service="Yoga"), NOW)
    assert not found.covers(session(staff=uuid.uuid4()), NOW)
    assert not found.covers(session(kind="class"), NOW)
    assert not found.covers(session(seats=3), NOW)
    assert not found.covers(session(), NOW + timedelta(days=31))  # expired
    found.use(uuid.uuid4(), 2)
    assert found.state(NOW) == "completed" and not found.covers(session(), NOW)
    found.give_back(uuid.uuid4(), 1)
    assert (found.sessions_used, found.state(NOW)) == (1, "active")
    with pytest.raises(ConflictError):
        found.use(uuid.uuid4(), 2)


def test_the_program_expiring_first_pays():
    later = program(validity_days=60)
    sooner = program(validity_days=10)
    never = program(validity_days=None)
    assert choose([never, later, sooner], session(), NOW) is sooner
    assert choose([never], session(), NOW) is never
    assert choose([later], session(service="Yoga"), NOW) is None


def test_a_payer_is_kept_only_when_it_is_someone_else():
    customer, parent = uuid.uuid4(), uuid.uuid4()
    assert BookingDebit.requested(uuid.uuid4(), customer, 1, parent).holder_id == parent
    own = BookingDebit.requested(uuid.uuid4(), customer, 1, customer)
    assert (own.payer_id, own.holder_id) == (None, customer)


def test_a_merge_is_undone_once_and_gives_back_what_was_not_spent():
    merge = CustomerMerge.applied(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), NOW)
    merge.points_moved = 50
    assert merge.points_back(20) == 20 and merge.points_back(80) == 50
    assert merge.undo(NOW) and not merge.undo(NOW)
    tombstone = CustomerMerge.tombstone(uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), NOW)
    assert not tombstone.undo(NOW)
    same = uuid.uuid4()
    with pytest.raises(RuleBroken):
        CustomerMerge.applied(uuid.uuid4(), same, same, NOW)


async def test_the_migrations_create_the_tables_the_code_uses(runtime):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from frontdesk.credits.adapters.tables import metadata

    async with runtime.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []
