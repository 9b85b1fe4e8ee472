"""Outgoing webhooks end to end in one process: an event on the real broker becomes one
delivery per endpoint that chose it; a receiver over real HTTP verifies the Standard
Webhooks signature, fails twice, then takes the delivery once; the log shows every
attempt; a replay sends it again; a receiver that never answers well ends failed."""

import asyncio
import socket
import uuid

import pytest
from aiohttp import web
from gateway_testing import bearer, publish, sign_up
from standardwebhooks import Webhook, WebhookVerificationError

from frontdesk.contracts.customers import CustomerRegistered
from frontdesk.gateway.app import send_webhooks
from frontdesk.kit.testing import wait_for


class Receiver:
    """A webhook receiver that verifies each request and fails the first ``failures``."""

    def __init__(self, failures: int = 0) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}/hooks/frontdesk"
        self.failures = failures
        self.secret: str | None = None
        self.accepted: list[dict] = []
        self.refused = 0
        self.forged = 0
        self._runner: web.AppRunner | None = None

    async def _hook(self, request: web.Request) -> web.Response:
        body = await request.text()
        try:
            payload = Webhook(self.secret or "").verify(body, dict(request.headers))
        except WebhookVerificationError:
            self.forged += 1
            return web.Response(status=400)
        if self.failures > 0:
            self.failures -= 1
            self.refused += 1
            return web.Response(status=500)
        self.accepted.append({"id": request.headers["webhook-id"], "payload": payload})
        return web.Response(status=204)

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/frontdesk", self._hook)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


@pytest.fixture
async def receiver():
    r = Receiver(failures=2)
    await r.start()
    yield r
    await r.stop()


async def endpoint_for(client, owner, url: str, types=("customers.customer.registered",)):
    r = await client.post(
        "/v1/webhook-endpoints",
        json={"url": url, "event_types": list(types), "description": "CRM sync"},
        headers=owner,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def deliveries(client, owner, endpoint_id) -> list[dict]:
    r = await client.get(f"/v1/webhook-endpoints/{endpoint_id}/deliveries", headers=owner)
    assert r.status_code == 200
    return r.json()["items"]


async def run_until(runtime, predicate, timeout: float = 10.0):
    """The worker's sending job, again and again, until ``predicate``."""

    async def step():
        await send_webhooks(runtime)
        return await predicate()

    return await wait_for(step, timeout=timeout, interval=0.1)


async def test_signed_retried_then_delivered_once_logged_and_replayed(client, runtime, receiver):
    made = await sign_up(client)
    owner = bearer(made["tokens"]["access_token"])
    tenant_id = uuid.UUID(made["tenant"]["id"])
    endpoint = await endpoint_for(client, owner, receiver.url)
    receiver.secret = endpoint["secret"]
    assert endpoint["secret"].startswith("whsec_")
    r = await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=owner)
    assert "secret" not in r.json()
    r = await client.get(f"/v1/webhook-endpoints/{endpoint['id']}/secret", headers=owner)
    assert r.json()["secret"] == endpoint["secret"]

    customer_id = uuid.uuid4()
    event_id = await publish(
        runtime,
        CustomerRegistered(customer_id=customer_id, first_name="Dora", last_name="D"),
        tenant_id,
        customer_id,
    )

    async def delivered():
        return receiver.accepted

    await run_until(runtime, delivered)
    assert receiver.refused == 2 and receiver.forged == 0
    assert len(receiver.accepted) == 1
    got = receiver.accepted[0]["payload"]
    assert got["type"] == "customers.customer.registered" and got["id"] == str(event_id)
    assert got["data"]["customer_id"] == str(customer_id)
    [delivery] = await deliveries(client, owner, endpoint["id"])
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 3
    assert receiver.accepted[0]["id"] == delivery["id"]
    r = await client.get(
        f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery['id']}", headers=owner
    )
    log = r.json()["attempt_log"]
    assert [a["status_code"] for a in log] == [500, 500, 204]
    # Nothing more is sent by itself.
    await asyncio.sleep(0.5)
    await send_webhooks(runtime)
    assert len(receiver.accepted) == 1
    # Replay: sent again, with the same webhook-id.
    r = await client.post(
        f"/v1/webhook-endpoints/{endpoint['id']}/deliveries/{delivery['id']}/replay",
        headers=owner,
    )
    assert r.status_code == 202 and r.json()["status"] == "pending"

    async def replayed():
        return len(receiver.accepted) == 2

    await run_until(runtime, replayed)
    assert receiver.accepted[1]["id"] == delivery["id"]
    [delivery] = await deliveries(client, owner, endpoint["id"])
    assert delivery["status"] == "succeeded" and delivery["attempts"] == 4


