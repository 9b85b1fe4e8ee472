"""The customer list (C7), its statistics (C6) and the CSV export (C10), for staff."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping

from frontdesk.customers.adapters.listing import EXPORT_CHUNK, ListingQueries
from frontdesk.customers.domain import export
from frontdesk.customers.domain.listing import Filters, Sort
from frontdesk.kit.auth import Principal
from frontdesk.kit.uow import UnitOfWork


async def page(
    uow: UnitOfWork,
    principal: Principal,
    filters: Filters,
    sort: Sort,
    *,
    after: tuple[Any, uuid.UUID] | None,
    limit: int,
) -> list[RowMapping]:
    """``limit`` rows after ``after`` (the last row's sort key and id), each with its
    ``sort_key``."""
    return await ListingQueries(uow.session, principal.tenant_id).page(
        filters, sort, now=datetime.now(UTC), after=after, limit=limit
    )


async def stats(uow: UnitOfWork, principal: Principal) -> dict[str, Any]:
    """Dashboard figures and the tab counts."""
    return await ListingQueries(uow.session, principal.tenant_id).stats()


async def export_csv(
    units: Callable[[], UnitOfWork], principal: Principal, filters: Filters, sort: Sort
) -> AsyncIterator[str]:
    """The filtered list (or a selection) as CSV text, in chunks, read from a server-side
    cursor in a unit of work of its own (the answer streams after the request's ends)."""
    now = datetime.now(UTC)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(export.COLUMNS)
    async with units() as uow:
        count = 0
        async for row in ListingQueries(uow.session, principal.tenant_id).rows(
            filters, sort, now=now
        ):
            writer.writerow(export.cells(row))
            count += 1
            if count % EXPORT_CHUNK == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
    yield buffer.getvalue()
