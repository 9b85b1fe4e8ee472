"""/v1/customers (list), /stats, /export.csv and /bulk: the whole-list views and actions."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from frontdesk.contracts.customers import BulkMessageRequested
from frontdesk.customers.adapters import queries
from frontdesk.customers.adapters.queries import BadQuery, Filters, Sort
from frontdesk.customers.adapters.repository import CustomerRepository
from frontdesk.customers.api.customers import apply_changes
from frontdesk.customers.api.schemas import (
    BulkRequest,
    BulkResult,
    CustomerPage,
    CustomerRow,
    Stats,
)
from frontdesk.customers.domain import export
from frontdesk.customers.domain.customer import ContactError, Status, clean_tag, unprintable
from frontdesk.customers.domain.engagement import Engagement
from frontdesk.kit.auth import Permission, StaffPrincipal
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit
from frontdesk.kit.problems import Conflict, Forbidden, InvalidInput, Problem
from frontdesk.kit.service import RuntimeDep

router = APIRouter(prefix="/v1/customers", tags=["customer list"])

# Counters are PostgreSQL integers: a bound beyond them is a bad request, not an overflow.
INT_MAX = 2**31 - 1
Count = Annotated[int | None, Query(ge=0, le=INT_MAX)]
Tab = Literal["all", "with_credits", "paused_credits", "no_credits", "inactive"]
Erased = Literal["exclude", "include", "only"]
EXPORT_CHUNK = 500


def list_filters(
    q: Annotated[
        str | None, Query(max_length=200, description="Name (typo-tolerant), email or phone")
    ] = None,
    status: Annotated[list[Status] | None, Query()] = None,
    credits_min: Count = None,
    credits_max: Count = None,
    has_credits: bool | None = None,
    last_activity_within_days: Annotated[int | None, Query(ge=0, le=36500)] = None,
    inactive_for_days: Annotated[int | None, Query(ge=0, le=36500)] = None,
    registered_from: date | None = None,
    registered_to: date | None = None,
    bookings_min: Count = None,
    bookings_max: Count = None,
    tag: Annotated[list[str] | None, Query(description="Every tag given must be set")] = None,
    engagement: Engagement | None = None,
    tab: Tab = "all",
    erased: Annotated[
        Erased,
        Query(
            description="Erased (anonymised) records: left out by default; 'include' "
            "lists them too, 'only' lists just them. Search never matches them."
        ),
    ] = "exclude",
) -> Filters:
    if q is not None and unprintable(q):
        raise InvalidInput.for_field("q", "must not contain control characters")
    tags: list[str] = []
    for raw in tag or []:
        try:
            tags.append(clean_tag(raw))
        except ContactError as error:
            raise InvalidInput.for_field("tag", str(error)) from None
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
        tags=tags,
        engagement=engagement.value if engagement else None,
        tab=tab,
        erased=erased,
    )


FiltersDep = Annotated[Filters, Depends(list_filters)]
SortParam = Annotated[
    str,
    Query(
        description="last_activity, revenue, bookings, purchased_credits or last_name; "
        "a leading '-' sorts descending. Default: newest activity first."
    ),
]


def _sort(raw: str) -> Sort:
    try:
        return Sort.parse(raw)
    except BadQuery as error:
        raise InvalidInput.for_field(error.field, str(error)) from None


@router.get("", response_model=CustomerPage)
async def list_customers(
    filters: FiltersDep,
    rt: RuntimeDep,
    principal: StaffPrincipal,
    sort: SortParam = queries.DEFAULT_SORT,
    cursor: Annotated[str | None, Query(max_length=1000)] = None,
    limit: PageLimit = DEFAULT_PAGE,
) -> CustomerPage:
    order = _sort(sort)
    async with rt.uow() as uow:
        try:
            rows, next_cursor = await queries.page(
                uow.session,
                principal.tenant_id,
                filters,
                order,
                cursor=cursor,
                limit=limit,
                now=datetime.now(UTC),
            )
        except BadQuery as error:
            raise Problem.for_field(error.field, str(error), title="Bad cursor") from None
    return CustomerPage(items=[CustomerRow.of(r) for r in rows], next_cursor=next_cursor)


@router.get("/stats", response_model=Stats)
async def customer_stats(rt: RuntimeDep, principal: StaffPrincipal) -> Stats:
    """Dashboard figures and the tab counts."""
    async with rt.uow() as uow:
        return Stats.model_validate(await queries.stats(uow.session, principal.tenant_id))


@router.get(
    "/export.csv",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/csv": {}}, "description": "The CSV file"}},
)
async def export_csv(
    filters: FiltersDep,
    rt: RuntimeDep,
    principal: StaffPrincipal,
    sort: SortParam = queries.DEFAULT_SORT,
    id: Annotated[
        list[uuid.UUID] | None,
        Query(max_length=1000, description="Export just these customers (a selection)"),
    ] = None,
) -> StreamingResponse:
    """The filtered list (or a selection) as CSV, streamed from a server-side cursor."""
    order = _sort(sort)
    if id:
        filters.ids = id
    stmt = queries.list_statement(principal.tenant_id, filters, order, now=datetime.now(UTC))
    engine = rt.engine

    async def lines() -> AsyncIterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(export.COLUMNS)
        async with engine.connect() as conn:
            result = await conn.stream(stmt.execution_options(yield_per=EXPORT_CHUNK))
            count = 0
            async for row in result.mappings():
                writer.writerow(export.cells(row))
                count += 1
                if count % EXPORT_CHUNK == 0:
                    yield buffer.getvalue()
                    buffer.seek(0)
                    buffer.truncate()
        yield buffer.getvalue()

    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return StreamingResponse(
        lines(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="customers-{stamp}.csv"'},
    )


def _check_bulk(body: BulkRequest) -> None:
    if body.action == "set_status" and body.status is None:
        raise InvalidInput.for_field("status", "set_status needs a status")
    if body.action in ("add_tag", "remove_tag"):
        try:
            clean_tag(body.tag or "")
        except ContactError as error:
            raise InvalidInput.for_field("tag", f"{body.action} needs a tag: {error}") from None
    if body.action == "message":
        if body.channel is None:
            raise InvalidInput.for_field("channel", "message needs a channel (email or sms)")
        if not (body.body and body.body.strip()):
            raise InvalidInput.for_field("body", "message needs a body")
        if body.channel == "email" and not (body.subject and body.subject.strip()):
            raise InvalidInput.for_field("subject", "an email needs a subject")


@router.post("/bulk", response_model=BulkResult)
async def bulk_action(body: BulkRequest, rt: RuntimeDep, principal: StaffPrincipal) -> BulkResult:
    """One action on a selection, all or nothing. Status and tag changes publish the
    same per-customer events as single edits; a message is one request to notifications."""
    _check_bulk(body)
    needed = Permission.send_emails if body.action == "message" else Permission.add_participants
    if not principal.can(needed):
        raise Forbidden(f"This action needs the '{needed.value}' permission.")
    ids = list(dict.fromkeys(body.ids))
    async with rt.uow() as uow:
        repo = CustomerRepository(uow.session, principal.tenant_id)
        rows = await repo.get_many_for_update(ids)
        found = {r["id"] for r in rows}
        missing = [str(i) for i in ids if i not in found]
        if missing:
            raise InvalidInput.for_field("ids", "unknown customers: " + ", ".join(missing))
        erased = [str(r["id"]) for r in rows if r["erased_at"] is not None]
        if erased:
            raise Conflict("Erased customers cannot be changed or messaged: " + ", ".join(erased))
        changed = 0
        request_id = None
        if body.action == "message":
            request_id = uuid.uuid4()
            assert body.channel is not None and body.body is not None
            uow.publish(
                BulkMessageRequested(
                    request_id=request_id,
                    customer_ids=ids,
                    channel=body.channel,
                    subject=body.subject,
                    body=body.body,
                    requested_by=principal.sub,
                ),
                tenant_id=principal.tenant_id,
                aggregate_id=request_id,
                aggregate_version=1,
            )
        else:
            for current in rows:
                if body.action == "set_status":
                    assert body.status is not None
                    changes: dict[str, object] = {"status": body.status.value}
                else:
                    assert body.tag is not None
                    tag = clean_tag(body.tag)
                    tags = set(current["tags"])
                    tags = tags | {tag} if body.action == "add_tag" else tags - {tag}
                    changes = {"tags": sorted(tags)}
                row = await apply_changes(uow, principal.tenant_id, current, changes)
                changed += row is not current
        await uow.commit()
    return BulkResult(action=body.action, selected=len(ids), changed=changed, request_id=request_id)
