"""The customer list (C7), its statistics (C6) and the CSV export (C10), for staff."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping

from frontdesk.customers.adapters.custom_fields import DefinitionRepository
from frontdesk.customers.adapters.listing import (
    FOLD_BATCH,
    ListingQueries,
    StatsCounters,
)
from frontdesk.customers.application import tenants
from frontdesk.customers.domain import export
from frontdesk.customers.domain.listing import Filters, Sort
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.uow import UnitOfWork


async def _custom_filters(uow: UnitOfWork, principal: Principal, filters: Filters) -> list[str]:
    """The ``cf`` filters (``<key>:<value>``) read as the values their fields store (an
    unknown key or a value its field could not hold breaks the rule naming ``cf.<key>``);
    the keys of the tenant's custom fields, in their order."""
    definitions = await DefinitionRepository(uow.session, principal.tenant_id).by_key()
    for key, raw in filters.custom_given.items():
        definition = definitions.get(key)
        if definition is None:
            raise RuleBroken(f"cf.{key}", "no such custom field")
        filters.custom[key] = definition.filter_value(raw)
    return list(definitions)


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
    if filters.custom_given:
        await _custom_filters(uow, principal, filters)
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


async def export_columns(uow: UnitOfWork, principal: Principal, filters: Filters) -> list[str]:
    """Before the export streams (a bad filter is a 4xx, not a broken download): its
    ``cf`` filters read, and the custom fields it has a column for."""
    return await _custom_filters(uow, principal, filters)


async def export_csv(
    units: Callable[[], UnitOfWork],
    principal: Principal,
    filters: Filters,
    sort: Sort,
    custom: Sequence[str] = (),
) -> AsyncIterator[bytes]:
    """The filtered list (or a selection) as CSV (``domain.export``'s columns and cells),
    made by the database and streamed in chunks, in a unit of work of its own (the answer
    streams after the request's ends). Lines end in CRLF, as Python's csv module writes."""
    # One column per custom field, named by its key (letters, digits, '_').
    yield (",".join([*export.COLUMNS, *custom]) + "\r\n").encode()
    async with units() as uow:
        # Times in the tenant's zone (issue 12), else the deployment's.
        zone = await tenants.time_zone(uow, principal.tenant_id)
        async for chunk in ListingQueries(uow.session, principal.tenant_id).export_csv(
            filters, sort, now=datetime.now(UTC), custom=custom, zone=zone
        ):
            yield bytes(chunk).replace(b"\n", b"\r\n")
