"""/v1/bookings: book, pay through the saga, cancel, reschedule, check in (S2, S4 to S7)."""

from __future__ import annotations

import asyncio
import re
import uuid
from typing import Annotated, Any, Literal

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from fastapi import APIRouter, Header, Query, Response, status
from sqlalchemy import RowMapping

from frontdesk.contracts.scheduling import (
    BookingAttended,
    BookingNoShow,
    BookingRescheduled,
)
from frontdesk.kit.auth import CurrentPrincipal, Permission, Principal
from frontdesk.kit.idempotency import IdempotencyKey
from frontdesk.kit.pagination import DEFAULT_PAGE, PageLimit, split_page
from frontdesk.kit.problems import Conflict, FieldError, Forbidden, InvalidInput, NotFound
from frontdesk.kit.service import Runtime, RuntimeDep
from frontdesk.kit.uow import UnitOfWork
from frontdesk.scheduling import saga
from frontdesk.scheduling.adapters.repository import Repository
from frontdesk.scheduling.api.deps import (
    after_start,
    claim_key,
    customer_scope,
    database_conflicts,
    domain_errors,
    start_cursor,
)
from frontdesk.scheduling.api.schemas import (
    BookingCancel,
    BookingCreate,
    BookingOut,
    BookingPage,
    BookingReschedule,
)
from frontdesk.scheduling.domain import time as tz
from frontdesk.scheduling.domain.booking import (
    BookingStatus,
    CancellationPolicy,
    check_booking_move,
)

router = APIRouter(prefix="/v1/bookings", tags=["bookings"])
_WAIT = re.compile(r"(?:^|[\s,;])wait\s*=\s*(\d+(?:\.\d+)?)", re.IGNORECASE)


def _may_book_for_others(principal: Principal) -> None:
    if not principal.is_customer and not principal.can(Permission.add_participants):
        raise Forbidden("Booking customers needs the 'add_participants' permission.")


def _clean_guest(body: BookingCreate) -> dict[str, Any]:
    assert body.guest is not None
    try:
        email = validate_email(
            body.guest.email.strip(), check_deliverability=False
        ).normalized.lower()
    except EmailNotValidError as error:
        raise InvalidInput.for_field("guest.email", str(error)) from None
    phone = None
    if body.guest.phone:
        try:
            number = phonenumbers.parse(body.guest.phone, None)
            if not phonenumbers.is_valid_number(number):
                raise ValueError("not a valid phone number")
        except (phonenumbers.NumberParseException, ValueError) as error:
            raise InvalidInput.for_field(
                "guest.phone", f"not a phone number in international form: {error}"
            ) from None
        phone = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    first, last = " ".join(body.guest.first_name.split()), " ".join(body.guest.last_name.split())
    for field, value in (("guest.first_name", first), ("guest.last_name", last)):
        if not value:
            raise InvalidInput.for_field(field, "must not be empty")
    return {
        "guest_first_name": first,
        "guest_last_name": last,
        "guest_email": email,
        "guest_phone": phone,
    }


def _prefer_wait(prefer: str | None, rt: Runtime) -> float:
    if not prefer:
        return 0.0
    match = _WAIT.search(prefer)
    if match is None:
        return 0.0
    return min(float(match.group(1)), float(getattr(rt.settings, "max_prefer_wait_seconds", 10.0)))


async def _read(
    rt: Runtime, tenant_id: uuid.UUID, booking_id: uuid.UUID
) -> tuple[RowMapping, RowMapping] | None:
    async with rt.uow() as uow:
        return await _read_in(Repository(uow.session, tenant_id), booking_id)


async def _read_in(repo: Repository, booking_id: uuid.UUID) -> tuple[RowMapping, RowMapping] | None:
    booking = await repo.booking(booking_id)
    if booking is None:
        return None
    session = await repo.session_row(booking["session_id"])
    assert session is not None
    return booking, session


