"""A service's handlers: one per contract class, each given the event typed as its class."""

import uuid

import pytest
from kit_probe import probe_service, seen_counts

from frontdesk.contracts import Envelope
from frontdesk.contracts.customers import CustomerRegistered, CustomerUpdated
from frontdesk.kit.consumer import Handlers
from frontdesk.kit.testing import wait_for
from frontdesk.kit.uow import UnitOfWork


def test_one_handler_per_event_class():
    handlers = Handlers()

    @handlers.on(CustomerRegistered)
    async def first(uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered) -> None:
        pass

    async def second(uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered) -> None:
        pass

    with pytest.raises(ValueError, match="CustomerRegistered"):
        handlers.on(CustomerRegistered)(second)
    assert handlers[CustomerRegistered] is first  # the first registration stands

    @handlers.on(CustomerUpdated)
    async def third(uow: UnitOfWork, envelope: Envelope, event: CustomerUpdated) -> None:
        pass

    assert callable(first) and callable(third)  # the decorator hands the function back
    assert dict(handlers) == {CustomerRegistered: first, CustomerUpdated: third}
    assert len(handlers) == 2 and CustomerUpdated in handlers
    with pytest.raises(KeyError):
        handlers[CustomerRegistered.__base__]  # type: ignore[index]


async def test_the_consumer_gives_each_handler_its_event_typed_as_registered():
    handlers = Handlers()
    received: list[tuple[str, type, uuid.UUID, uuid.UUID]] = []

    @handlers.on(CustomerRegistered)
    async def registered(uow: UnitOfWork, envelope: Envelope, event: CustomerRegistered) -> None:
        received.append(("registered", type(event), event.customer_id, envelope.id))

    @handlers.on(CustomerUpdated)
    async def updated(uow: UnitOfWork, envelope: Envelope, event: CustomerUpdated) -> None:
        received.append(("updated", type(event), event.customer_id, envelope.id))

    async with probe_service(handlers=handlers) as rt:
        assert sorted(rt.consumer.routing_keys) == sorted(
            [CustomerRegistered.routing_key(), CustomerUpdated.routing_key()]
        )
        customer, tenant = uuid.uuid4(), uuid.uuid4()
        async with rt.uow() as uow:
            first = uow.publish(
                CustomerRegistered(customer_id=customer, first_name="Ada", last_name="L"),
                tenant_id=tenant,
                aggregate_id=customer,
                aggregate_version=1,
            )
            second = uow.publish(
                CustomerUpdated(
                    customer_id=customer, first_name="Ada", last_name="B", changed=["last_name"]
                ),
                tenant_id=tenant,
                aggregate_id=customer,
                aggregate_version=2,
            )
            await uow.commit()

        async def both():
            return len(received) == 2

        await wait_for(both, timeout=15)
        assert sorted(received, key=lambda r: r[0]) == [
            ("registered", CustomerRegistered, customer, first.id),
            ("updated", CustomerUpdated, customer, second.id),
        ]


async def test_the_probe_registers_its_handler_through_the_registry():
    async with probe_service() as rt:
        assert rt.consumer.routing_keys == [CustomerRegistered.routing_key()]
        customer = uuid.uuid4()
        async with rt.uow() as uow:
            sent = uow.publish(
                CustomerRegistered(customer_id=customer, first_name="Typed", last_name="Probe"),
                tenant_id=uuid.uuid4(),
                aggregate_id=customer,
                aggregate_version=1,
            )
            await uow.commit()
        assert await wait_for(lambda: seen_counts(rt), timeout=15) == {sent.id: 1}
