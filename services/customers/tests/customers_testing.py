"""Builders of other services' contract events for the tests."""

import uuid
from datetime import UTC, datetime, timedelta

from frontdesk.contracts.billing import AccountChanged
from frontdesk.contracts.credits import BalanceChanged
from frontdesk.contracts.scheduling import BookingConfirmed, BookingPayment

NOW = datetime.now(UTC)


def balance(customer_id, available=0, paused=0, purchased=0):
    return BalanceChanged(
        customer_id=customer_id,
        available=available,
        paused=paused,
        purchased_total=purchased,
        reason="test",
    )


def account(customer_id, spend=0, outstanding=0, currency="EUR"):
    return AccountChanged(
        customer_id=customer_id,
        lifetime_spend_minor=spend,
        outstanding_minor=outstanding,
        currency=currency,
    )


def booking(
    cls=BookingConfirmed,
    customer_id=None,
    booking_id=None,
    starts_at=None,
    title="Morning Yoga",
    **extra,
):
    starts = starts_at or NOW + timedelta(days=1)
    return cls(
        booking_id=booking_id or uuid.uuid4(),
        customer_id=customer_id,
        session_id=uuid.uuid4(),
        session_kind="class",
        title=title,
        starts_at=starts,
        ends_at=starts + timedelta(hours=1),
        payment=BookingPayment(method="credits", credits=1),
        **extra,
    )
