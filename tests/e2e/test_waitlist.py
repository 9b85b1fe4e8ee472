"""S9 across customers, credits and scheduling, over HTTP only (issue 14): a freed seat
promotes the first waiting customer through the booking saga; one without credits is
rejected and the seat moves on to the next, whose credits are debited then.

Run: FRONTDESK_E2E_SERVICES=customers,credits,scheduling pytest tests/e2e/test_waitlist.py
"""

from __future__ import annotations

from typing import Any

import pytest
from test_booking_flows import (
    _ok,
    balance,
    book,
    new_customer,
    new_session,
    seats_taken,
    settled,
    studio,
)

from frontdesk.kit.testing import wait_for

pytestmark = pytest.mark.e2e


async def status(tenant: Any, booking_id: str, wanted: str) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        b = await _ok(await tenant.scheduling.get(f"/v1/bookings/{booking_id}"))
        return b if b["status"] == wanted else None

    return await wait_for(reached, timeout=30, interval=0.2)  # type: ignore[no-any-return]


async def balance_of(tenant: Any, customer_id: str, wanted: int) -> None:
    async def reached() -> bool | None:
        return True if await balance(tenant, customer_id) == wanted else None

    await wait_for(reached, timeout=30, interval=0.2)


async def test_a_freed_seat_promotes_through_the_saga_and_skips_who_cannot_pay(tenant):
    where = await studio(tenant)
    session = await new_session(
        tenant, where, capacity=1, payment={"method": "credits", "credits": 2}
    )
    seated, broke, paying = (
        await new_customer(tenant, credits=2),
        await new_customer(tenant, credits=1),
        await new_customer(tenant, credits=5),
    )
    first = await settled(
        tenant, (await _ok(await book(tenant, session, customer_id=seated), 202))["id"]
    )
    assert first["status"] == "confirmed"
    assert await balance(tenant, seated) == 0

    waiting = [
        await _ok(await book(tenant, session, customer_id=c, waitlist=True), 202)
        for c in (broke, paying)
    ]
    assert [(w["status"], w["waitlist_position"]) for w in waiting] == [
        ("waitlisted", 1),
        ("waitlisted", 2),
    ]
    # Waiting costs nothing yet.
    assert await balance(tenant, paying) == 5

    await _ok(await tenant.scheduling.post(f"/v1/bookings/{first['id']}/cancel"))
    await balance_of(tenant, seated, 2)  # refunded in the free window

    # The first in line is promoted, asked to pay, and cannot: rejected, seat moves on.
    refused = await status(tenant, waiting[0]["id"], "rejected")
    assert refused["reason"] == "insufficient_credits"
    promoted = await status(tenant, waiting[1]["id"], "confirmed")
    assert promoted["waitlist_position"] is None
    await balance_of(tenant, paying, 3)
    assert await balance(tenant, broke) == 1
    assert await seats_taken(tenant, session) == 1