async def test_a_receiver_that_keeps_failing_ends_failed(client, runtime):
    receiver = Receiver(failures=100)
    await receiver.start()
    try:
        made = await sign_up(client)
        owner = bearer(made["tokens"]["access_token"])
        endpoint = await endpoint_for(client, owner, receiver.url)
        receiver.secret = endpoint["secret"]
        customer_id = uuid.uuid4()
        await publish(
            runtime,
            CustomerRegistered(customer_id=customer_id, first_name="E", last_name="E"),
            uuid.UUID(made["tenant"]["id"]),
            customer_id,
        )

        async def failed():
            found = await deliveries(client, owner, endpoint["id"])
            return found and found[0]["status"] == "failed"

        await run_until(runtime, failed)
        [delivery] = await deliveries(client, owner, endpoint["id"])
        # The first attempt and one per retry delay (two in these tests).
        assert delivery["attempts"] == 3 and receiver.refused == 3
    finally:
        await receiver.stop()


async def test_only_chosen_events_of_the_own_tenant_are_sent(client, runtime):
    made = await sign_up(client)
    owner = bearer(made["tokens"]["access_token"])
    endpoint = await endpoint_for(
        client, owner, "http://127.0.0.1:9/never", types=["customers.customer.erased"]
    )
    other_tenant = uuid.uuid4()
    customer_id = uuid.uuid4()
    await publish(
        runtime,
        CustomerRegistered(customer_id=customer_id, first_name="F", last_name="F"),
        uuid.UUID(made["tenant"]["id"]),
        customer_id,
    )
    await publish(
        runtime,
        CustomerRegistered(customer_id=customer_id, first_name="F", last_name="F"),
        other_tenant,
        customer_id,
    )
    await asyncio.sleep(1.0)
    assert await deliveries(client, owner, endpoint["id"]) == []


async def test_endpoints_are_checked_and_kept_to_admins(client, runtime):
    made = await sign_up(client)
    owner = bearer(made["tokens"]["access_token"])
    cases = [
        ({"url": "ftp://example.com/x", "event_types": ["customers.customer.registered"]}, "url"),
        (
            {"url": "https://example.com/x", "event_types": ["customers.customer.exploded"]},
            "event_types",
        ),
        ({"url": "https://example.com/x", "event_types": []}, "event_types"),
        ({"url": "https://example.com/x", "event_types": ["x"], "extra": 1}, "extra"),
    ]
    for body, field in cases:
        r = await client.post("/v1/webhook-endpoints", json=body, headers=owner)
        assert r.status_code == 422, r.text
        assert r.json()["errors"][0]["field"] == field
    types = (await client.get("/v1/webhook-event-types", headers=owner)).json()
    assert "identity.tenant.changed" in {t["type"] for t in types}
    endpoint = await endpoint_for(client, owner, "https://example.com/hook")
    r = await client.patch(
        f"/v1/webhook-endpoints/{endpoint['id']}",
        json={"active": False},
        headers={**owner, "If-Match": '"1"'},
    )
    assert r.status_code == 200 and r.json()["active"] is False
    assert (
        await client.delete(f"/v1/webhook-endpoints/{endpoint['id']}", headers=owner)
    ).status_code == 204
    assert (
        await client.get(f"/v1/webhook-endpoints/{endpoint['id']}", headers=owner)
    ).status_code == 404
