"""Builders of other services' contract events for the tests."""

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from frontdesk.contracts.billing import AccountChanged
from frontdesk.contracts.credits import BalanceChanged
from frontdesk.contracts.scheduling import BookingConfirmed, BookingPayment
from frontdesk.customers.adapters.tables import messaging
from frontdesk.kit.testing import wait_for

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


class Sent:
    """Envelopes published on the real broker by a test; ``handled()`` waits until the
    consumer took them all (their inbox rows committed)."""

    def __init__(self, runtime, broker):
        self.runtime, self.broker, self.ids = runtime, broker, set()

    async def emit(self, *args, **kwargs):
        env = await self.broker.emit(*args, **kwargs)
        self.ids.add(env.id)
        return env

    async def handled(self):
        async def check():
            async with self.runtime.engine.connect() as conn:
                n = await conn.scalar(
                    select(func.count())
                    .select_from(messaging.inbox)
                    .where(messaging.inbox.c.message_id.in_(self.ids))
                )
            return n == len(self.ids) or None

        await wait_for(check)
