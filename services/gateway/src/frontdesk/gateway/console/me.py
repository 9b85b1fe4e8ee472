"""Customer self-service at ``/me/``: sign in by an emailed one-time link (or a password
the customer set), the own dashboard (next sessions, credits, membership, invoices), the
week's classes with free seats, booking (paid by credits; the saga's outcome is shown),
cancelling with the late-cancel consequence stated first, buying credits, the own profile,
password and message preferences. A customer token reaches only its own data; the API
enforces it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request, Response

from frontdesk.gateway.console.pages import (
    SELF_SERVICE,
    Visit,
    idempotent,
    local_time,
    parse_time,
    route_class,
)
from frontdesk.kit.problems import Problem

router = APIRouter(route_class=route_class(SELF_SERVICE), include_in_schema=False)


# --- signing in ------------------------------------------------------------------------


def _back_to(value: Any) -> str:
    """Where to go after signing in: a self-service page only (never another site)."""
    if isinstance(value, str) and value.startswith("/me/") and "//" not in value:
        return value
    return "/me/"


@router.get("/me/sign-in")
async def sign_in_page(
    request: Request,
    token: str | None = None,
    tenant: str | None = None,
    method: str | None = None,
    next: str | None = None,
) -> Response:
    """With the emailed link's ``token``: a button that uses it (a mail scanner that
    fetches the link must not use up the one-time secret); else the form asking for one,
    or with ``method=password`` the form for the customer's password."""
    visit = await Visit.open(request, SELF_SERVICE, signed_in=False)
    if token:
        return await visit.render("me/redeem.html", token=token)
    return await visit.render(
        "me/sign_in.html",
        values={"tenant": tenant or ""},
        errors={},
        with_password=method == "password",
        next=_back_to(next),
    )


@router.post("/me/sign-in")
async def ask_for_link(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE, signed_in=False)
    form = await visit.form()
    body = {k: str(form.get(k, "")).strip() for k in ("tenant", "email")}
    answer = await visit.api.call("POST", "/v1/auth/sign-in-link", json=body, token=False)
    if answer.ok:
        return await visit.render("me/link_sent.html", email=body["email"])
    return await visit.render(
        "me/sign_in.html",
        status=answer.status,
        values=body,
        errors=answer.field_errors(),
        error=answer.message,
        next="/me/",
    )


@router.post("/me/sign-in/password")
async def sign_in_with_password(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE, signed_in=False)
    form = await visit.form()
    body = {k: str(form.get(k, "")).strip() for k in ("tenant", "email")}
    # The password as typed (spaces count), and never shown again.
    secret = {"password": str(form.get("password", ""))}
    answer = await visit.api.call(
        "POST", "/v1/auth/customer-login", json={**body, **secret}, token=False
    )
    if answer.ok and answer.body.get("role") == "customer":
        visit.session.take_tokens(answer.body)
        visit.dirty = True
        return visit.redirect(_back_to(form.get("next")), "You are signed in.")
    return await visit.render(
        "me/sign_in.html",
        status=answer.status,
        values=body,
        errors=answer.field_errors(),
        error=answer.message,
        with_password=True,
        next=_back_to(form.get("next")),
    )


@router.post("/me/sign-in/redeem")
async def redeem(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE, signed_in=False)
    form = await visit.form()
    answer = await visit.api.call(
        "POST", "/v1/auth/sign-in-link/redeem", json={"token": form.get("token", "")}, token=False
    )
    if answer.ok and answer.body.get("role") == "customer":
        visit.session.take_tokens(answer.body)
        visit.dirty = True
        return visit.redirect("/me/", "You are signed in.")
    return await visit.render(
        "me/sign_in.html",
        status=401,
        values={},
        errors={},
        error="This sign-in link has expired or was used already. Ask for a new one below.",
    )


@router.post("/me/sign-out")
async def sign_out(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE, signed_in=False)
    await visit.form()
    if visit.session.signed_in:
        visit.api.token = visit.session.access_token
        await visit.api.call("POST", "/v1/auth/logout")
    visit.sign_out()
    return visit.redirect("/me/sign-in", "You are signed out.")


# --- the dashboard ---------------------------------------------------------------------


async def _me(visit: Visit) -> dict[str, Any]:
    answer = await visit.get("/v1/customers/me")
    if not answer.ok:
        raise Problem(answer.message, status=answer.status, title="Unavailable")
    found: dict[str, Any] = answer.body
    return found


