"""A class renamed in scheduling shows its new title on its bookings and as the customer's
next session; older renames and booking events published before a rename never bring the
old title back. Real broker."""

import uuid
from datetime import timedelta

from customers_testing import NOW, booking

from frontdesk.contracts.scheduling import BookingConfirmed, BookingRescheduled, SessionChanged


async def next_title(client, tokens, cid):
    r = await client.get(f"/v1/customers/{cid}", headers=tokens.headers())
    return r.json()["summary"]["next_session"]["title"]


def renamed(confirmed, title, *booking_ids):
    return SessionChanged(
        session_id=confirmed.session_id,
        title=title,
        starts_at=confirmed.starts_at,
        ends_at=confirmed.ends_at,
        location_id=uuid.uuid4(),
        capacity=10,
        changed=["title"],
        booking_ids=list(booking_ids),
    )


async def test_a_renamed_class_shows_its_new_title(sent, client, tokens, tenant_id):
    r = await client.post(
        "/v1/customers",
        json={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        headers=tokens.headers(),
    )
    cid = uuid.UUID(r.json()["id"])
    confirmed = booking(BookingConfirmed, customer_id=cid, title="Morning Yoga")
    await sent.emit(confirmed, tenant_id, confirmed.booking_id, 2)
    await sent.handled()
    assert await next_title(client, tokens, cid) == "Morning Yoga"

    session = confirmed.session_id
    await sent.emit(renamed(confirmed, "Sunrise Flow", confirmed.booking_id), tenant_id, session, 3)
    await sent.handled()
    assert await next_title(client, tokens, cid) == "Sunrise Flow"

    # an older rename handled late, and a booking event published before the rename
    # (its title the old one) both leave the new title
    await sent.emit(renamed(confirmed, "Yoga (old)", confirmed.booking_id), tenant_id, session, 2)
    moved = booking(
        BookingRescheduled,
        customer_id=cid,
        booking_id=confirmed.booking_id,
        title="Morning Yoga",
        starts_at=NOW + timedelta(days=2),
        previous_starts_at=confirmed.starts_at,
    )
    await sent.emit(moved, tenant_id, confirmed.booking_id, 3)
    await sent.handled()
    assert await next_title(client, tokens, cid) == "Sunrise Flow"
    r = await client.get(f"/v1/customers/{cid}", headers=tokens.headers())
    assert r.json()["summary"]["next_session"]["starts_at"].startswith(
        (NOW + timedelta(days=2)).date().isoformat()
    )
