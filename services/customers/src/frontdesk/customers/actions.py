"""Operations shared by the HTTP API and the consumers (the application layer).

Each takes an open unit of work; the caller commits.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import RowMapping

from frontdesk.contracts.customers import CustomerRegistered
from frontdesk.customers.adapters.repository import CustomerRepository
from frontdesk.kit.uow import UnitOfWork


def registered(row: Any) -> CustomerRegistered:
    return CustomerRegistered(
        customer_id=row["id"],
        first_name=row["first_name"],
        last_name=row["last_name"],
        email=row["email"],
        phone=row["phone"],
        status=row["status"],
        tags=list(row["tags"]),
        source=row["source"],
    )


async def create(uow: UnitOfWork, tenant_id: uuid.UUID, values: dict[str, Any]) -> RowMapping:
    repo = CustomerRepository(uow.session, tenant_id)
    row = await repo.add({"id": uuid.uuid4(), **values})
    uow.publish(
        registered(row),
        tenant_id=tenant_id,
        aggregate_id=row["id"],
        aggregate_version=row["version"],
    )
    return row


async def find_or_create(
    uow: UnitOfWork, tenant_id: uuid.UUID, values: dict[str, Any]
) -> tuple[RowMapping, bool]:
    """The oldest customer with this (normalised) email, or a new one: never two.

    An advisory lock on (tenant, email) held to the end of the transaction
    serialises concurrent calls, so the second one sees the first one's row.
    """
    repo = CustomerRepository(uow.session, tenant_id)
    email = values["email"]
    await repo.lock_email(email)
    found = await repo.oldest_with_email(email)
    if found is not None:
        return found, False
    return await create(uow, tenant_id, values), True
