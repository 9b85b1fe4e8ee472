"""Twilio's webhooks: signatures checked (unsigned or forged → 403 and nothing changes),
statuses only forward, STOP / START / HELP and replies for staff."""

from __future__ import annotations

import uuid

import httpx
from twilio.request_validator import RequestValidator

from frontdesk.kit.auth import Principal, Role
from frontdesk.notifications.application import messages

from .conftest import in_days, phone, send, settled

PLATFORM_TOKEN = "development-twilio-auth-token"


def inbound_url(runtime, tenant_id) -> str:
    return f"{runtime.settings.callback_base()}/v1/twilio/inbound/{tenant_id}"


async def reply(fakes, runtime, tenant_id, number: str, body: str, **extra) -> dict:
    """The fake sends an inbound SMS from ``number``, signed like Twilio."""
    async with httpx.AsyncClient() as http:
        r = await http.post(
            f"{fakes.base}/_fake/inbound",
            json={"url": inbound_url(runtime, tenant_id), "from": number, "body": body, **extra},
        )
    assert r.status_code == 200, r.text
    return r.json()


async def queue_sms(runtime, tenant_id, customer_id):
    staff = Principal(sub="staff", tenant_id=tenant_id, role=Role.admin)
    async with runtime.uow() as uow:
        return (
            await messages.send_direct(
                uow,
                staff,
                messages.DirectMessage(customer_id=customer_id, channel="sms", body="Hi"),
            )
        ).message


async def test_status_callbacks_must_be_signed(world, fakes, runtime, tenant_id):
    number = phone()
    customer = await world.customer(sms=number)
    message = await queue_sms(runtime, tenant_id, customer)
    found = await settled(world, lambda ms: ms[0]["status"] == "delivered")
    url = f"{runtime.settings.callback_base()}/v1/twilio/status/{tenant_id}/{message.id}"
    params = {
        "MessageSid": found[0]["provider_id"],
        "MessageStatus": "failed",
        "ErrorCode": "30003",
    }
    forged = RequestValidator("not-the-token").compute_signature(url, params)
    right = RequestValidator(PLATFORM_TOKEN).compute_signature(url, params)
    async with httpx.AsyncClient() as http:
        unsigned = await http.post(url, data=params)
        wrong = await http.post(url, data=params, headers={"X-Twilio-Signature": forged})
        tampered = await http.post(
            url,
            data={**params, "MessageStatus": "undelivered"},
            headers={"X-Twilio-Signature": right},
        )
        other_path = await http.post(
            url.replace(str(message.id), str(uuid.uuid4())),
            data=params,
            headers={"X-Twilio-Signature": right},
        )
    for r in (unsigned, wrong, tampered, other_path):
        assert r.status_code == 403, r.text
        assert r.headers["content-type"] == "application/problem+json"
    [row] = await world.messages()
    assert row["status"] == "delivered" and row["version"] == found[0]["version"]
    # Signed, it is taken; a status never moves back (failed after delivered is ignored).
    async with httpx.AsyncClient() as http:
        r = await http.post(url, data=params, headers={"X-Twilio-Signature": right})
    assert r.status_code == 204
    [row] = await world.messages()
    assert row["status"] == "delivered"


async def test_stop_then_a_booking_sends_no_sms_and_start_lifts_it(
    world, fakes, runtime, tenant_id, client, tokens
):
    number = phone()
    customer = await world.customer(sms=number)
    answer = await reply(fakes, runtime, tenant_id, number, "Stop")
    assert answer["answered"] == 200
    r = await client.get(f"/v1/contact-preferences/{customer}", headers=tokens.headers())
    assert r.json()["sms"] is False and r.json()["sms_number_opted_out"] is True
    [consent] = await world.outbox("notifications.consent.changed.v1")
    assert consent["payload"]["source"] == "reply" and consent["payload"]["consent"] is False
    assert await world.outbox("notifications.message.received.v1") == []  # a keyword
    await world.tell(world.booking(customer, in_days(12)), uuid.uuid4(), version=2)
    found = await settled(
        world,
        lambda ms: all(m["status"] != "queued" for m in ms if m["kind"] == "booking_confirmed"),
    )
    [sms] = [m for m in found if (m["kind"], m["channel"]) == ("booking_confirmed", "sms")]
    assert sms["status"] == "skipped"
    assert fakes.requests(number) == []
    await reply(fakes, runtime, tenant_id, number, "START")
    r = await client.get(f"/v1/contact-preferences/{customer}", headers=tokens.headers())
    assert r.json()["sms"] is True and r.json()["sms_number_opted_out"] is False
    await queue_sms(runtime, tenant_id, customer)
    await settled(
        world, lambda ms: any(m["kind"] == "direct" and m["status"] == "delivered" for m in ms)
    )
    assert len(fakes.accepted(number)) == 1


async def test_a_reply_reaches_staff_and_help_is_answered(
    world, fakes, runtime, tenant_id, client, tokens
):
    number = phone()
    customer = await world.customer(sms=number)
    await reply(fakes, runtime, tenant_id, number, "Can I bring a friend?")
    [event] = await world.outbox("notifications.message.received.v1")
    assert event["payload"]["customer_id"] == str(customer)
    assert event["payload"]["body"] == "Can I bring a friend?"
    r = await client.get(
        f"/v1/messages?customer_id={customer}&direction=inbound", headers=tokens.headers()
    )
    [logged] = r.json()["items"]
    assert logged["status"] == "received" and logged["sender"] == number
    help_ = await reply(fakes, runtime, tenant_id, number, "help")
    assert "Reply STOP to unsubscribe" in help_["response"]
    assert help_["response"].startswith("<Response><Message>")


async def test_a_forged_inbound_stop_changes_nothing(
    world, fakes, runtime, tenant_id, client, tokens
):
    number = phone()
    customer = await world.customer(sms=number)
    answer = await reply(fakes, runtime, tenant_id, number, "STOP", signature="forged==")
    assert answer["answered"] == 403
    r = await client.get(f"/v1/contact-preferences/{customer}", headers=tokens.headers())
    assert r.json()["sms"] is True
    assert [m for m in await world.messages() if m["direction"] == "inbound"] == []


async def test_twilio_sending_a_webhook_twice_records_one_reply(world, fakes, runtime, tenant_id):
    number = phone()
    await world.customer(sms=number)
    url = inbound_url(runtime, tenant_id)
    params = {"From": number, "To": "+15005550006", "Body": "Hello", "MessageSid": "SM" + "1" * 32}
    signature = RequestValidator(PLATFORM_TOKEN).compute_signature(url, params)
    async with httpx.AsyncClient() as http:
        for _ in range(2):
            r = await http.post(url, data=params, headers={"X-Twilio-Signature": signature})
            assert r.status_code == 200
    assert len([m for m in await world.messages() if m["direction"] == "inbound"]) == 1
    await send(runtime)


async def test_a_stop_before_the_customer_is_known_still_holds(
    world, fakes, runtime, tenant_id, client, tokens
):
    number = phone()
    await reply(fakes, runtime, tenant_id, number, "STOP")
    customer = await world.customer(sms=number)
    r = await client.get(f"/v1/contact-preferences/{customer}", headers=tokens.headers())
    assert r.json()["sms"] is False and r.json()["sms_number_opted_out"] is True
    await queue_sms(runtime, tenant_id, customer)
    found = await settled(world, lambda ms: any(m["status"] == "skipped" for m in ms))
    assert [m["kind"] for m in found if m["status"] == "skipped"] == ["direct"]
    assert fakes.requests(number) == []
