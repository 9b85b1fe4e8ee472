"""Notifications across real processes: customers, credits, scheduling and notifications
(api and worker each), the fake Twilio and the SMTP server of the stand-ins; driven over
HTTP only, each test in a tenant of its own.

    FRONTDESK_E2E_SERVICES=customers,credits,scheduling,notifications \\
        .venv/bin/pytest -p no:cacheprovider -q -m e2e services/notifications/tests
"""

from __future__ import annotations

import asyncio
import random
import signal
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from twilio.request_validator import RequestValidator

from frontdesk.kit.testing import wait_for

pytestmark = pytest.mark.e2e

BERLIN = ZoneInfo("Europe/Berlin")


def phone() -> str:
    return f"+49151{random.randint(10_000_000, 99_999_999)}"


def address() -> str:
    return f"e2e{uuid.uuid4().hex[:12]}@example.com"


async def ok(response: httpx.Response, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


class Studio:
    """One tenant's studio on the stack, and what the stand-ins received."""

    def __init__(self, stack: Any, tenant: Any) -> None:
        self.stack = stack
        self.tenant = tenant
        self.fake = httpx.AsyncClient(base_url=stack.env["FRONTDESK_STANDINS_URL"], timeout=30)
        self.notifications = tenant.client("notifications")
        self.location: dict[str, Any] = {}

    async def open(self) -> Studio:
        self.location = await ok(
            await self.tenant.scheduling.post(
                "/v1/locations", json={"name": "Mitte", "timezone": "Europe/Berlin"}
            )
        )
        return self

    async def customer(self, *, sms: str | None = None, email: str | None = None) -> str:
        body = {"first_name": "Ada", "last_name": "Lovelace", "phone": sms, "email": email}
        created = await ok(await self.tenant.customers.post("/v1/customers", json=body), 201)
        return str(created["id"])

    async def session(self, starts_local: datetime, title: str = "Yoga") -> dict[str, Any]:
        body = {
            "title": title,
            "location_id": self.location["id"],
            "starts_at": starts_local.replace(tzinfo=None).isoformat(),
            "duration_minutes": 60,
            "capacity": 20,
            "payment": {"method": "free"},
        }
        return await ok(await self.tenant.scheduling.post("/v1/sessions", json=body), 201)  # type: ignore[no-any-return]

    async def book(self, session: dict[str, Any], customer: str, seats: int = 1) -> dict[str, Any]:
        r = await self.tenant.scheduling.post(
            "/v1/bookings",
            json={"session_id": session["id"], "customer_id": customer, "seats": seats},
            headers={"Prefer": "wait=10"},
        )
        booking = await ok(r, 201, 202)
        assert booking["status"] == "confirmed", booking
        return booking  # type: ignore[no-any-return]

    async def messages(self, **query: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            params = {**query, "limit": 200, **({"cursor": cursor} if cursor else {})}
            page = await ok(await self.notifications.get("/v1/messages", params=params))
            items += page["items"]
            cursor = page["next_cursor"]
            if cursor is None:
                return items

    async def until(
        self, predicate: Any, timeout: float = 60.0, **query: Any
    ) -> list[dict[str, Any]]:
        async def check() -> list[dict[str, Any]] | None:
            found = await self.messages(**query)
            return found if predicate(found) else None

        return await wait_for(check, timeout=timeout, interval=0.3)  # type: ignore[no-any-return]

    async def sms_to(self, number: str) -> list[dict[str, Any]]:
        return await ok(await self.fake.get("/_fake/requests", params={"to": number}))  # type: ignore[no-any-return]

    async def mails_to(self, mail: str) -> list[dict[str, Any]]:
        return await ok(await self.fake.get("/_fake/mails", params={"to": mail}))  # type: ignore[no-any-return]

    async def script(self, number: str, *responses: Any) -> None:
        await ok(
            await self.fake.post("/_fake/script", json={"to": number, "responses": list(responses)})
        )

    async def reply(self, number: str, body: str, **extra: Any) -> dict[str, Any]:
        url = f"{self.stack.url('notifications')}/v1/twilio/inbound/{self.tenant.id}"
        payload = {"url": url, "from": number, "body": body, **extra}
        return await ok(await self.fake.post("/_fake/inbound", json=payload))  # type: ignore[no-any-return]

    async def close(self) -> None:
        await self.fake.aclose()


@pytest.fixture
async def studio(stack: Any, tenant: Any) -> Any:
    s = await Studio(stack, tenant).open()
    yield s
    await s.close()


def local_days(days: int, hour: int) -> datetime:
    day = (datetime.now(UTC) + timedelta(days=days)).astimezone(BERLIN)
    return day.replace(hour=hour, minute=0, second=0, microsecond=0)


def of(found: list[dict[str, Any]], kind: str, channel: str | None = None) -> list[dict[str, Any]]:
    return [m for m in found if m["kind"] == kind and (channel is None or m["channel"] == channel)]


def due_berlin(message: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(message["due_at"]).astimezone(BERLIN)


async def test_a_confirmed_booking_sends_one_sms_and_one_email_with_the_local_time(studio):
    number, mail = phone(), address()
    customer = await studio.customer(sms=number, email=mail)
    session = await studio.session(local_days(10, 18))
    booking = await studio.book(session, customer)
    found = await studio.until(
        lambda ms: (
            {m["status"] for m in of(ms, "booking_confirmed")} >= {"delivered"}
            and {m["status"] for m in of(ms, "booking_confirmed", "email")} == {"sent"}
        ),
        booking_id=booking["id"],
    )
    [request] = await studio.sms_to(number)
    assert request["answered"] == 201 and "6:00 PM" in request["body"]
    [mail_got] = await studio.mails_to(mail)
    assert "6:00 PM" in mail_got["text"] and mail_got["subject"].startswith("Booking confirmed")
    reminders = of(found, "reminder_24h") + of(found, "reminder_7d")
    assert len(reminders) == 4
    assert {(due_berlin(m).hour, due_berlin(m).minute) for m in reminders} == {(18, 0)}

    # customers folds the messages into the customer's activity timeline.
    async def on_timeline() -> Any:
        r = await studio.tenant.customers.get(f"/v1/customers/{customer}/activity")
        items = r.json().get("items", []) if r.status_code == 200 else []
        return [i for i in items if i["kind"] == "message"]

    assert await wait_for(on_timeline, timeout=30, interval=0.5)


async def test_rescheduled_replaces_the_reminders_and_cancelled_sends_none(studio):
    number = phone()
    customer = await studio.customer(sms=number)
    first = await studio.session(local_days(12, 18))
    later = await studio.session(local_days(20, 9))
    booking = await studio.book(first, customer)
    await studio.until(lambda ms: len(of(ms, "reminder_24h")) == 2, booking_id=booking["id"])
    await ok(
        await studio.tenant.scheduling.post(
            f"/v1/bookings/{booking['id']}/reschedule", json={"session_id": later["id"]}
        )
    )
    found = await studio.until(
        lambda ms: (
            len([m for m in of(ms, "reminder_24h") if m["status"] == "queued"]) == 2
            and len(of(ms, "reminder_24h")) == 4
        ),
        booking_id=booking["id"],
    )
    queued = [m for m in of(found, "reminder_24h") if m["status"] == "queued"]
    assert {(due_berlin(m).hour, due_berlin(m).date()) for m in queued} == {
        (9, local_days(19, 9).date())
    }
    old = [m for m in of(found, "reminder_24h") if m["status"] != "queued"]
    assert {m["status"] for m in old} == {"cancelled"}
    await studio.until(
        lambda ms: [m["status"] for m in of(ms, "booking_rescheduled", "sms")] == ["delivered"],
        booking_id=booking["id"],
    )
    await ok(await studio.tenant.scheduling.post(f"/v1/bookings/{booking['id']}/cancel", json={}))
    found = await studio.until(
        lambda ms: not [m for m in ms if m["status"] == "queued"], booking_id=booking["id"]
    )
    assert {m["status"] for m in of(found, "reminder_24h") + of(found, "reminder_7d")} == {
        "cancelled"
    }
    bodies = [r["body"] for r in await studio.sms_to(number)]
    assert len(bodies) == 3  # confirmed, moved, cancelled: never a reminder
    assert not any("see you" in b for b in bodies)


async def test_classes_at_18_00_around_both_2027_clock_changes(studio):
    customer = await studio.customer(sms=phone())
    days = (
        [datetime(2027, 3, d) for d in (27, 28, 29, 30)]
        + [datetime(2027, 10, d) for d in (30, 31)]
        + [datetime(2027, 11, d) for d in (1, 2)]
    )
    bookings = []
    for day in days:
        session = await studio.session(day.replace(hour=18), title=f"Yoga {day:%m-%d}")
        bookings.append((day, await studio.book(session, customer)))
    for day, booking in bookings:
        found = await studio.until(lambda ms: len(ms) == 6, booking_id=booking["id"])
        for kind, back in (("reminder_24h", 1), ("reminder_7d", 7)):
            for message in of(found, kind):
                due = due_berlin(message)
                assert (due.date(), due.hour, due.minute) == (
                    (day - timedelta(days=back)).date(),
                    18,
                    0,
                ), (day, kind, due)


async def test_429_then_201_sends_once_and_21610_fails_turns_consent_off(studio):
    busy, unsubscribed = phone(), phone()
    await studio.script(busy, 429)
    await studio.script(unsubscribed, 21610)
    first = await studio.customer(sms=busy)
    second = await studio.customer(sms=unsubscribed)
    session = await studio.session(local_days(10, 18))
    await studio.book(session, first)
    await studio.book(session, second)
    await studio.until(
        lambda ms: [m["status"] for m in of(ms, "booking_confirmed", "sms")] == ["delivered"],
        customer_id=first,
    )
    assert [r["answered"] for r in await studio.sms_to(busy)] == [429, 201]
    found = await studio.until(
        lambda ms: [m["status"] for m in of(ms, "booking_confirmed", "sms")] == ["failed"],
        customer_id=second,
    )
    assert of(found, "booking_confirmed", "sms")[0]["error_code"] == "21610"
    prefs = await ok(await studio.notifications.get(f"/v1/contact-preferences/{second}"))
    assert prefs["sms"] is False
    other = await studio.session(local_days(11, 18))
    await studio.book(other, second)
    await studio.until(
        lambda ms: (
            {m["status"] for m in of(ms, "booking_confirmed", "sms")} == {"failed", "skipped"}
        ),
        customer_id=second,
    )
    assert len(await studio.sms_to(unsubscribed)) == 1


async def test_stop_then_a_booking_sends_no_sms(studio):
    number = phone()
    customer = await studio.customer(sms=number, email=address())
    answer = await studio.reply(number, "STOP")
    assert answer["answered"] == 200

    async def unsubscribed() -> bool:
        r = await studio.notifications.get(f"/v1/contact-preferences/{customer}")
        prefs = await ok(r)
        return prefs["sms"] is False and prefs["sms_number_opted_out"] is True

    # Whether the STOP or the customer's details reached notifications first.
    await wait_for(unsubscribed, timeout=30, interval=0.3)
    session = await studio.session(local_days(10, 18))
    await studio.book(session, customer)
    found = await studio.until(
        lambda ms: {m["status"] for m in of(ms, "booking_confirmed")} == {"skipped", "sent"},
        customer_id=customer,
    )
    assert of(found, "booking_confirmed", "sms")[0]["status"] == "skipped"
    assert await studio.sms_to(number) == []


async def test_an_unsigned_or_forged_callback_is_refused_and_changes_nothing(studio, stack):
    number = phone()
    customer = await studio.customer(sms=number)
    session = await studio.session(local_days(10, 18))
    booking = await studio.book(session, customer)
    found = await studio.until(
        lambda ms: [m["status"] for m in of(ms, "booking_confirmed", "sms")] == ["delivered"],
        booking_id=booking["id"],
    )
    [sms] = of(found, "booking_confirmed", "sms")
    url = f"{stack.url('notifications')}/v1/twilio/status/{studio.tenant.id}/{sms['id']}"
    params = {
        "MessageSid": sms["provider_id"],
        "MessageStatus": "undelivered",
        "ErrorCode": "30003",
    }
    forged = RequestValidator("guessed-token").compute_signature(url, params)
    async with httpx.AsyncClient() as http:
        unsigned = await http.post(url, data=params)
        wrong = await http.post(url, data=params, headers={"X-Twilio-Signature": forged})
        inbound = await http.post(
            f"{stack.url('notifications')}/v1/twilio/inbound/{studio.tenant.id}",
            data={"From": number, "Body": "STOP", "MessageSid": "SM" + "0" * 32},
        )
    assert (unsigned.status_code, wrong.status_code, inbound.status_code) == (403, 403, 403)
    after = await ok(await studio.notifications.get(f"/v1/messages/{sms['id']}"))
    assert after["status"] == "delivered" and after["updated_at"] == sms["updated_at"]
    prefs = await ok(await studio.notifications.get(f"/v1/contact-preferences/{customer}"))
    assert prefs["sms"] is True


async def test_worker_killed_mid_send_every_message_goes_exactly_once(studio, stack):
    """A bulk SMS (customers' bulk action) at 10 msg/s; the notifications worker is killed
    (SIGKILL) while sending and started again: every message is sent exactly once."""
    sid = "AC" + uuid.uuid4().hex
    await ok(await studio.fake.post(f"/_fake/accounts/{sid}", json={"mps": 10}))
    await ok(
        await studio.notifications.put(
            "/v1/notification-settings",
            json={
                "twilio_account_sid": sid,
                "twilio_auth_token": "e2e-tenant-token",
                "twilio_from": "+15005550006",
                "sms_per_second": 10.0,
            },
        )
    )
    numbers = [phone() for _ in range(40)]
    customers = [await studio.customer(sms=n) for n in numbers]
    await asyncio.sleep(1)  # the customers' contacts have reached notifications
    result = await ok(
        await studio.tenant.customers.post(
            "/v1/customers/bulk",
            json={
                "ids": customers,
                "action": "message",
                "channel": "sms",
                "body": "Hi {{ first_name }}",
            },
        )
    )
    request_id = result["request_id"]

    async def sent_some() -> bool:
        got = await ok(await studio.fake.get("/_fake/requests"))
        return len([r for r in got if r["account_sid"] == sid]) >= 12

    await wait_for(sent_some, timeout=60, interval=0.05)
    stack.kill("notifications", "worker", signal.SIGKILL)
    await stack.restart_worker("notifications")

    async def all_done() -> Any:
        progress = await ok(await studio.notifications.get(f"/v1/bulk-messages/{request_id}"))
        return progress if progress["done"] else None

    progress = await wait_for(all_done, timeout=120, interval=0.5)
    assert progress["counts"]["failed"] == 0 and progress["counts"]["skipped"] == 0
    got = await ok(await studio.fake.get("/_fake/requests"))
    mine = [r for r in got if r["account_sid"] == sid]
    assert {r["answered"] for r in mine} == {201}
    assert sorted(r["to"] for r in mine) == sorted(numbers)  # each exactly once
