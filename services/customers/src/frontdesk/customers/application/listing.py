"""The customer list (C7), its statistics (C6) and the CSV export (C10), for staff."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping

from frontdesk.customers.adapters.listing import (
    FOLD_BATCH,
    ListingQueries,
    StatsCounters,
)
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
    """Dashboard figures and the tab counts: the tenant's counters (kept as the summary
    changes), however many customers it has."""
    return await ListingQueries(uow.session, principal.tenant_id).stats()


async def fold_stats(units: Callable[[], UnitOfWork]) -> int:
    """Folds the statistics' pending changes into the counters (the worker, periodically),
    a batch per transaction; how many it folded."""
    folded = 0
    while True:
        async with units() as uow:
            done = await StatsCounters(uow.session).fold()
            await uow.commit()
        folded += done
        if done < FOLD_BATCH:
            return folded


async def export_csv(
    units: Callable[[], UnitOfWork], principal: Principal, filters: Filters, sort: Sort
) -> AsyncIterator[bytes]:
    """The filtered list (or a selection) as CSV (``domain.export``'s columns and cells),
    made by the database and streamed in chunks, in a unit of work of its own (the answer
    streams after the request's ends). Lines end in CRLF, as Python's csv module writes."""
    yield (",".join(export.COLUMNS) + "\r\n").encode()
    async with units() as uow:
        async for chunk in ListingQueries(uow.session, principal.tenant_id).export_csv(
            filters, sort, now=datetime.now(UTC)
        ):
            yield bytes(chunk).replace(b"\n", b"\r\n")
