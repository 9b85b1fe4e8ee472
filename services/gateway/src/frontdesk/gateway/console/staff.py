"""The staff console at ``/console/``: login, the customer list (stats, tabs, quick
search, filters in the URL, cursor pages, table or cards, bulk actions, CSV), a customer's
detail (profile with vehicles, credits, membership, bookings, invoices with payments,
notes, activity), the calendar (day or week per location, booking a customer into a
class, appointments) and the new-customer form.

Every route reads the form, calls the public API as the signed-in user and renders or
redirects; what a permission forbids is not offered (the API refuses it anyway)."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from babel.numbers import get_currency_precision
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, BeforeValidator

from frontdesk.gateway.console.api import Answer
from frontdesk.gateway.console.pages import (
    CONSOLE,
    Visit,
    as_int,
    clean,
    idempotent,
    local_time,
    money,
    parse_time,
    query,
    route_class,
)
from frontdesk.kit.problems import Problem

router = APIRouter(route_class=route_class(CONSOLE), include_in_schema=False)

TABS = [
    ("all", "All"),
    ("with_credits", "With credits"),
    ("paused_credits", "Paused credits"),
    ("no_credits", "No credits"),
    ("inactive", "Inactive"),
]
STATUSES = ["active", "inactive", "vip", "blocked"]
ENGAGEMENTS = ["regular", "active", "growing", "lapsed", "none"]
SORTS = [
    ("", "Last activity"),
    ("-revenue", "Revenue"),
    ("-bookings", "Bookings"),
    ("-purchased_credits", "Purchased credits"),
    ("last_name", "Last name"),
    ("-created", "Newest"),
]
DETAIL_TABS = ["profile", "credits", "membership", "bookings", "invoices", "notes", "activity"]
PAYMENT_METHODS = [
    ("cash", "Cash"),
    ("card", "Card"),
    ("transfer", "Bank transfer"),
    ("online", "Online"),
]
# What each membership button asks of the API, and what the page then says.
MEMBERSHIP_ACTIONS = {
    "renew": "Membership renewed for another period.",
    "freeze": "Membership frozen.",
    "unfreeze": "Membership unfrozen: the expiry moved by the frozen time.",
    "cancel": "Membership cancelled.",
    "upgrade": "Membership moved to the new plan.",
    "downgrade": "Membership moved to the new plan.",
}
APPOINTMENT_MOVES = {
    "confirmed": "Appointment confirmed.",
    "completed": "Appointment completed.",
    "no_show": "Appointment marked as no-show.",
    "cancelled": "Appointment cancelled.",
}
PAGE = 25
# An amount as typed in a form: digits, at most one decimal point (no sign, no exponent).
AMOUNT = re.compile(r"[0-9]{1,13}(\.[0-9]{1,4})?")


def back_to(value: Any, default: str) -> str:
    """A redirect target from a form: only a path inside the console."""
    if isinstance(value, str) and value.startswith("/console/") and "//" not in value:
        return value
    return default


# --- login -----------------------------------------------------------------------------


@router.get("/console")
@router.get("/console/")
async def home(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE)
    return visit.redirect("/console/customers")


@router.get("/console/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    visit = await Visit.open(request, CONSOLE, signed_in=False)
    return await visit.render("console/login.html", next=back_to(next, "/console/customers"))


@router.post("/console/login")
async def login(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE, signed_in=False)
    form = await visit.form()
    target = back_to(form.get("next"), "/console/customers")
    body = {k: str(form.get(k, "")).strip() for k in ("tenant", "email")}
    body["password"] = str(form.get("password", ""))
    answer = await visit.api.call("POST", "/v1/auth/login", json=body, token=False)
    if answer.ok and answer.body.get("role") != "customer":
        visit.session.take_tokens(answer.body)
        visit.dirty = True
        return visit.redirect(target)
    error = (
        "Wrong studio, email or password." if answer.status in (401, 200, 201) else answer.message
    )
    return await visit.render(
        "console/login.html",
        status=answer.status if answer.status >= 400 else 401,
        next=target,
        values=body,
        errors=answer.field_errors(),
        error=error,
    )


@router.post("/console/logout")
async def logout(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE, signed_in=False)
    await visit.form()
    if visit.session.signed_in:
        visit.api.token = visit.session.access_token
        await visit.api.call("POST", "/v1/auth/logout")
    visit.sign_out()
    return visit.redirect("/console/login", "You are logged out.")


@router.get("/console/forgot-password")
async def forgot_page(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE, signed_in=False)
    return await visit.render("console/forgot.html")


@router.post("/console/forgot-password")
async def forgot(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE, signed_in=False)
    form = await visit.form()
    body = clean(form, "tenant", "email")
    answer = await visit.api.call("POST", "/v1/auth/password-reset", json=body, token=False)
    if answer.ok:
        return visit.redirect(
            "/console/login", "If that account exists, a reset link is on its way by email."
        )
    return await visit.render(
        "console/forgot.html",
        status=answer.status,
        values=body,
        errors=answer.field_errors(),
        error=answer.message,
    )


async def _set_password(request: Request, page: str, path: str, token: str | None) -> Response:
    visit = await Visit.open(request, CONSOLE, signed_in=False)
    if request.method == "GET":
        return await visit.render(page, token=token or "")
    form = await visit.form()
    body: dict[str, Any] = {"token": form.get("token", ""), "password": form.get("password", "")}
    if form.get("name"):
        body["name"] = form["name"]
    answer = await visit.api.call("POST", path, json=body, token=False)
    if answer.ok:
        visit.session.take_tokens(answer.body)
        visit.dirty = True
        return visit.redirect("/console/customers", "Your password is set. Welcome!")
    return await visit.render(
        page,
        status=answer.status,
        token=body["token"],
        errors=answer.field_errors(),
        error="This link has expired or was used already. Ask for a new one."
        if answer.status == 401
        else answer.message,
    )


@router.get("/console/accept-invitation")
@router.post("/console/accept-invitation")
async def accept_invitation(request: Request, token: str | None = None) -> Response:
    return await _set_password(
        request, "console/invitation.html", "/v1/auth/invitations/accept", token
    )


@router.get("/console/reset-password")
@router.post("/console/reset-password")
async def reset_password(request: Request, token: str | None = None) -> Response:
    return await _set_password(
        request, "console/reset.html", "/v1/auth/password-reset/confirm", token
    )


# --- the customer list -----------------------------------------------------------------


class ListQuery(BaseModel):
    """The list's filters as they stand in the URL (a view can be bookmarked)."""

    q: str = ""
    tab: str = "all"
    status: list[str] = []
    tag: list[str] = []
    engagement: str = ""
    credits_min: str = ""
    credits_max: str = ""
    bookings_min: str = ""
    bookings_max: str = ""
    last_activity_within_days: str = ""
    inactive_for_days: str = ""
    registered_from: str = ""
    registered_to: str = ""
    sort: str = ""
    cursor: str = ""
    view: str = "table"

    def api_params(self) -> list[tuple[str, str]]:
        params: list[tuple[str, str]] = []
        for name in type(self).model_fields:
            if name == "view":
                continue
            value = getattr(self, name)
            for item in value if isinstance(value, list) else [value]:
                if str(item).strip():
                    params.append((name, str(item).strip()))
        return params

    def url_params(self) -> dict[str, Any]:
        return {k: v for k, v in self.model_dump().items() if k != "cursor"}