@router.get("/me")
@router.get("/me/")
async def dashboard(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    me, upcoming, packages, invoices = await asyncio.gather(
        _me(visit),
        visit.get("/v1/bookings", when="upcoming", limit=10),
        visit.get("/v1/credit-packages", limit=50),
        visit.get("/v1/invoices", limit=10),
    )
    return await visit.render(
        "me/dashboard.html",
        customer=me,
        upcoming=upcoming.items(),
        packages=[p for p in packages.items() if p["status"] in ("active", "paused")],
        invoices=invoices,
    )


# --- classes and bookings --------------------------------------------------------------


def _monday(value: str | None, zone: ZoneInfo) -> date:
    today = datetime.now(zone).date()
    try:
        chosen = date.fromisoformat(value) if value else today
    except ValueError:
        chosen = today
    return chosen - timedelta(days=chosen.weekday())


@router.get("/me/classes")
async def classes(request: Request, week: str | None = None) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    tenant = await visit.tenant()
    zone = ZoneInfo(tenant["time_zone"])
    monday = _monday(week, zone)
    start = max(datetime.combine(monday, time(), zone), datetime.now(UTC))
    end = datetime.combine(monday + timedelta(days=7), time(), zone)
    found, mine = await asyncio.gather(
        visit.get(
            "/v1/sessions",
            starts_from=start.astimezone(UTC).isoformat(),
            starts_before=end.astimezone(UTC).isoformat(),
            limit=200,
        ),
        visit.get("/v1/bookings", when="upcoming", limit=200),
    )
    booked = {b["session_id"]: b for b in mine.items() if b["status"] in ("pending", "confirmed")}
    days: dict[date, list[dict[str, Any]]] = {}
    for session in found.items():
        if session["status"] == "cancelled":
            continue
        local = parse_time(session["local_starts_at"])
        assert local is not None
        days.setdefault(local.date(), []).append(session)
    this_week = _monday(None, zone)
    return await visit.render(
        "me/classes.html",
        days=sorted(days.items()),
        booked=booked,
        monday=monday,
        previous=(monday - timedelta(days=7)).isoformat() if monday > this_week else None,
        following=(monday + timedelta(days=7)).isoformat(),
        unavailable=not found.ok,
    )


@router.post("/me/book")
async def book(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    form = await visit.form()
    answer = await visit.call(
        "POST",
        "/v1/bookings",
        json={"session_id": form.get("session_id")},
        headers={"Prefer": "wait=5", **idempotent(form)},
    )
    back = "/me/classes" + (f"?week={form['week']}" if form.get("week") else "")
    if not answer.ok:
        return visit.redirect(back, f"Not booked: {answer.message}", "error")
    booking = answer.body
    tenant = await visit.tenant()
    when = local_time(booking.get("starts_at"), tenant["time_zone"])
    what = f"{booking.get('title') or 'the class'}, {when}"
    if booking["status"] == "confirmed":
        paid = booking["payment"]
        cost = f" {paid['credits']} credit(s) used." if paid["method"] == "credits" else ""
        return visit.redirect("/me/", f"You are booked: {what}.{cost}")
    if booking["status"] == "rejected":
        reason = str(booking.get("reason") or "").replace("_", " ")
        return visit.redirect(back, f"Not booked: {what}. {reason.capitalize()}.", "error")
    return visit.redirect("/me/", f"Booking requested: {what}. We are still confirming it.")


def _consequence(booking: dict[str, Any], free_hours: int | None) -> tuple[bool | None, str]:
    """Whether a cancel now is late (None: the policy is not known here) and what it
    costs, said before the customer confirms."""
    payment = booking["payment"]
    starts = parse_time(booking.get("starts_at"))
    paid_with = (
        f"{payment['credits']} credit(s)"
        if payment["method"] == "credits"
        else "the price"
        if payment["method"] == "pay_per_session"
        else None
    )
    if paid_with is None:
        return False, "This class is free: cancelling costs nothing."
    if free_hours is None or starts is None:
        return None, (
            f"Cancelling in time gives you {paid_with} back; a late cancellation keeps "
            f"{paid_with}. The studio's policy decides which this is."
        )
    deadline = starts - timedelta(hours=free_hours)
    if datetime.now(UTC) < deadline:
        return False, (
            f"You are within the free cancellation period (until {free_hours} h before the "
            f"start): {paid_with} will be refunded."
        )
    return True, (
        f"This is a late cancellation (less than {free_hours} h before the start): "
        f"{paid_with} will NOT be refunded."
    )


@router.get("/me/bookings/{booking_id}/cancel")
async def cancel_page(request: Request, booking_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    found, policy = await asyncio.gather(
        visit.get(f"/v1/bookings/{booking_id}"), visit.get("/v1/booking-policy")
    )
    if not found.ok:
        raise Problem("No such booking.", status=404, title="Not found")
    hours = int(policy.body["free_cancel_hours"]) if policy.ok else None
    late, consequence = _consequence(found.body, hours)
    return await visit.render(
        "me/cancel.html", booking=found.body, late=late, consequence=consequence
    )


@router.post("/me/bookings/{booking_id}/cancel")
async def cancel(request: Request, booking_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    await visit.form()
    answer = await visit.call("POST", f"/v1/bookings/{booking_id}/cancel")
    if not answer.ok:
        return visit.redirect("/me/", f"Not cancelled: {answer.message}", "error")
    booking = answer.body
    if booking.get("refund"):
        outcome = "Your credit was refunded." if booking["payment"]["method"] == "credits" else ""
    elif booking.get("late"):
        outcome = "It was a late cancellation, so nothing was refunded."
    else:
        outcome = ""
    return visit.redirect("/me/", f"Booking cancelled. {outcome}".strip())


# --- credits ---------------------------------------------------------------------------


@router.get("/me/credits")
async def credits(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    products, packages, balance = await asyncio.gather(
        visit.get("/v1/credit-products", limit=50),
        visit.get("/v1/credit-packages", limit=50),
        visit.get("/v1/credit-packages/balance"),
    )
    return await visit.render(
        "me/credits.html",
        products=[p for p in products.items() if p.get("active")],
        packages=packages.items(),
        balance=balance.body if balance.ok else None,
    )


@router.post("/me/credits/buy")
async def buy(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    form = await visit.form()
    answer = await visit.call(
        "POST",
        "/v1/credit-packages",
        json={"product_id": form.get("product_id")},
        headers=idempotent(form),
    )
    if answer.ok:
        package = answer.body
        return visit.redirect(
            "/me/credits", f"Bought '{package['name']}': {package['balance']} credits added."
        )
    return visit.redirect("/me/credits", f"Not bought: {answer.message}", "error")


# --- profile ---------------------------------------------------------------------------


async def _profile(visit: Visit, status: int = 200, **extra: Any) -> Response:
    me = await _me(visit)
    preferences, password = await asyncio.gather(
        visit.get(f"/v1/contact-preferences/{me['id']}"),
        visit.get("/v1/auth/customer-password"),
    )
    return await visit.render(
        "me/profile.html",
        status=status,
        customer=me,
        preferences=preferences.body if preferences.ok else None,
        password=password.body if password.ok else None,
        **{"values": me, "errors": {}, "password_errors": {}, **extra},
    )


@router.get("/me/profile")
async def profile(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    return await _profile(visit)


@router.post("/me/profile")
async def edit_profile(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    form = await visit.form()
    body = {k: (str(form.get(k, "")).strip() or None) for k in ("first_name", "last_name")}
    body.update({k: (str(form.get(k, "")).strip() or None) for k in ("email", "phone")})
    answer = await visit.call(
        "PATCH",
        f"/v1/customers/{visit.me.customer_id}",
        json=body,
        headers={"If-Match": f'"{form.get("version", "0")}"'},
    )
    if answer.ok:
        return visit.redirect("/me/profile", "Your details are saved.")
    return await _profile(
        visit,
        status=answer.status,
        values={**form},
        errors=answer.field_errors(),
        error=answer.message,
    )


@router.post("/me/preferences")
async def edit_preferences(request: Request) -> Response:
    visit = await Visit.open(request, SELF_SERVICE)
    form = await visit.form()
    body = {"email": bool(form.get("email")), "sms": bool(form.get("sms"))}
    answer = await visit.call(
        "PATCH",
        f"/v1/contact-preferences/{visit.me.customer_id}",
        json=body,
        headers={"If-Match": f'"{form.get("version", "1")}"'},
    )
    if answer.ok:
        return visit.redirect("/me/profile", "Your message preferences are saved.")
    return visit.redirect("/me/profile", answer.message, "error")


@router.post("/me/password")
async def set_password(request: Request) -> Response:
    """Sets or changes the customer's password; the API says what is wrong with it."""
    visit = await Visit.open(request, SELF_SERVICE)
    form = await visit.form()
    password = str(form.get("password", ""))
    if password != str(form.get("password_confirm", "")):
        return await _profile(
            visit,
            status=422,
            password_errors={"password_confirm": "does not match the new password"},
        )
    body = {"password": password, "current_password": str(form.get("current_password", ""))}
    answer = await visit.call(
        "PUT",
        "/v1/auth/customer-password",
        json={k: v for k, v in body.items() if v},
    )
    if answer.ok:
        ended = int(answer.body.get("other_sessions_ended", 0))
        elsewhere = f" You were signed out on {ended} other device(s)." if ended else ""
        return visit.redirect("/me/profile", f"Your password is saved.{elsewhere}")
    return await _profile(
        visit,
        status=answer.status,
        password_errors=answer.field_errors(),
        password_error=answer.message,
    )