async def _book(
    uow: UnitOfWork,
    repo: Repository,
    body: BookingCreate,
    who: dict[str, Any],
    booking_id: uuid.UUID,
) -> tuple[RowMapping, RowMapping]:
    """Take the seat, add the booking and start the saga (the caller commits)."""
    if body.customer_id is not None and await repo.customer_status(body.customer_id) in (
        "blocked",
        "deleted",
    ):
        raise Conflict.for_field(
            "customer_id",
            "This customer is blocked from booking.",
            title="Customer blocked",
        )
    # Locked: a concurrent cancel or edit of the session is seen (a booking never slips
    # into a just-cancelled session, and its event carries the session's current time).
    session = await repo.session_row(body.session_id, for_update=True)
    if session is None:
        raise InvalidInput.for_field("session_id", "no such session")
    if session["status"] != "scheduled":
        raise Conflict.for_field("session_id", "The session is cancelled.")
    if session["starts_at"] <= tz.now():
        raise Conflict.for_field("session_id", "The session has already started.")
    if body.seats > 0:
        taken = await repo.take_seats(body.session_id, body.seats)
        if taken is None:
            left = session["capacity"] - session["seats_taken"]
            raise Conflict.for_field(
                "seats", f"Not enough free seats ({left} left).", title="Session full"
            )
        session = taken
    reminder = body.seats == 0
    booking = await repo.add_booking(
        {
            "id": booking_id,
            "session_id": body.session_id,
            **who,
            "seats": body.seats,
            "notes": body.notes,
            "payment_method": "free" if reminder else session["payment_method"],
            "credits": session["credits"] * body.seats,
            "price_minor": session["price_minor"] * body.seats,
            "currency": session["currency"],
        }
    )
    booking = await saga.start(uow, repo, booking, session)
    return booking, session


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
    },
)
async def create_booking(
    body: BookingCreate,
    response: Response,
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    prefer: Annotated[
        str | None, Header(description="wait=N (N ≤ 10): wait for the outcome up to N seconds")
    ] = None,
    idempotency_key: IdempotencyKey = None,
) -> BookingOut:
    """Take the seat and start the saga. Answers 202 with the pending booking, or 201 once
    confirmed or rejected (at once for free and pay-per-session customer bookings). A repeat
    with the same Idempotency-Key answers the first booking as it is now (200)."""
    if principal.is_customer:
        if body.guest is not None or body.customer_id not in (None, principal.customer_id):
            raise NotFound("No such customer.")
        body = body.model_copy(update={"customer_id": principal.customer_id})
    else:
        _may_book_for_others(principal)
    if (body.customer_id is None) == (body.guest is None):
        raise InvalidInput(
            "Give either customer_id or guest (name and email).",
            errors=[
                FieldError(field="customer_id", message="customer_id or guest"),
                FieldError(field="guest", message="customer_id or guest"),
            ],
        )
    who: dict[str, Any] = {"customer_id": body.customer_id}
    if body.guest is not None:
        who = _clean_guest(body)
    wait = _prefer_wait(prefer, rt)
    tenant = principal.tenant_id
    replayed = False
    with database_conflicts():
        async with rt.uow() as uow:
            repo = Repository(uow.session, tenant)
            booking_id = uuid.uuid4()
            earlier = await claim_key(repo, "booking", idempotency_key, body, booking_id)
            if earlier is not None:
                found = await _read_in(repo, earlier)
                if found is None or (
                    principal.is_customer and found[0]["customer_id"] != principal.customer_id
                ):
                    raise NotFound("No such booking.")
                booking, session = found
                replayed = True
            else:
                booking, session = await _book(uow, repo, body, who, booking_id)
                await uow.commit()
    response.headers["Location"] = f"/v1/bookings/{booking['id']}"
    if wait and booking["status"] == BookingStatus.pending:
        response.headers["Preference-Applied"] = f"wait={wait:g}"
        deadline = asyncio.get_running_loop().time() + wait
        while asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
            found = await _read(rt, tenant, booking["id"])
            if found and found[0]["status"] != BookingStatus.pending:
                booking, session = found
                break
    if replayed:
        response.status_code = status.HTTP_200_OK
        response.headers["Idempotent-Replayed"] = "true"
    elif booking["status"] != BookingStatus.pending:
        response.status_code = status.HTTP_201_CREATED
    return BookingOut.of(booking, session)


