"""Metrics an operator watches: consumer outcomes, lag and handler errors; relay
throughput and backlog (recorded through OpenTelemetry, read here from memory)."""

import uuid

from kit_probe import FAILURES, commit_events, probe_service
from test_consumer import Publisher, envelope

from frontdesk.kit.relay import Relay
from frontdesk.kit.testing import metric_value, wait_for


async def test_consumer_counts_each_outcome_its_lag_and_handler_errors() -> None:
    async with probe_service(relay=False) as rt, Publisher(rt) as pub:
        name = rt.spec.name

        def messages(outcome: str) -> float:
            return metric_value("frontdesk.consumer.messages", consumer=name, outcome=outcome)

        good = envelope()
        await pub.send(good)
        await pub.send(good)  # redelivered: a duplicate, no second effect
        await pub.send(body=b"{not json", message_id="garbage-1")  # poison: parked at once
        failing = envelope()
        FAILURES[uuid.UUID(failing.payload["customer_id"])] = 99
        await pub.send(failing)  # fails every attempt: retried twice (200, 400 ms), parked

        async def settled() -> bool:
            return messages("parked") == 2 and messages("duplicate") == 1

        await wait_for(settled, timeout=15)
        assert messages("handled") == 1
        assert messages("retried") == 2
        errors = metric_value(
            "frontdesk.consumer.handler_errors", consumer=name, error="ProbeFailure"
        )
        assert errors == 3  # first try and two retries
        assert metric_value("frontdesk.consumer.lag", consumer=name) == 1  # handled ones only

        # the two parked messages wait for an operator; nothing is left ready
        assert await rt.consumer.measure_queue_depths() == {"ready": 0, "parked": 2}
        depth = "frontdesk.consumer.queue_depth"
        assert metric_value(depth, consumer=name, queue="parked") == 2
        assert metric_value(depth, consumer=name, queue="ready") == 0


async def test_relay_reports_its_backlog_and_what_it_published() -> None:
    async with probe_service(relay=False, consumer=False) as rt:
        name = rt.spec.name
        await commit_events(rt, 7)
        relay = Relay(rt.settings, rt.engine, rt.spec.tables)
        await relay.start()
        try:
            assert await relay.measure_backlog() == 7
            assert metric_value("frontdesk.relay.backlog", service=name) == 7
            assert metric_value("frontdesk.relay.oldest_unpublished", service=name) >= 0
            assert metric_value("frontdesk.relay.published", service=name) == 0

            assert await relay.publish_batch() == 7
            assert metric_value("frontdesk.relay.published", service=name) == 7
            assert metric_value("frontdesk.relay.failed", service=name) == 0
            await relay.measure_backlog()
            assert metric_value("frontdesk.relay.backlog", service=name) == 0
        finally:
            await relay.close()
