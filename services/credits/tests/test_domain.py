"""Domain rules on plain data: fast, no database."""

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from frontdesk.credits.domain import RuleBroken
from frontdesk.credits.domain import memberships as m
from frontdesk.credits.domain import packages as p

NOW = datetime(2030, 1, 1, tzinfo=UTC)


def pkg(balance, days=None, status="active", age=0):
    return {
        "id": uuid.uuid4(),
        "balance": balance,
        "status": status,
        "expires_at": NOW + timedelta(days=days) if days is not None else None,
        "created_at": NOW - timedelta(days=age),
        "paused_at": None,
    }


def test_plan_debit_earliest_expiry_first_skipping_unusable():
    never, late, soon = pkg(5), pkg(2, days=9), pkg(1, days=3)
    skipped = [
        pkg(9, days=1, status="paused"),
        pkg(9, days=-1),
        pkg(0, days=1),
        pkg(9, days=2, status="expired"),
    ]
    plan = p.plan_debit([never, late, *skipped, soon], 4, NOW)
    assert plan == [
        p.Allocation(soon["id"], 1),
        p.Allocation(late["id"], 2),
        p.Allocation(never["id"], 1),
    ]
    assert p.plan_debit([never, late, soon, *skipped], 9, NOW) is None
    assert p.plan_debit([], 0, NOW) == []


def test_same_expiry_oldest_first():
    old, new = pkg(1, days=5, age=3), pkg(1, days=5, age=1)
    assert p.plan_debit([new, old], 1, NOW) == [p.Allocation(old["id"], 1)]


def test_resume_moves_expiry_by_paused_time():
    package = {**pkg(3, days=10), "status": "paused", "paused_at": NOW}
    assert p.resumed_expiry(package, NOW + timedelta(days=4)) == NOW + timedelta(days=14)
    with pytest.raises(RuleBroken):
        p.resumed_expiry(pkg(3, days=10), NOW)


def test_extend_rules():
    package = pkg(3, days=10)
    assert p.extended_expiry(package, expires_at=None, days=5, now=NOW) == NOW + timedelta(days=15)
    with pytest.raises(RuleBroken) as error:
        p.extended_expiry(package, expires_at=NOW + timedelta(days=1), days=None, now=NOW)
    assert error.value.field == "expires_at"
    with pytest.raises(RuleBroken):
        p.extended_expiry(package, expires_at=None, days=None, now=NOW)


def test_membership_transitions_and_freeze():
    active = {
        "status": "active",
        "expires_at": NOW + timedelta(days=10),
        "duration_days": 30,
        "frozen_at": None,
        "plan_id": uuid.uuid4(),
    }
    m.require_allowed(active, m.Change.frozen)
    with pytest.raises(RuleBroken):
        m.require_allowed(active, m.Change.unfrozen)
    assert m.renewed_expiry(active, NOW) == NOW + timedelta(days=40)
    lapsed = {**active, "expires_at": NOW - timedelta(days=5)}
    assert m.renewed_expiry(lapsed, NOW) == NOW + timedelta(days=30)
    frozen = {**active, "status": "frozen", "frozen_at": NOW}
    assert m.unfrozen_expiry(frozen, NOW + timedelta(days=3)) == NOW + timedelta(days=13)
