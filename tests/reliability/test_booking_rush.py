"""A booking rush against the running stack (customers, credits and scheduling as real
processes, one API and one worker each): 300 requests at once, half of them bookings
paid by credits, half reads. Nothing may answer 5xx, every customer with a credit and a
free seat ends with exactly one confirmed booking, and every credit is accounted for."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from typing import Any

import pytest
from test_booking_flows import balance, book, grant, new_session, seats_taken, settled, studio

pytestmark = pytest.mark.reliability

BOOKINGS = 150
READS = 150


async def test_300_concurrent_bookings_and_reads_lose_and_double_nothing(tenant: Any) -> None:
    where = await studio(tenant)
    session = await new_session(tenant, where, capacity=BOOKINGS + 50)
    customers = [str(uuid.uuid4()) for _ in range(BOOKINGS)]
    gate = asyncio.Semaphore(20)

    async def funded(customer: str) -> None:
        async with gate:
            await grant(tenant, customer, 1)

    await asyncio.gather(*(funded(c) for c in customers))

    reads = [
        lambda: tenant.scheduling.get(f"/v1/sessions/{session['id']}"),
        lambda: tenant.scheduling.get(f"/v1/bookings?session_id={session['id']}&limit=50"),
        lambda: tenant.customers.get("/v1/customers?limit=20"),
        lambda: tenant.credits.get(f"/v1/credit-packages/balance?customer_id={customers[0]}"),
    ]
    answers = await asyncio.gather(
        *(book(tenant, session, wait=10, customer_id=c) for c in customers),
        *(reads[n % len(reads)]() for n in range(READS)),
    )
    codes = Counter(r.status_code for r in answers)
    assert not [c for c in codes if c >= 500], codes
    booking_answers = answers[:BOOKINGS]
    assert all(r.status_code in (201, 202) for r in booking_answers), codes
    assert all(r.status_code == 200 for r in answers[BOOKINGS:]), codes

    booked = {r.json()["customer_id"]: r.json()["id"] for r in booking_answers}
    assert set(booked) == set(customers)  # one booking per request, none lost
    outcomes = await asyncio.gather(*(settled(tenant, b, timeout=90) for b in booked.values()))
    assert Counter(o["status"] for o in outcomes) == {"confirmed": BOOKINGS}, Counter(
        (o["status"], o.get("reason")) for o in outcomes
    )
    assert await seats_taken(tenant, session) == BOOKINGS

    async def balance_of(customer: str) -> int:
        async with gate:
            return await balance(tenant, customer)

    balances = await asyncio.gather(*(balance_of(c) for c in customers))
    assert balances == [0] * BOOKINGS  # each credit debited once: none lost, none twice