ListDep = Annotated[ListQuery, Query()]


@router.get("/console/customers")
async def customers(request: Request, filters: ListDep) -> Response:
    visit = await Visit.open(request, CONSOLE)
    params = [*filters.api_params(), ("limit", str(PAGE))]
    page, stats = await asyncio.gather(
        visit.call("GET", "/v1/customers", params=params),
        visit.get("/v1/customers/stats"),
    )
    context: dict[str, Any] = {
        "filters": filters,
        "base": filters.url_params(),
        "page": page,
        "rows": page.items(),
        "errors": page.field_errors(),
        "stats": stats.body if stats.ok else None,
        "tabs": TABS,
        "statuses": STATUSES,
        "engagements": ENGAGEMENTS,
        "sorts": SORTS,
    }
    if request.headers.get("hx-request") and request.headers.get("hx-target") == "results":
        return await visit.render("console/_results.html", **context)
    return await visit.render("console/customers.html", **context)


@router.get("/console/customers/pick")
async def pick_customer(request: Request, q: str = "", back: str = "") -> Response:
    """A few customers matching ``q``, each a link to ``back`` with ``for=<id>``."""
    visit = await Visit.open(request, CONSOLE)
    found = await visit.get("/v1/customers", q=q, limit=8) if q.strip() else None
    target = back_to(back, "/console/calendar")
    joiner = "&" if "?" in target else "?"
    return await visit.render(
        "console/_pick.html",
        rows=found.items() if found else [],
        searched=bool(q.strip()),
        target=target + joiner,
    )