@router.get("", response_model=BookingPage)
async def list_bookings(
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    customer_id: uuid.UUID | None = None,
    session_id: uuid.UUID | None = None,
    status_: Annotated[BookingStatus | None, Query(alias="status")] = None,
    when: Literal["upcoming", "past"] | None = None,
    limit: PageLimit = DEFAULT_PAGE,
    cursor: str | None = None,
) -> BookingPage:
    """Upcoming (soonest first) and past (latest first) per customer, or any filter."""
    customer_id = customer_scope(principal, customer_id)
    after = after_start(cursor)
    async with rt.uow() as uow:
        rows = await Repository(uow.session, principal.tenant_id).list_bookings(
            customer_id=customer_id,
            session_id=session_id,
            status=status_.value if status_ else None,
            when=when,
            at=tz.now(),
            after=after,
            limit=limit + 1,
        )
    rows, next_cursor = split_page(rows, limit, start_cursor)
    return BookingPage(
        items=[BookingOut.of(r) for r in rows],
        next_cursor=next_cursor,
    )


@router.get("/next", response_model=BookingOut | None)
async def next_booking(
    rt: RuntimeDep, principal: CurrentPrincipal, customer_id: uuid.UUID | None = None
) -> BookingOut | None:
    """The customer's next session (null when nothing is coming up)."""
    customer_id = customer_scope(principal, customer_id)
    if customer_id is None:
        raise InvalidInput.for_field("customer_id", "required")
    async with rt.uow() as uow:
        rows = await Repository(uow.session, principal.tenant_id).list_bookings(
            customer_id=customer_id,
            session_id=None,
            status=None,
            when="upcoming",
            at=tz.now(),
            after=None,
            limit=1,
        )
    return BookingOut.of(rows[0]) if rows else None


@router.get("/{booking_id}", response_model=BookingOut)
async def get_booking(
    booking_id: uuid.UUID, rt: RuntimeDep, principal: CurrentPrincipal
) -> BookingOut:
    found = await _read(rt, principal.tenant_id, booking_id)
    if found is None or (
        principal.is_customer and found[0]["customer_id"] != principal.customer_id
    ):
        raise NotFound("No such booking.")
    return BookingOut.of(*found)


async def _locked(
    repo: Repository, principal: Principal, booking_id: uuid.UUID
) -> tuple[RowMapping, RowMapping]:
    locked = await repo.lock_booking(booking_id)
    if locked is None or (
        principal.is_customer and locked[0]["customer_id"] != principal.customer_id
    ):
        raise NotFound("No such booking.")
    return locked


async def _policy(repo: Repository, rt: Runtime) -> CancellationPolicy:
    hours = await repo.free_cancel_hours()
    return CancellationPolicy(
        hours if hours is not None else int(getattr(rt.settings, "free_cancel_hours", 24))
    )


@router.post("/{booking_id}/cancel", response_model=BookingOut)
async def cancel_booking(
    booking_id: uuid.UUID,
    rt: RuntimeDep,
    principal: CurrentPrincipal,
    body: BookingCancel | None = None,
) -> BookingOut:
    """Free until the policy's hours before the start (refund); later forfeits (late)."""
    if not principal.is_customer:
        _may_book_for_others(principal)
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        booking, session = await _locked(repo, principal, booking_id)
        with domain_errors():
            check_booking_move(booking["status"], "cancel")
        policy = await _policy(repo, rt)
        paid = booking["payment_method"] != "free" and booking["seats"] > 0
        late, refund = policy.refund(starts_at=session["starts_at"], at=tz.now(), paid=paid)
        row = await saga.cancel(
            uow,
            repo,
            booking,
            session,
            refund=refund,
            late=late,
            cancelled_by="customer" if principal.is_customer else "staff",
            reason=body.reason if body else None,
        )
        await uow.commit()
    return BookingOut.of(row, session)


