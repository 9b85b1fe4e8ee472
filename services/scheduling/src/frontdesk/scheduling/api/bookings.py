"""/v1/bookings: book, pay through the saga, cancel, reschedule, check in (S2, S4 to S7)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Query, Response, status

from frontdesk.kit.auth import CurrentPrincipal
from frontdesk.kit.errors import NotFoundError
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.service import UnitOfWorkDep
from frontdesk.scheduling.api.common import (
    Attendant,
    DefaultPolicy,
    SchedulingRuntime,
    after_start,
    idempotency,
    may_book_for_others,
    prefer_wait,
    start_cursor,
)
from frontdesk.scheduling.api.schemas import (
    BookingCancel,
    BookingCreate,
    BookingOut,
    BookingPage,
    BookingReschedule,
)
from frontdesk.scheduling.application import bookings
from frontdesk.scheduling.domain.bookings import BookingStatus

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])

# This process's count of each tenant's bookings awaiting payment (admission in a rush).
_backlogs: dict[int, bookings.SagaBacklog] = {}


def saga_backlog(limit: int) -> bookings.SagaBacklog:
    return _backlogs.setdefault(limit, bookings.SagaBacklog(limit))


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=BookingOut,
    responses={
        201: {
            "model": BookingOut,
            "description": "Decided already (or within the Prefer: wait time)",
        },
        200: {"model": BookingOut, "description": "Replay of an earlier booking (same key)"},
        409: {
            "description": "Full, already booked, blocked, not bookable, "
            "or the Idempotency-Key was used for another booking"
        },
        503: {"description": "Too many bookings await payment: try again after Retry-After"},
    },
)
async def create_booking(
    body: BookingCreate,
    response: Response,
    rt: SchedulingRuntime,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    prefer: Annotated[
        str | None, Header(description="wait=N (N ≤ 10): wait for the outcome up to N seconds")
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> BookingOut:
    """Take the seat and start the saga. Answers 202 with the pending booking, or 201 once
    confirmed or rejected (at once for free and pay-per-session customer bookings). A repeat
    with the same Idempotency-Key answers the first booking as it is now (200). With
    ``waitlist: true`` a full session answers 202 with a ``waitlisted`` booking and its
    ``waitlist_position`` (a freed seat promotes it through the saga). A customer token
    may book for a member of its household (it pays); staff name ``payer_customer_id``."""
    if principal.is_customer:
        if body.guest is not None:
            raise NotFoundError.of("customer")
        if body.customer_id is None:  # itself; another id must be a member it pays for
            body = body.model_copy(update={"customer_id": principal.customer_id})
    else:
        may_book_for_others(principal)
    view, replayed = await bookings.request_booking(
        uow,
        principal,
        body.request(),
        idempotency(idempotency_key, body),
        backlog=saga_backlog(rt.settings.saga_backlog_limit),
    )
    booking = view.booking
    response.headers["Location"] = f"/v1/bookings/{booking.id}"
    wait = prefer_wait(prefer, rt.settings.max_prefer_wait_seconds)
    if wait and booking.pending:
        response.headers["Preference-Applied"] = f"wait={wait:g}"
        view = (
            await bookings.wait_for_outcome(
                rt.uow, rt.notices, principal.tenant_id, booking.id, wait
            )
            or view
        )
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    elif not (view.booking.pending or view.booking.waiting):
        response.status_code = status.HTTP_201_CREATED
    return BookingOut.of(view)


@router.get("", response_model=BookingPage)
async def list_bookings(
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    status_: Annotated[BookingStatus | None, Query(alias="status")] = None,
    when: Literal["upcoming", "past"] | None = None,
    include_household: bool = False,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> BookingPage:
    """Upcoming (soonest first, waitlist places included) and past (latest first) per
    customer, or any filter. ``include_household`` (with a customer): also the bookings
    of the household members it pays for."""
    customer_id = principal.customer_scope(customer_id)
    rows = await bookings.list_bookings(
        uow,
        principal,
        customer_id=customer_id,
        session_id=session_id,
        status=status_.value if status_ else None,
        when=when,
        after=after_start(cursor),
        limit=limit + 1,
        include_household=include_household,
    )
    page, next_cursor = split_page(rows, limit, start_cursor)
    return BookingPage(items=[BookingOut.of(v) for v in page], next_cursor=next_cursor)


@router.get("/next", response_model=BookingOut | None)
async def next_booking(
    uow: UnitOfWorkDep, principal: CurrentPrincipal, customer_id: uuid.UUID | None = None
) -> BookingOut | None:
    """The customer's next session (null when nothing is coming up)."""
    customer_id = principal.customer_scope(customer_id)
    view = await bookings.next_booking(uow, principal, customer_id)
    return None if view is None else BookingOut.of(view)


@router.get("/{booking_id}", response_model=BookingOut)
async def get_booking(
    booking_id: uuid.UUID, uow: UnitOfWorkDep, principal: CurrentPrincipal
) -> BookingOut:
    return BookingOut.of(await bookings.get_booking(uow, principal, booking_id))


@router.post("/{booking_id}/cancel", response_model=BookingOut)
async def cancel_booking(
    booking_id: uuid.UUID,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    default: DefaultPolicy,
    body: BookingCancel | None = None,
) -> BookingOut:
    """Free until the policy's hours before the start (refund); later forfeits (late)."""
    may_book_for_others(principal)
    view = await bookings.cancel_booking(
        uow, principal, booking_id, reason=body.reason if body else None, default_policy=default
    )
    return BookingOut.of(view)


@router.post("/{booking_id}/reschedule", response_model=BookingOut)
async def reschedule_booking(
    booking_id: uuid.UUID,
    body: BookingReschedule,
    uow: UnitOfWorkDep,
    principal: CurrentPrincipal,
    default: DefaultPolicy,
) -> BookingOut:
    """Move a confirmed booking to another session of the same price, within the free
    cancellation window (admins may move it later)."""
    may_book_for_others(principal)
    view = await bookings.reschedule_booking(
        uow, principal, booking_id, session_id=body.session_id, default_policy=default
    )
    return BookingOut.of(view)


@router.post("/{booking_id}/check-in", response_model=BookingOut)
async def check_in(booking_id: uuid.UUID, uow: UnitOfWorkDep, principal: Attendant) -> BookingOut:
    """The customer came: the booking is attended (completed)."""
    return BookingOut.of(await bookings.check_in(uow, principal, booking_id))


@router.post("/{booking_id}/no-show", response_model=BookingOut)
async def no_show(booking_id: uuid.UUID, uow: UnitOfWorkDep, principal: Attendant) -> BookingOut:
    """The customer did not come: the credit or price is kept."""
    return BookingOut.of(await bookings.mark_no_show(uow, principal, booking_id))
