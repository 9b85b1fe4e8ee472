"""One trace from the HTTP request through the outbox row and the broker to the consumer."""

import httpx
from kit_probe import probe_service, seen, seen_counts
from opentelemetry.trace import SpanKind
from sqlalchemy import select

from frontdesk.contracts.customers import CustomerRegistered
from frontdesk.kit.auth import Role
from frontdesk.kit.service import create_app
from frontdesk.kit.testing import wait_for


async def test_one_trace_id_across_request_publish_and_consume(spans, tokens) -> None:
    async with probe_service() as rt:
        app = create_app(rt, start_relay=False)  # the runtime's relay already runs
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://probe") as client:
            r = await client.post(
                "/v1/probes", json={"name": "Traced"}, headers=tokens.headers(Role.staff)
            )
        assert r.status_code == 201, r.text
        await wait_for(lambda: seen_counts(rt), timeout=10)
        key = CustomerRegistered.routing_key()

        def find():
            done = list(spans.get_finished_spans())
            server = [
                s
                for s in done
                if s.kind is SpanKind.SERVER and s.name.startswith("POST /v1/probes")
            ]
            producer = [
                s for s in done if s.kind is SpanKind.PRODUCER and s.name == f"{key} publish"
            ]
            consumer = [
                s for s in done if s.kind is SpanKind.CONSUMER and s.name == f"{key} process"
            ]
            return (server, producer, consumer) if server and producer and consumer else None

        async def found():
            return find()

        server, producer, consumer = await wait_for(found, timeout=5)
        trace_id = server[0].context.trace_id
        assert {s.context.trace_id for s in producer + consumer} == {trace_id}
        # Parent links: request -> publish -> process.
        assert producer[0].parent is not None and consumer[0].parent is not None
        assert consumer[0].parent.span_id == producer[0].context.span_id
        assert producer[0].attributes["messaging.message.id"] == r.json()["events"][0]
        # The handler ran inside that trace (it records the current trace id).
        async with rt.engine.connect() as conn:
            stored = (await conn.execute(select(seen.c.trace_id))).scalar_one()
        assert stored == format(trace_id, "032x")