@router.post("/{booking_id}/reschedule", response_model=BookingOut)
async def reschedule_booking(
    booking_id: uuid.UUID, body: BookingReschedule, rt: RuntimeDep, principal: CurrentPrincipal
) -> BookingOut:
    """Move a confirmed booking to another session of the same price, within the free
    cancellation window (admins may move it later)."""
    if not principal.is_customer:
        _may_book_for_others(principal)
    with database_conflicts():
        async with rt.uow() as uow:
            repo = Repository(uow.session, principal.tenant_id)
            booking, old = await _locked(repo, principal, booking_id)
            with domain_errors():
                check_booking_move(booking["status"], "reschedule")
            if body.session_id == old["id"]:
                raise InvalidInput.for_field("session_id", "the booking is already there")
            new = await repo.session_row(body.session_id, for_update=True)
            if new is None:
                raise InvalidInput.for_field("session_id", "no such session")
            if new["status"] != "scheduled" or new["starts_at"] <= tz.now():
                raise Conflict.for_field("session_id", "That session cannot be booked.")
            seats = booking["seats"]
            same_price = (booking["payment_method"] == "free" and seats == 0) or (
                new["payment_method"] == booking["payment_method"]
                and new["credits"] * seats == booking["credits"]
                and new["price_minor"] * seats == booking["price_minor"]
                and new["currency"] == booking["currency"]
            )
            if not same_price:
                raise Conflict.for_field(
                    "session_id", "That session has another price; cancel and book it instead."
                )
            policy = await _policy(repo, rt)
            if policy.is_late(old["starts_at"], tz.now()) and not principal.is_admin:
                raise Conflict.for_field(
                    "booking_id",
                    f"Too late to reschedule (less than "
                    f"{policy.free_cancel_hours} hours before the start).",
                )
            if seats > 0:
                taken = await repo.take_seats(new["id"], seats)
                if taken is None:
                    raise Conflict.for_field(
                        "seats", "The new session has no free seats.", title="Session full"
                    )
                new = taken
                await repo.free_seats(old["id"], seats)
            row = await repo.update_booking(booking_id, {"session_id": new["id"]})
            await saga.publish(
                uow, repo, BookingRescheduled, row, new, previous_starts_at=old["starts_at"]
            )
            await uow.commit()
    return BookingOut.of(row, new)


async def _attendance(
    rt: Runtime, principal: Principal, booking_id: uuid.UUID, action: str
) -> BookingOut:
    if principal.is_customer:
        raise Forbidden("Attendance is recorded by staff.")
    async with rt.uow() as uow:
        repo = Repository(uow.session, principal.tenant_id)
        booking, session = await _locked(repo, principal, booking_id)
        with domain_errors():
            check_booking_move(booking["status"], action)
        if action == "check_in":
            row = await repo.update_booking(
                booking_id, {"status": BookingStatus.attended.value, "checked_in_at": tz.now()}
            )
            await saga.publish(uow, repo, BookingAttended, row, session)
        else:
            row = await repo.update_booking(
                booking_id, {"status": BookingStatus.no_show.value, "refund": False}
            )
            await saga.publish(uow, repo, BookingNoShow, row, session)
        await uow.commit()
    return BookingOut.of(row, session)


@router.post("/{booking_id}/check-in", response_model=BookingOut)
async def check_in(
    booking_id: uuid.UUID, rt: RuntimeDep, principal: CurrentPrincipal
) -> BookingOut:
    """The customer came: the booking is attended (completed)."""
    return await _attendance(rt, principal, booking_id, "check_in")


@router.post("/{booking_id}/no-show", response_model=BookingOut)
async def no_show(booking_id: uuid.UUID, rt: RuntimeDep, principal: CurrentPrincipal) -> BookingOut:
    """The customer did not come: the credit or price is kept."""
    return await _attendance(rt, principal, booking_id, "no_show")
