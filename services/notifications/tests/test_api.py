"""The HTTP API: the message log, direct and bulk messages, templates and previews,
sender settings, preferences; who may do what; bad input as 4xx problem+json."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from frontdesk.contracts.customers import (
    BulkMessageRequested,
    CustomerDeleted,
    CustomerErased,
    CustomerUpdated,
)
from frontdesk.notifications.adapters.tables import metadata

from .conftest import address, in_days, phone, send, settled

PROBLEM = "application/problem+json"


def problem(r, status: int, field: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    if field is not None:
        assert field in [e["field"] for e in body.get("errors") or []], body
    return body


async def post_direct(client, tokens, customer, headers=None, **body):
    payload = {"customer_id": str(customer), "channel": "sms", "body": "Hi {{ first_name }}"}
    payload.update(body)
    return await client.post("/v1/messages", json=payload, headers=headers or tokens.headers())


# --- direct messages and the log -----------------------------------------------------------


async def test_direct_messages_need_send_emails_and_answer_the_queued_message(
    client, tokens, world
):
    customer = await world.customer(sms=phone(), email=address())
    r = await post_direct(client, tokens, customer, headers=tokens.headers("staff"))
    problem(r, 403)
    r = await post_direct(
        client, tokens, customer, headers=tokens.headers("customer", sub=customer)
    )
    problem(r, 403)
    r = await post_direct(
        client, tokens, customer, headers=tokens.headers("staff", "send_emails", sub="kim")
    )
    assert r.status_code == 201, r.text
    message = r.json()
    assert message["status"] == "queued" and message["created_by"] == "kim"
    assert r.headers["location"] == f"/v1/messages/{message['id']}"
    found = await settled(world, lambda ms: ms[0]["status"] in ("sent", "delivered"))
    assert found[0]["body"] == "Hi Ada"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"channel": "email"}, "subject"),  # an email needs a subject
        ({"subject": "Hi"}, "subject"),  # an SMS has none
        ({"body": "Hi {{ frist_name }}"}, "body"),  # unknown variable
        ({"body": "Hi {{ first_name }"}, "body"),  # not a template
        ({"body": "Hi\u202eevil"}, "body"),  # bidi override
        ({"body": ""}, "body"),
        ({"channel": "fax"}, "channel"),
        ({"customer_id": "nope"}, "customer_id"),
        ({"reply_to": "not-an-address", "channel": "email", "subject": "x"}, "reply_to"),
        ({"reply_to": "kim@studio.example"}, "reply_to"),  # only an email has one
        ({"extra": 1}, "extra"),
    ],
)
async def test_bad_direct_messages_are_422_naming_the_field(client, tokens, body, field):
    r = await post_direct(client, tokens, uuid.uuid4(), **body)
    problem(r, 422, field)


async def test_idempotency_key_sends_once(client, tokens, world):
    customer = await world.customer(sms=phone())
    headers = {**tokens.headers(), "Idempotency-Key": "msg-1"}
    first = await post_direct(client, tokens, customer, headers=headers)
    again = await post_direct(client, tokens, customer, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotent-replayed"] == "true"
    other = await post_direct(client, tokens, customer, headers=headers, body="Another")
    problem(other, 409, "Idempotency-Key")
    assert len(await world.messages()) == 1


async def test_the_log_pages_newest_first_and_a_customer_sees_only_its_own(client, tokens, world):
    mine = await world.customer(sms=phone())
    other = await world.customer(sms=phone())
    for _ in range(3):
        await post_direct(client, tokens, mine)
    await post_direct(client, tokens, other)
    r = await client.get(f"/v1/messages?customer_id={mine}&limit=2", headers=tokens.headers())
    page = r.json()
    assert len(page["items"]) == 2 and page["next_cursor"]
    r = await client.get(
        f"/v1/messages?customer_id={mine}&limit=2&cursor={page['next_cursor']}",
        headers=tokens.headers(),
    )
    assert len(r.json()["items"]) == 1 and r.json()["next_cursor"] is None
    as_customer = tokens.headers("customer", sub=mine)
    r = await client.get("/v1/messages", headers=as_customer)
    assert {m["customer_id"] for m in r.json()["items"]} == {str(mine)}
    problem(await client.get(f"/v1/messages?customer_id={other}", headers=as_customer), 404)
    theirs = (
        await client.get(f"/v1/messages?customer_id={other}", headers=tokens.headers())
    ).json()
    problem(await client.get(f"/v1/messages/{theirs['items'][0]['id']}", headers=as_customer), 404)
    problem(await client.get("/v1/messages?cursor=forged", headers=tokens.headers()), 400, "cursor")
    problem(await client.get("/v1/messages?colour=red", headers=tokens.headers()), 400, "colour")
    problem(await client.get("/v1/messages?status=lost", headers=tokens.headers()), 422, "status")
    other_tenant = tokens.headers(tenant_id=uuid.uuid4())
    r = await client.get(f"/v1/messages/{theirs['items'][0]['id']}", headers=other_tenant)
    problem(r, 404)


# --- templates --------------------------------------------------------------------------


async def test_templates_default_saved_checked_and_reset(client, tokens):
    r = await client.get("/v1/templates", headers=tokens.headers("staff"))
    assert r.status_code == 200
    listed = {(t["kind"], t["channel"]): t for t in r.json()}
    assert listed[("reminder_24h", "sms")]["version"] == 0
    assert "first_name" in listed[("reminder_24h", "sms")]["variables"]
    url = "/v1/templates/reminder_24h/sms"
    problem(await client.put(url, json={"body": "x"}, headers=tokens.headers("staff")), 403)
    r = await client.put(url, json={"body": "Hey {{ firstname }}"}, headers=tokens.headers())
    assert "firstname" in problem(r, 422, "body")["detail"]
    r = await client.put(
        url, json={"body": "{{ title.__class__.__mro__ }}"}, headers=tokens.headers()
    )
    problem(r, 422, "body")
    body = "{{ first_name }}: {{ title }} tomorrow {{ time }}. {{ venue_name }}"
    r = await client.put(url, json={"body": body}, headers={**tokens.headers(), "If-Match": '"0"'})
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 1 and r.headers["etag"] == '"1"'
    r = await client.put(url, json={"body": body}, headers={**tokens.headers(), "If-Match": '"0"'})
    problem(r, 412)
    r = await client.put(
        "/v1/templates/reminder_24h/email", json={"body": "x"}, headers=tokens.headers()
    )
    problem(r, 422, "subject")
    problem(
        await client.put("/v1/templates/direct/sms", json={"body": "x"}, headers=tokens.headers()),
        404,
    )
    r = await client.delete(url, headers=tokens.headers())
    assert r.json()["version"] == 0 and r.json()["is_default"] is True


async def test_preview_with_sample_or_real_data_and_sms_segments(client, tokens, world):
    r = await client.post(
        "/v1/templates/preview",
        json={"kind": "reminder_24h", "channel": "sms"},
        headers=tokens.headers("staff"),
    )
    assert r.status_code == 200, r.text
    preview = r.json()
    assert preview["body"].startswith("Hi Ada, see you tomorrow: Vinyasa Yoga")
    assert preview["sms"] == {"encoding": "GSM-7", "length": len(preview["body"]), "segments": 1}
    long = {"kind": "direct", "channel": "sms", "body": "Zażółć gęślą jaźń " * 5}
    r = await client.post("/v1/templates/preview", json=long, headers=tokens.headers())
    assert r.json()["sms"]["encoding"] == "UCS-2" and r.json()["sms"]["segments"] == 2
    customer = await world.customer(sms=phone(), first_name="Grace")
    event = world.booking(customer, in_days(12, hour=7), title="Pilates")
    await world.tell(event, event.booking_id, 2)
    r = await client.post(
        "/v1/templates/preview",
        json={
            "kind": "booking_confirmed",
            "channel": "email",
            "customer_id": str(customer),
            "booking_id": str(event.booking_id),
        },
        headers=tokens.headers(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["subject"].startswith("Booking confirmed: Pilates on")
    assert "Hi Grace" in r.json()["body"] and "7:00 AM" in r.json()["body"]
    r = await client.post(
        "/v1/templates/preview",
        json={"kind": "booking_confirmed", "channel": "sms", "body": "{{ nope }}"},
        headers=tokens.headers(),
    )
    problem(r, 422, "body")


# --- settings and preferences -----------------------------------------------------------


async def test_sender_settings_keep_the_token_secret(client, tokens):
    r = await client.get("/v1/notification-settings", headers=tokens.headers())
    assert r.json()["version"] == 0 and r.headers["etag"] == '"0"'
    problem(await client.get("/v1/notification-settings", headers=tokens.headers("staff")), 403)
    sid = "AC" + "b" * 32
    settings = {
        "twilio_account_sid": sid,
        "twilio_auth_token": "very-secret-token",
        "twilio_from": "+4915112345678",
        "sms_per_second": 5.0,
        "email_from": "Studio <hello@studio.example>",
        "venue_name": "Studio Mitte",
        "language": "de",
    }
    r = await client.put("/v1/notification-settings", json=settings, headers=tokens.headers())
    assert r.status_code == 200, r.text
    assert "very-secret-token" not in r.text and r.json()["twilio_auth_token_set"] is True
    r = await client.put(
        "/v1/notification-settings",
        json={**settings, "twilio_auth_token": None, "venue_name": "Studio Nord"},
        headers={**tokens.headers(), "If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["twilio_auth_token_set"] is True
    assert r.json()["version"] == 2
    r = await client.put(
        "/v1/notification-settings", json=settings, headers={**tokens.headers(), "If-Match": '"1"'}
    )
    problem(r, 412)
    r = await client.put(
        "/v1/notification-settings",
        json={**settings, "twilio_account_sid": "XX1"},
        headers=tokens.headers(),
    )
    problem(r, 422, "twilio_account_sid")
    r = await client.put(
        "/v1/notification-settings", json={"sms_per_second": "5"}, headers=tokens.headers()
    )
    problem(r, 422, "sms_per_second")


async def test_preferences_staff_and_the_customer_itself(client, tokens, world):
    customer = await world.customer(sms=phone(), email=address())
    url = f"/v1/contact-preferences/{customer}"
    r = await client.patch(url, json={"email": False}, headers=tokens.headers("staff"))
    assert r.status_code == 200 and r.json()["email"] is False and r.json()["sms"] is True
    mine = tokens.headers("customer", sub=customer)
    r = await client.patch(url, json={"email": True}, headers=mine)
    assert r.json()["email"] is True
    events = await world.outbox("notifications.consent.changed.v1")
    assert [(e["payload"]["consent"], e["payload"]["source"]) for e in events] == [
        (False, "staff"),
        (True, "customer"),
    ]
    problem(await client.get(f"/v1/contact-preferences/{uuid.uuid4()}", headers=mine), 404)
    problem(await client.patch(url, json={"sms": None}, headers=mine), 422, "sms")
    problem(await client.patch(url, json={"sms": "no"}, headers=mine), 422, "sms")
    problem(await client.patch(url, json={"sms": False}, headers={**mine, "If-Match": '"9"'}), 412)


async def test_new_details_from_customers_do_not_make_an_open_preferences_form_stale(
    client, tokens, world
):
    customer = await world.customer(sms=phone(), email=address())
    url = f"/v1/contact-preferences/{customer}"
    mine = tokens.headers("customer", sub=customer)
    opened = (await client.get(url, headers=mine)).headers["ETag"]
    # The customer saves a new email first; customers tells notifications of it.
    await world.tell(
        CustomerUpdated(customer_id=customer, first_name="Ada", last_name="L", email=address()),
        customer,
        2,
    )
    r = await client.patch(url, json={"sms": False}, headers={**mine, "If-Match": opened})
    assert r.status_code == 200 and r.json()["sms"] is False
    # A change of consent does make the old form stale.
    problem(await client.patch(url, json={"sms": True}, headers={**mine, "If-Match": opened}), 412)
    assert r.headers["ETag"] != opened


# --- bulk, deletion and erasure ----------------------------------------------------------


async def test_bulk_messages_each_customer_once_with_progress(client, tokens, world, fakes):
    numbers = [phone() for _ in range(5)]
    customers = [await world.customer(sms=n) for n in numbers]
    request_id = uuid.uuid4()
    event = BulkMessageRequested(
        request_id=request_id,
        customer_ids=[*customers, customers[0]],
        channel="sms",
        body="Hi {{ first_name }}, new classes!",
        requested_by="owner",
    )
    await world.tell(event, request_id)
    await world.tell(event, request_id)  # again, under a new message id
    r = await client.get(f"/v1/bulk-messages/{request_id}", headers=tokens.headers("staff"))
    assert r.json()["total"] == 5 and r.json()["counts"]["queued"] == 5
    assert r.json()["done"] is False
    await settled(world, lambda ms: all(m["status"] == "delivered" for m in ms))
    r = await client.get(f"/v1/bulk-messages/{request_id}", headers=tokens.headers())
    assert r.json()["counts"]["delivered"] == 5 and r.json()["done"] is True
    assert all(len(fakes.accepted(n)) == 1 for n in numbers)
    assert fakes.accepted(numbers[0])[0]["body"] == "Hi Ada, new classes!"
    problem(await client.get(f"/v1/bulk-messages/{uuid.uuid4()}", headers=tokens.headers()), 404)


async def test_deletion_cancels_and_erasure_scrubs_but_keeps_the_counts(world, client, tokens):
    gone = await world.customer(sms=phone(), email=address())
    await world.tell(world.booking(gone, in_days(12)), uuid.uuid4(), version=2)
    await settled(
        world, lambda ms: all(m["status"] != "queued" or "reminder" in m["kind"] for m in ms)
    )
    await world.tell(CustomerDeleted(customer_id=gone), gone, version=2)
    found = await world.messages(customer_id=gone)
    assert {m["status"] for m in found if "reminder" in m["kind"]} == {"cancelled"}
    await world.tell(CustomerErased(customer_id=gone), gone, version=3)
    found = await world.messages(customer_id=gone)
    assert len(found) == 6
    assert all(m["recipient"] is None and m["body"] is None and m["erased"] for m in found)
    r = await client.get(f"/v1/messages?customer_id={gone}", headers=tokens.headers())
    assert len(r.json()["items"]) == 6
    problem(await post_direct(client, tokens, gone), 409, "customer_id")
    await send(world.runtime)
    await asyncio.sleep(0)


async def test_the_migrations_create_the_tables_the_code_uses(runtime):
    async with runtime.engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), metadata)
        )
    assert diff == []


async def test_a_bulk_request_of_thousands_is_planned_in_one_transaction(world, runtime):
    """More rows than one INSERT may carry parameters for (PostgreSQL: 32,767)."""
    from frontdesk.contracts import Envelope
    from frontdesk.notifications.application import messages

    ids = [uuid.uuid4() for _ in range(2500)]
    event = BulkMessageRequested(
        request_id=uuid.uuid4(), customer_ids=ids, channel="email", subject="News",
        body="Hello", requested_by="owner",
    )  # fmt: skip
    envelope = Envelope.wrap(
        event, tenant_id=world.tenant_id, aggregate_id=event.request_id, aggregate_version=1
    )
    async with runtime.uow() as uow:
        await messages.bulk_requested(uow, envelope, event)
    assert len(await world.messages(bulk_id=event.request_id)) == 2500


async def test_account_emails_go_to_the_address_given_and_forget_their_link(
    world, fakes, client, tokens
):
    from datetime import UTC, datetime, timedelta

    from frontdesk.contracts.identity import AccountEmailRequested

    mail = address()
    customer = await world.customer(email=address())  # another address on the record
    secret = f"https://studio.example/reset?token={uuid.uuid4().hex}"
    event = AccountEmailRequested(
        request_id=uuid.uuid4(),
        kind="password_reset",
        email=mail,
        name="Ada Lovelace",
        account_id=uuid.uuid4(),
        customer_id=customer,
        link=secret,
        expires_at=datetime.now(UTC) + timedelta(hours=1),
        tenant_name="Studio Mitte",
    )
    await world.tell(event, event.account_id)
    await world.tell(event, event.account_id)  # again: one email
    expired = event.model_copy(
        update={"request_id": uuid.uuid4(), "expires_at": datetime.now(UTC) - timedelta(seconds=1)}
    )
    await world.tell(expired, event.account_id)
    found = await settled(world, lambda ms: {m["status"] for m in ms} == {"sent", "skipped"})
    [got] = fakes.mails(mail)
    assert secret in got["text"] and got["subject"] == "Reset your password for Studio Mitte"
    assert "Hi Ada" in got["text"]
    sent = [m for m in found if m["status"] == "sent"]
    assert len(sent) == 1 and secret not in sent[0]["body"] and "[link removed]" in sent[0]["body"]
    assert "link" not in (sent[0]["context"] or {})
    skipped = [m for m in found if m["status"] == "skipped"]
    assert skipped[0]["error_message"].startswith("the link expired")
    r = await client.get(f"/v1/messages?customer_id={customer}", headers=tokens.headers())
    assert {m["kind"] for m in r.json()["items"]} == {"password_reset"}
    assert secret not in r.text
