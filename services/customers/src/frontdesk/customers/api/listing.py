"""/v1/customers (list), /stats, /export.csv and /bulk: the whole-list views and actions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi.responses import StreamingResponse

from frontdesk.customers.api.common import (
    CustomersRuntime,
    FilterDate,
    TagFilter,
    answer,
    list_cursor,
    list_cursor_of,
)
from frontdesk.customers.api.schemas import (
    BulkRequest,
    BulkResult,
    CustomerPage,
    CustomerRow,
    Stats,
)
from frontdesk.customers.application import customers, listing
from frontdesk.customers.domain.customer import BulkChange, Status
from frontdesk.customers.domain.engagement import Engagement
from frontdesk.customers.domain.listing import DEFAULT_SORT, RANKED_FROM, Filters, Sort
from frontdesk.kit.auth import Permission, StaffPrincipal
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.problems import Forbidden, InvalidInput
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.kit.types import INT32_MAX, Line

router = APIRouter(prefix="/v1/customers", tags=["customer list"])

# Counters are PostgreSQL integers: a bound beyond them is a bad request, not an overflow.
Count = Annotated[int | None, Query(ge=0, le=INT32_MAX)]
Days = Annotated[int | None, Query(ge=0, le=36500)]
Tab = Literal["all", "with_credits", "paused_credits", "no_credits", "inactive"]
Erased = Literal["exclude", "include", "only"]


def _custom_given(raw: list[str]) -> dict[str, str]:
    """``cf=<key>:<value>`` (repeated): custom field filters (C16), read against the
    tenant's definitions by the application. (Not ``cf.<key>=``: the kit answers 400 to
    a query parameter a route does not declare.)"""
    given: dict[str, str] = {}
    for item in raw:
        key, colon, value = item.partition(":")
        if not colon or not key or key in given:
            raise InvalidInput.for_field("cf", "each filter once, as <key>:<value>")
        given[key] = value
    return given


async def list_filters(
    q: Annotated[
        Line | None, Query(max_length=200, description="Name (typo-tolerant), email or phone")
    ] = None,
    status: Annotated[list[Status] | None, Query()] = None,
    credits_min: Count = None,
    credits_max: Count = None,
    has_credits: bool | None = None,
    last_activity_within_days: Days = None,
    inactive_for_days: Days = None,
    registered_from: FilterDate | None = None,
    registered_to: FilterDate | None = None,
    bookings_min: Count = None,
    bookings_max: Count = None,
    tag: Annotated[TagFilter | None, Query(description="Every tag given must be set")] = None,
    engagement: Engagement | None = None,
    tab: Tab = "all",
    erased: Annotated[
        Erased,
        Query(
            description="Erased (anonymised) records: left out by default; 'include' "
            "lists them too, 'only' lists just them. Search never matches them."
        ),
    ] = "exclude",
    cf: Annotated[
        list[Line] | None,
        Query(
            max_length=20,
            description="Custom field filters, each <key>:<value> (the value as the field "
            "holds it: yes-no as true/false, a date as YYYY-MM-DD); every one must match.",
        ),
    ] = None,
) -> Filters:
    return Filters(
        q=q,
        status=[s.value for s in status or []],
        credits_min=credits_min,
        credits_max=credits_max,
        has_credits=has_credits,
        last_activity_within_days=last_activity_within_days,
        inactive_for_days=inactive_for_days,
        registered_from=registered_from,
        registered_to=registered_to,
        bookings_min=bookings_min,
        bookings_max=bookings_max,
        tags=tag or [],
        engagement=engagement.value if engagement else None,
        tab=tab,
        erased=erased,
        custom_given=_custom_given(cf or []),
    )


FiltersDep = Annotated[Filters, Depends(list_filters)]


async def sort_order(
    filters: FiltersDep,
    sort: Annotated[
        str | None,
        Query(
            max_length=50,
            description="last_activity, revenue, bookings, purchased_credits, last_name, "
            "created or relevance (a search's best match first); a leading '-' sorts "
            f"descending. Default: a search of {RANKED_FROM} or more characters by "
            f"relevance, else newest activity first ({DEFAULT_SORT}).",
        ),
    ] = None,
) -> Sort:
    return Sort.of(sort, filters)


SortDep = Annotated[Sort, Depends(sort_order)]


@router.get("", response_model=CustomerPage)
async def list_customers(
    filters: FiltersDep,
    order: SortDep,
    uow: UnitOfWorkDep,
    principal: StaffPrincipal,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> Response:
    after = list_cursor(cursor, order)
    rows = await listing.page(uow, principal, filters, order, after=after, limit=limit + 1)
    items, next_cursor = split_page(rows, limit, lambda row: list_cursor_of(order, row))
    page = {"items": [CustomerRow.fields_of(r) for r in items], "next_cursor": next_cursor}
    return answer(CustomerPage.model_validate(page))


@router.get("/stats", response_model=Stats)
async def customer_stats(uow: UnitOfWorkDep, principal: StaffPrincipal) -> Response:
    """Dashboard figures and the tab counts."""
    return answer(Stats.model_validate(await listing.stats(uow, principal)))


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The CSV file"}},
)
async def export_csv(
    filters: FiltersDep,
    order: SortDep,
    rt: CustomersRuntime,
    uow: UnitOfWorkDep,
    principal: StaffPrincipal,
    id: Annotated[
        list[uuid.UUID] | None,
        Query(max_length=1000, description="Export just these customers (a selection)"),
    ] = None,
) -> StreamingResponse:
    """The filtered list (or a selection) as CSV, streamed from a server-side cursor."""
    if id:
        filters.ids = id
    custom = await listing.export_columns(uow, principal, filters)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        listing.export_csv(rt.uow, principal, filters, order, custom),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="customers-{stamp}.csv"'},
    )


@router.post("/bulk", response_model=BulkResult)
async def bulk_action(
    body: BulkRequest, uow: UnitOfWorkDep, principal: StaffPrincipal
) -> BulkResult:
    """One action on a selection, all or nothing. Status and tag changes publish the
    same per-customer events as single edits; a message is one request to notifications."""
    change = BulkChange.of(
        body.action,
        status=body.status,
        tag=body.tag,
        channel=body.channel,
        subject=body.subject,
        body=body.body,
    )
    needed = Permission.send_emails if change.is_message else Permission.add_participants
    if not principal.can(needed):
        raise Forbidden(f"This action needs the '{needed.value}' permission.")
    outcome = await customers.bulk(uow, principal, change, body.ids)
    return BulkResult(
        action=body.action,
        selected=outcome.selected,
        changed=outcome.changed,
        request_id=outcome.request_id,
    )