async def _stream(visit: Visit, path: str, params: list[tuple[str, str]]) -> Response:
    answer = await visit.call("GET", path, params=params)
    if not answer.ok:
        return await visit.render(
            "shared/error.html", status=answer.status, title="Export failed", detail=answer.message
        )
    headers = {
        k: v
        for k, v in answer.headers.items()
        if k.lower() in ("content-type", "content-disposition")
    }

    async def body() -> Any:
        yield answer.content

    return StreamingResponse(body(), headers=headers)


@router.get("/console/customers/export.csv")
async def export_csv(
    request: Request, filters: ListDep, id: Annotated[list[str] | None, Query()] = None
) -> Response:
    visit = await Visit.open(request, CONSOLE)
    params = [p for p in filters.api_params() if p[0] != "cursor"]
    params += [("id", i) for i in id or []]
    return await _stream(visit, "/v1/customers/export.csv", params)


@router.post("/console/customers/bulk")
async def bulk(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    ids = form.get("ids") or []
    ids = ids if isinstance(ids, list) else [ids]
    back = back_to(form.get("back"), "/console/customers")
    action = form.get("action")
    if not ids:
        return visit.redirect(back, "Select customers first.", "error")
    if action == "export":
        return visit.redirect("/console/customers/export.csv?" + query({}, id=ids))
    body: dict[str, Any] = {"ids": ids, "action": action}
    body.update(clean(form, "status", "tag", "channel", "subject", "body"))
    answer = await visit.call("POST", "/v1/customers/bulk", json=body)
    if answer.ok:
        result = answer.body
        return visit.redirect(
            back, f"Done: {result['changed']} of {result['selected']} customers changed."
        )
    detail = "; ".join(f"{k}: {v}" for k, v in answer.field_errors().items())
    return visit.redirect(back, detail or answer.message, "error")


# --- new customer ----------------------------------------------------------------------

CUSTOMER_FIELDS = ("first_name", "last_name", "email", "phone", "status")


@router.get("/console/customers/new")
async def new_customer_page(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE)
    visit.require("add_participants")
    return await visit.render("console/new_customer.html", values={}, errors={})


@router.post("/console/customers/new")
async def new_customer(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE)
    visit.require("add_participants")
    form = await visit.form()
    body = clean(form, *CUSTOMER_FIELDS)
    tags = [t.strip() for t in str(form.get("tags", "")).split(",") if t.strip()]
    if tags:
        body["tags"] = tags
    answer = await visit.call("POST", "/v1/customers", json=body)
    if answer.ok:
        created = answer.body
        message = f"{created['first_name']} {created['last_name']} was added."
        if created.get("possible_duplicates"):
            message += " It looks like a possible duplicate: check the records linked below."
        return visit.redirect(f"/console/customers/{created['id']}", message)
    return await visit.render(
        "console/new_customer.html",
        status=answer.status,
        values={**form},
        errors=answer.field_errors(),
        error=answer.message,
    )


# --- one customer ----------------------------------------------------------------------


async def _customer(visit: Visit, customer_id: uuid.UUID) -> dict[str, Any]:
    answer = await visit.get(f"/v1/customers/{customer_id}")
    if not answer.ok:
        raise Problem(
            "No such customer here." if answer.status == 404 else answer.message,
            status=answer.status if answer.status >= 400 else 404,
            title="Not found" if answer.status == 404 else "Unavailable",
        )
    customer: dict[str, Any] = answer.body
    return customer


async def _people(visit: Visit) -> dict[str, str]:
    """Staff names by user id, for "who" columns (the API records ids): the whole team for
    an owner or admin (who may list users), else just the signed-in user."""
    names = {visit.me.sub: visit.me.name or "You"}
    if visit.is_admin:
        team = await visit.get("/v1/users", limit=100)
        names.update({u["id"]: u["name"] for u in team.items() if u.get("name")})
    return names


async def _tab_context(visit: Visit, customer: dict[str, Any], tab: str) -> dict[str, Any]:
    cid = customer["id"]
    if tab == "credits":
        packages, products, history, people = await asyncio.gather(
            visit.get("/v1/credit-packages", customer_id=cid, limit=50),
            visit.get("/v1/credit-products", active="true", limit=50),
            visit.get("/v1/credit-history", customer_id=cid, limit=50),
            _people(visit),
        )
        return {
            "people": people,
            "packages": packages,
            "products": products.items(),
            "history": list(reversed(history.items())),
        }
    if tab == "bookings":
        upcoming, past, appointments, staff = await asyncio.gather(
            visit.get("/v1/bookings", customer_id=cid, when="upcoming", limit=50),
            visit.get("/v1/bookings", customer_id=cid, when="past", limit=50),
            visit.get("/v1/appointments", customer_id=cid, limit=50),
            visit.get("/v1/staff"),
        )
        return {
            "upcoming": upcoming,
            "past": past,
            "appointments": appointments,
            "staff_names": {x["id"]: x["name"] for x in staff.items()},
        }
    if tab == "membership":
        owned, plans, history, people = await asyncio.gather(
            visit.get("/v1/memberships", customer_id=cid, limit=50),
            visit.get("/v1/membership-plans", active="true", limit=100),
            visit.get("/v1/memberships/history", customer_id=cid, limit=100),
            _people(visit),
        )
        current = [m for m in owned.items() if m.get("status") in ("active", "frozen")]
        return {
            "people": people,
            "memberships": owned,
            "membership": current[-1] if current else None,
            "plans": plans.items(),
            "membership_history": list(reversed(history.items())),
        }
    if tab == "invoices":
        invoices, payments, people = await asyncio.gather(
            visit.get("/v1/invoices", customer_id=cid, limit=50),
            visit.get("/v1/payments", customer_id=cid, limit=50),
            _people(visit),
        )
        for invoice in invoices.items():
            invoice["due_typed"] = typed_amount(invoice.get("due_minor"), invoice.get("currency"))
        return {
            "invoices": invoices,
            "people": people,
            "payments": list(reversed(payments.items())),
            "methods": PAYMENT_METHODS,
        }
    if tab == "notes":
        return {"notes": await visit.get(f"/v1/customers/{cid}/notes")}
    if tab == "activity":
        return {"activity": await visit.get(f"/v1/customers/{cid}/activity", limit=50)}
    duplicates = []
    for other in customer.get("possible_duplicates", [])[:5]:
        found = await visit.get(f"/v1/customers/{other}")
        if found.ok:
            duplicates.append(found.body)
    return {"duplicates": duplicates}


def _tabs(visit: Visit) -> list[str]:
    """What this user may open: notes need view_notes, invoices manage_billing."""
    hidden = set()
    if not visit.can("view_notes"):
        hidden.add("notes")
    if not visit.can("manage_billing"):
        hidden.add("invoices")
    return [t for t in DETAIL_TABS if t not in hidden]


@router.get("/console/customers/{customer_id}")
async def customer_detail(
    request: Request, customer_id: uuid.UUID, tab: str = "profile"
) -> Response:
    visit = await Visit.open(request, CONSOLE)
    tabs = _tabs(visit)
    if tab not in tabs:
        tab = "profile"
    customer = await _customer(visit, customer_id)
    context = await _tab_context(visit, customer, tab)
    return await visit.render(
        "console/customer.html",
        customer=customer,
        tab=tab,
        tabs=tabs,
        values=customer,
        errors={},
        vehicle={},
        vehicle_errors={},
        **context,
    )


@router.post("/console/customers/{customer_id}/profile")
async def edit_profile(request: Request, customer_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    body = {name: (str(form.get(name, "")).strip() or None) for name in CUSTOMER_FIELDS}
    if body["status"] is None:
        body.pop("status")
    answer = await visit.call(
        "PATCH",
        f"/v1/customers/{customer_id}",
        json=body,
        headers={"If-Match": f'"{form.get("version", "0")}"'},
    )
    here = f"/console/customers/{customer_id}"
    if answer.ok:
        return visit.redirect(here, "Profile saved.")
    customer = await _customer(visit, customer_id)
    context = await _tab_context(visit, customer, "profile")
    return await visit.render(
        "console/customer.html",
        status=answer.status,
        customer=customer,
        tab="profile",
        tabs=_tabs(visit),
        values={**customer, **form, "version": form.get("version")},
        errors=answer.field_errors(),
        error=answer.message,
        conflict=answer.status == 412,
        vehicle={},
        vehicle_errors={},
        **context,
    )


# --- vehicles (assets) -----------------------------------------------------------------

VEHICLE_FIELDS = ("make", "model", "year", "plate", "vin")


@router.post("/console/customers/{customer_id}/vehicles")
async def add_vehicle(request: Request, customer_id: uuid.UUID) -> Response:
    """A vehicle for the customer; what the API refuses (a plate in use or malformed, a
    bad VIN) is shown under its field, with what was typed kept."""
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    body: dict[str, Any] = {"kind": "vehicle", **clean(form, *VEHICLE_FIELDS)}
    if "year" in body:
        body["year"] = as_int(body["year"])
    answer = await visit.call("POST", f"/v1/customers/{customer_id}/assets", json=body)
    here = f"/console/customers/{customer_id}"
    if answer.ok:
        return visit.redirect(
            here, f"Vehicle {answer.body.get('label') or ''} added.".replace("  ", " ")
        )
    customer = await _customer(visit, customer_id)
    context = await _tab_context(visit, customer, "profile")
    errors = answer.field_errors()
    return await visit.render(
        "console/customer.html",
        status=answer.status,
        customer=customer,
        tab="profile",
        tabs=_tabs(visit),
        values=customer,
        errors={},
        vehicle={k: form.get(k, "") for k in VEHICLE_FIELDS},
        vehicle_errors=errors,
        vehicle_error=None if errors else answer.message,
        **context,
    )


@router.post("/console/customers/{customer_id}/vehicles/{asset_id}/remove")
async def remove_vehicle(request: Request, customer_id: uuid.UUID, asset_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, CONSOLE)
    await visit.form()
    answer = await visit.call("DELETE", f"/v1/customers/{customer_id}/assets/{asset_id}")
    here = f"/console/customers/{customer_id}"
    if answer.ok:
        return visit.redirect(here, "Vehicle removed.")
    return visit.redirect(here, answer.message, "error")


@router.post("/console/customers/{customer_id}/tags")
async def edit_tags(request: Request, customer_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    tag = str(form.get("tag", "")).strip()
    here = f"/console/customers/{customer_id}"
    if not tag:
        return visit.redirect(here, "Type a tag first.", "error")
    method = "DELETE" if form.get("remove") else "PUT"
    answer = await visit.call(method, f"/v1/customers/{customer_id}/tags/{tag}")
    if answer.ok:
        return visit.redirect(here, f"Tag '{tag}' {'removed' if method == 'DELETE' else 'added'}.")
    return visit.redirect(here, answer.message, "error")


@router.post("/console/customers/{customer_id}/notes")
async def add_note(request: Request, customer_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    here = f"/console/customers/{customer_id}?tab=notes"
    body = {
        "text": str(form.get("text", "")),
        "visibility": "private" if form.get("private") else "team",
        "pinned": bool(form.get("pinned")),
    }
    answer = await visit.call("POST", f"/v1/customers/{customer_id}/notes", json=body)
    if answer.ok:
        return visit.redirect(here, "Note added.")
    message = answer.field_errors().get("text") or answer.message
    return visit.redirect(here, f"The note was not saved: {message}", "error")


@router.post("/console/customers/{customer_id}/notes/{note_id}")
async def change_note(request: Request, customer_id: uuid.UUID, note_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    here = f"/console/customers/{customer_id}?tab=notes"
    path = f"/v1/customers/{customer_id}/notes/{note_id}"
    if form.get("action") == "delete":
        answer = await visit.call("DELETE", path)
        done = "Note deleted."
    else:
        pinned = form.get("action") == "pin"
        answer = await visit.call("PATCH", path, json={"pinned": pinned})
        done = "Note pinned." if pinned else "Note unpinned."
    if answer.ok:
        return visit.redirect(here, done)
    return visit.redirect(here, answer.message, "error")


# --- credits ---------------------------------------------------------------------------


@router.post("/console/customers/{customer_id}/packages")
async def sell_package(request: Request, customer_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    here = f"/console/customers/{customer_id}?tab=credits"
    body: dict[str, Any] = {"customer_id": str(customer_id)}
    if form.get("product_id"):
        body["product_id"] = form["product_id"]
    else:
        body.update(clean(form, "name", "reason"))
        body["credits"] = as_int(form.get("credits", ""))
        if form.get("validity_days"):
            body["validity_days"] = as_int(form["validity_days"])
    answer = await visit.call(
        "POST",
        "/v1/credit-packages",
        json=body,
        headers=idempotent(form),
    )
    if answer.ok:
        return visit.redirect(here, f"Package '{answer.body['name']}' added.")
    return visit.redirect(here, _explain(answer), "error")


def _explain(answer: Answer) -> str:
    errors = answer.field_errors()
    if errors:
        return "; ".join(f"{k.replace('_', ' ')}: {v}" for k, v in errors.items())
    return answer.message


@router.post("/console/packages/{package_id}/{action}")
async def package_action(request: Request, package_id: uuid.UUID, action: str) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    here = back_to(form.get("back"), "/console/customers")
    path = f"/v1/credit-packages/{package_id}"
    reason = clean(form, "reason")
    headers: dict[str, str] = {}
    if action == "top-up":
        body: dict[str, Any] = {"credits": as_int(form.get("credits", "")), **reason}
        headers.update(idempotent(form))
        done = "Credits added."
    elif action == "extend":
        body = {"days": as_int(form.get("days", "")), **reason}
        done = "Expiry extended."
    elif action in ("pause", "resume"):
        body = reason
        done = "Package paused." if action == "pause" else "Package resumed."
    else:
        return visit.redirect(here, "Unknown action.", "error")
    answer = await visit.call("POST", f"{path}/{action}", json=body, headers=headers)
    if answer.ok:
        return visit.redirect(here, done)
    return visit.redirect(here, _explain(answer), "error")


# --- memberships -----------------------------------------------------------------------


@router.post("/console/customers/{customer_id}/membership")
async def assign_membership(request: Request, customer_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    here = f"/console/customers/{customer_id}?tab=membership"
    if not form.get("plan_id"):
        return visit.redirect(here, "Choose a plan first.", "error")
    body = {"customer_id": str(customer_id), **clean(form, "plan_id", "reason")}
    answer = await visit.call("POST", "/v1/memberships", json=body)
    if answer.ok:
        m = answer.body
        zone = (await visit.tenant()).get("time_zone")
        until = local_time(m.get("expires_at"), zone).rsplit(",", 1)[0]
        return visit.redirect(here, f"{m['plan_name']} assigned until {until}.")
    return visit.redirect(here, f"Not assigned: {_explain(answer)}", "error")


@router.post("/console/memberships/{membership_id}/{action}")
async def membership_action(request: Request, membership_id: uuid.UUID, action: str) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    here = back_to(form.get("back"), "/console/customers")
    if action == "change":
        action = "upgrade" if form.get("direction") != "downgrade" else "downgrade"
    if action not in MEMBERSHIP_ACTIONS:
        return visit.redirect(here, "Unknown action.", "error")
    body: dict[str, Any] = clean(form, "reason")
    if action in ("upgrade", "downgrade"):
        if not form.get("plan_id"):
            return visit.redirect(here, "Choose the new plan first.", "error")
        body["plan_id"] = form["plan_id"]
    answer = await visit.call("POST", f"/v1/memberships/{membership_id}/{action}", json=body)
    if answer.ok:
        return visit.redirect(here, MEMBERSHIP_ACTIONS[action])
    return visit.redirect(here, _explain(answer), "error")


# --- bookings and invoices -------------------------------------------------------------


@router.post("/console/bookings/{booking_id}/{action}")
async def booking_action(request: Request, booking_id: uuid.UUID, action: str) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    here = back_to(form.get("back"), "/console/calendar")
    if action not in ("cancel", "check-in", "no-show"):
        return visit.redirect(here, "Unknown action.", "error")
    answer = await visit.call("POST", f"/v1/bookings/{booking_id}/{action}")
    if not answer.ok:
        return visit.redirect(here, answer.message, "error")
    booking = answer.body
    if action == "cancel":
        outcome = (
            "refunded"
            if booking.get("refund")
            else "late: the credit or price is kept"
            if booking.get("late")
            else "nothing to refund"
        )
        return visit.redirect(here, f"Booking cancelled ({outcome}).")
    return visit.redirect(here, "Checked in." if action == "check-in" else "Marked as no-show.")


def typed_amount(minor: int | None, currency: str | None) -> str:
    """Minor units as a form would take them back ("45.00" for 4500 euro cents)."""
    if minor is None or not currency:
        return ""
    digits = get_currency_precision(currency)
    return f"{Decimal(int(minor)).scaleb(-digits):.{digits}f}"


def to_minor(typed: Any, currency: str) -> int | None:
    """An amount typed in the currency's units ("25", "25.50", "25,50", "1,234.50") as
    integer minor units; None when it is not an amount of that currency (not a plain
    number, too many decimals, absurdly long)."""
    text = str(typed or "").strip().replace(" ", "").replace("\u00a0", "")
    if "," in text and "." not in text:
        text = text.replace(",", ".")
    text = text.replace(",", "")
    if not AMOUNT.fullmatch(text):
        return None
    minor = Decimal(text).scaleb(get_currency_precision(currency))
    if minor != minor.to_integral_value():
        return None
    return int(minor)


@router.post("/console/invoices/{invoice_id}/payments")
async def record_payment(request: Request, invoice_id: uuid.UUID) -> Response:
    """A payment on an open invoice (cash, card, transfer, online); partial payments
    leave the rest due. The page then says what is still owed."""
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    here = back_to(form.get("back"), "/console/customers")
    currency = str(form.get("currency") or "EUR")
    minor = to_minor(form.get("amount"), currency)
    if minor is None or minor <= 0:
        return visit.redirect(
            here, f"Not recorded: the amount must be a positive amount in {currency}.", "error"
        )
    body: dict[str, Any] = {
        "invoice_id": str(invoice_id),
        "amount_minor": minor,
        "currency": currency,
        "method": form.get("method") or "cash",
    }
    body.update(clean(form, "external_reference", "note"))
    answer = await visit.call(
        "POST",
        "/v1/payments",
        json=body,
        headers=idempotent(form),
    )
    if not answer.ok:
        return visit.redirect(here, f"Not recorded: {_explain(answer)}", "error")
    language = (await visit.tenant()).get("language", "en")
    paid = money(minor, currency, language)
    invoice = await visit.get(f"/v1/invoices/{invoice_id}")
    if not invoice.ok:
        return visit.redirect(here, f"Payment of {paid} recorded.")
    number = invoice.body.get("number") or "the invoice"
    due = int(invoice.body.get("due_minor") or 0)
    if invoice.body.get("status") == "paid" or due <= 0:
        outcome = f"invoice {number} is paid"
    else:
        outcome = f"{money(due, currency, language)} still due on invoice {number}"
    return visit.redirect(here, f"Payment of {paid} recorded: {outcome}.")


@router.get("/console/invoices/{invoice_id}/pdf")
async def invoice_pdf(request: Request, invoice_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, CONSOLE)
    return await _stream(visit, f"/v1/invoices/{invoice_id}/pdf", [])


# --- calendar --------------------------------------------------------------------------


def _day(value: str | None, zone: ZoneInfo) -> date:
    try:
        return date.fromisoformat(value) if value else datetime.now(zone).date()
    except ValueError:
        return datetime.now(zone).date()


# A filter a form left empty ("Any staff") arrives as ``staff_id=``: no filter, not a 422.
ChosenId = Annotated[uuid.UUID | None, BeforeValidator(lambda value: value or None)]


@router.get("/console/calendar")
async def calendar(
    request: Request,
    location_id: ChosenId = None,
    date: str | None = None,
    view: str = "day",
    staff_id: ChosenId = None,
    room_id: ChosenId = None,
    for_: Annotated[ChosenId, Query(alias="for")] = None,
) -> Response:
    visit = await Visit.open(request, CONSOLE)
    locations = (await visit.get("/v1/locations")).items()
    location = next((x for x in locations if x["id"] == str(location_id)), None)
    location = location or (locations[0] if locations else None)
    base = {
        "location_id": location["id"] if location else None,
        "view": view if view in ("day", "week") else "day",
        "staff_id": staff_id,
        "room_id": room_id,
        "for": for_,
    }
    context: dict[str, Any] = {"locations": locations, "location": location, "base": base}
    if for_ is not None:
        found = await visit.get(f"/v1/customers/{for_}")
        context["booking_for"] = found.body if found.ok else None
    if location is None:
        return await visit.render("console/calendar.html", days=[], **context)
    zone = ZoneInfo(location["timezone"])
    day = _day(date, zone)
    first = day - timedelta(days=day.weekday()) if base["view"] == "week" else day
    count = 7 if base["view"] == "week" else 1
    days = [first + timedelta(days=i) for i in range(count)]
    scope = {"location_id": location["id"], "staff_id": staff_id, "room_id": room_id}
    answers, staff, rooms = await asyncio.gather(
        asyncio.gather(*(visit.get("/v1/calendar", date=d.isoformat(), **scope) for d in days)),
        visit.get("/v1/staff", location_id=location["id"]),
        visit.get("/v1/rooms", location_id=location["id"]),
    )
    step = timedelta(days=count)
    now = datetime.now(UTC)
    listed = []
    for d, answer in zip(days, answers, strict=True):
        entries = list(answer.body.get("entries") or []) if answer.ok else []
        for entry in entries:
            started = parse_time(entry["starts_at"])
            entry["bookable"] = (
                entry["kind"] != "appointment"
                and entry["status"] == "scheduled"
                and started is not None
                and started > now
            )
        listed.append((d, entries))
    return await visit.render(
        "console/calendar.html",
        days=listed,
        day=day,
        today=datetime.now(zone).date(),
        previous=(first - step).isoformat(),
        following=(first + step).isoformat(),
        staff=staff.items(),
        rooms=rooms.items(),
        staff_names={x["id"]: x["name"] for x in staff.items()},
        room_names={x["id"]: x["name"] for x in rooms.items()},
        customer_names=await _customer_names(visit, listed),
        **context,
    )


async def _customer_names(visit: Visit, listed: list[tuple[date, list[Any]]]) -> dict[str, str]:
    """Who each shown appointment is with (the calendar names only the customer's id); at
    most 40 looked up, the rest show as "a customer"."""
    ids = {e["customer_id"] for _, entries in listed for e in entries if e.get("customer_id")}
    found = await asyncio.gather(*(visit.get(f"/v1/customers/{i}") for i in sorted(ids)[:40]))
    return {a.body["id"]: f"{a.body['first_name']} {a.body['last_name']}" for a in found if a.ok}


@router.post("/console/calendar/book")
async def book(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    back = back_to(form.get("back"), "/console/calendar")
    body = {"session_id": form.get("session_id"), "customer_id": form.get("customer_id")}
    answer = await visit.call(
        "POST",
        "/v1/bookings",
        json=body,
        headers={"Prefer": "wait=5", **idempotent(form)},
    )
    if not answer.ok:
        return visit.redirect(back, f"Not booked: {answer.message}", "error")
    booking = answer.body
    title = booking.get("title") or "the class"
    when = local_time(booking.get("starts_at"), form.get("zone") or "UTC")
    if booking["status"] == "confirmed":
        return visit.redirect(back, f"Booked into {title} ({when}): confirmed.")
    if booking["status"] == "rejected":
        reason = str(booking.get("reason") or "rejected").replace("_", " ")
        return visit.redirect(back, f"Booking for {title} was rejected: {reason}.", "error")
    return visit.redirect(back, f"Booking for {title} requested; payment is still pending.")


@router.post("/console/calendar/sessions")
async def create_session(request: Request) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    back = back_to(form.get("back"), "/console/calendar")
    body: dict[str, Any] = clean(form, "title", "location_id", "staff_id", "room_id", "kind")
    body["starts_at"] = f"{form.get('date', '')}T{form.get('time', '')}"
    body["duration_minutes"] = as_int(form.get("duration_minutes", ""))
    body["capacity"] = as_int(form.get("capacity", ""))
    credits = as_int(form.get("credits", "0") or "0")
    body["payment"] = {"method": "credits", "credits": credits} if credits else {"method": "free"}
    answer = await visit.call("POST", "/v1/sessions", json=body)
    if answer.ok:
        return visit.redirect(back, f"'{answer.body['title']}' was added to the calendar.")
    return visit.redirect(back, f"Not added: {_explain(answer)}", "error")


@router.post("/console/calendar/appointments")
async def create_appointment(request: Request) -> Response:
    """A 1:1 appointment with a staff member (and a room or bay): the API refuses a
    double booking of either with a 409, whose reason is shown as it is."""
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    back = back_to(form.get("back"), "/console/calendar")
    body: dict[str, Any] = clean(
        form,
        "title",
        "location_id",
        "staff_id",
        "room_id",
        "customer_id",
        "asset_id",
        "notes",
        "status",
    )
    body["starts_at"] = f"{form.get('date', '')}T{form.get('time', '')}"
    body["duration_minutes"] = as_int(form.get("duration_minutes", ""))
    if str(form.get("price", "")).strip():
        currency = str(form.get("currency") or "EUR")
        price = to_minor(form.get("price"), currency)
        body["price_minor"] = form.get("price") if price is None else price
        body["currency"] = currency
    answer = await visit.call(
        "POST",
        "/v1/appointments",
        json=body,
        headers=idempotent(form),
    )
    if answer.ok:
        a = answer.body
        when = local_time(a.get("starts_at"), a.get("timezone"))
        vehicle = f" for {a['asset_label']}" if a.get("asset_label") else ""
        return visit.redirect(
            back, f"Appointment '{a['title']}'{vehicle} on {when} is {a['status']}."
        )
    # A double booking (409) says which of staff or room is taken, in the API's words.
    reason = answer.message if answer.status == 409 else _explain(answer)
    return visit.redirect(back, f"Appointment not made: {reason}", "error")


@router.post("/console/appointments/{appointment_id}/status")
async def appointment_status(request: Request, appointment_id: uuid.UUID) -> Response:
    visit = await Visit.open(request, CONSOLE)
    form = await visit.form()
    back = back_to(form.get("back"), "/console/calendar")
    target = str(form.get("status", ""))
    if target not in APPOINTMENT_MOVES:
        return visit.redirect(back, "Unknown action.", "error")
    answer = await visit.call(
        "POST", f"/v1/appointments/{appointment_id}/status", json={"status": target}
    )
    if answer.ok:
        return visit.redirect(back, APPOINTMENT_MOVES[target])
    return visit.redirect(back, answer.message, "error")
