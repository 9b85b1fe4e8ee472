"""Households (C14): link a member to their payer, unlink, and show the household."""

from __future__ import annotations

import uuid

from sqlalchemy import RowMapping

from frontdesk.customers.adapters.customers import CustomerRepository
from frontdesk.customers.adapters.households import HouseholdRepository
from frontdesk.customers.domain import household
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError
from frontdesk.kit.uow import UnitOfWork


async def show(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> list[RowMapping]:
    """The customer's payer and members; a customer token sees only its own."""
    principal.ensure_sees(customer_id, "customer")
    await CustomerRepository(uow.session, principal.tenant_id).require(customer_id)
    return await HouseholdRepository(uow.session, principal.tenant_id).household(customer_id)


async def link(
    uow: UnitOfWork,
    principal: Principal,
    payer_id: uuid.UUID,
    member_id: uuid.UUID,
    relation: str | None,
) -> list[RowMapping]:
    """``member_id`` now booked and paid for by ``payer_id``; ``HouseholdLinked``."""
    tenant = principal.tenant_id
    links = HouseholdRepository(uow.session, tenant)
    await links.lock()
    records = CustomerRepository(uow.session, tenant)
    payer = await records.require(payer_id)
    member = await records.get(member_id)
    if member is None:
        raise NotFoundError("No such customer to link.", field="member_id")
    event = household.link(
        payer,
        member,
        current_payer=await links.payer_of(member_id),
        payer_chain=await links.chain(payer_id),
        relation=household.clean_relation(relation),
    )
    await links.add(payer_id, member_id, event.relation)
    version = await links.next_version(member_id)
    uow.publish(event, tenant_id=tenant, aggregate_id=member_id, aggregate_version=version)
    out = await links.household(payer_id)
    await uow.commit()
    return out


async def unlink(
    uow: UnitOfWork, principal: Principal, payer_id: uuid.UUID, member_id: uuid.UUID
) -> None:
    """The link goes; ``HouseholdUnlinked``. No such link: 404."""
    tenant = principal.tenant_id
    links = HouseholdRepository(uow.session, tenant)
    await links.lock()
    if not await links.remove(payer_id, member_id):
        raise NotFoundError.of("household member")
    uow.publish(
        household.unlink(payer_id, member_id),
        tenant_id=tenant,
        aggregate_id=member_id,
        aggregate_version=await links.next_version(member_id),
    )
    await uow.commit()
