"""The staff console and customer self-service in a real (headless) Chromium, against the
running stack through the gateway's port only (issue 13's "Done when"):

- staff log in, find a customer by a typo, filter by a tag, open the detail, add and pin
  a note, top up credits, book the customer into a class from the calendar and see the
  summary update; an edit over someone else's is refused as "changed by someone else";
- a staff member without ``view_notes`` sees no notes tab (and without the other
  permissions, none of their actions);
- a customer signs in by emailed link, buys credits, books (the saga's outcome shown)
  and cancels (the consequence stated first);
- one tenant's console never shows another tenant's data;
- the main screens at desktop and phone widths: screenshots, and no serious or critical
  axe-core violations.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
from browser_testing import (
    DESKTOP,
    PASSWORD,
    Mailbox,
    Studio,
    check_screen,
    flash,
    log_in,
    sign_up,
    tomorrow,
)
from playwright.async_api import BrowserContext, Page, expect
from running_stack import SERVICES

from frontdesk.kit.testing import wait_for

pytestmark = pytest.mark.e2e


async def studio_with_a_class(
    api: httpx.AsyncClient, name: str = "Studio Mitte", place: str = "Mitte"
) -> Any:
    """A tenant with a location, a class tomorrow at 18:00 Berlin time (1 credit) and a
    credit product on sale."""
    studio = await sign_up(api, name)
    location = await studio.post("/v1/locations", {"name": place, "timezone": "Europe/Berlin"})
    session = await studio.post(
        "/v1/sessions",
        {
            "title": "Evening Flow",
            "location_id": location["id"],
            "starts_at": f"{tomorrow()}T18:00",
            "duration_minutes": 60,
            "capacity": 10,
            "payment": {"method": "credits", "credits": 1},
        },
    )
    product = await studio.post(
        "/v1/credit-products",
        {"name": "5er card", "credits": 5, "price_minor": 4500, "currency": "EUR"},
    )
    return studio, location, session, product


async def until_shown(page: Page, test_id: str, text: str, timeout: float = 30.0) -> None:
    """Reload until the element shows ``text`` (read models catch up by events)."""
    deadline = datetime.now() + timedelta(seconds=timeout)
    while True:
        found = await page.get_by_test_id(test_id).inner_text()
        if text in found:
            return
        if datetime.now() > deadline:
            raise AssertionError(f"{test_id} shows {found!r}, not {text!r}")
        await page.wait_for_timeout(700)
        await page.reload()


async def test_staff_find_note_top_up_and_book_from_the_calendar(
    page: Page, context: BrowserContext, api: httpx.AsyncClient
) -> None:
    studio, _, _, _ = await studio_with_a_class(api)
    ada = await studio.customer("Ada", "Lovelace", "ada@example.com", ["regular"])
    await studio.customer("Grace", "Hopper", "grace@example.com", ["injury"])
    await studio.post(
        "/v1/credit-packages",
        {"customer_id": ada["id"], "name": "Starter", "credits": 5},
        **{"Idempotency-Key": "starter"},
    )

    await log_in(page, studio)
    header = page.get_by_role("banner")
    await expect(header).to_contain_text(studio.name)
    await expect(page.get_by_test_id("user")).to_contain_text("owner")
    await expect(page.get_by_test_id("stat-total")).to_have_text("2")

    # Quick search as you type, with a typo; the URL keeps the search.
    await page.get_by_label("Search customers").press_sequentially("lovlace", delay=40)
    table = page.get_by_test_id("customer-table")
    await expect(table).to_contain_text("Ada Lovelace")
    await expect(table).not_to_contain_text("Grace Hopper")
    await expect(page).to_have_url(re.compile(r"q=lovlace"))

    # A tag filter, kept in the URL: the view survives a reload (a bookmark).
    await page.goto("/console/customers")
    await page.get_by_text("Filters", exact=True).click()
    await page.locator("#filters").get_by_label("Tag", exact=True).fill("injury")
    await page.get_by_role("button", name="Apply", exact=True).click()
    await expect(page).to_have_url(re.compile(r"tag=injury"))
    await expect(table).to_contain_text("Grace Hopper")
    await expect(table).not_to_contain_text("Ada Lovelace")
    await page.reload()
    await expect(table).to_contain_text("Grace Hopper")
    await expect(table).not_to_contain_text("Ada Lovelace")

    # The detail: add a note, pin it.
    await page.goto("/console/customers?q=lovelace")
    await page.get_by_role("link", name="Ada Lovelace").click()
    await expect(page.get_by_test_id("customer-name")).to_have_text("Ada Lovelace")
    await page.get_by_test_id("tab-notes").click()
    await page.get_by_label("New note").fill("Prefers the 6 pm class")
    await page.get_by_role("button", name="Add note").click()
    await flash(page, "Note added")
    note = page.get_by_test_id("note").filter(has_text="Prefers the 6 pm class")
    await expect(note.get_by_test_id("pinned")).to_have_count(0)
    await note.get_by_role("button", name="Pin").click()
    await flash(page, "Note pinned")
    await expect(note.get_by_test_id("pinned")).to_be_visible()

    # Credits: top up the package.
    await page.get_by_test_id("tab-credits").click()
    package = page.get_by_test_id("package").filter(has_text="Starter")
    await expect(package.get_by_test_id("package-balance")).to_have_text("5")
    await package.get_by_label("Credits").fill("3")
    await package.get_by_label("Reason").fill("Birthday gift")
    await package.get_by_role("button", name="Top up").click()
    await flash(page, "Credits added")
    await expect(package.get_by_test_id("package-balance")).to_have_text("8")
    await expect(page.get_by_test_id("credit-history")).to_contain_text("Birthday gift")

    # The calendar, booking for Ada: tomorrow's class, the saga's outcome shown.
    await page.get_by_test_id("tab-profile").click()
    await page.get_by_test_id("book-into-class").click()
    await expect(page.get_by_test_id("booking-for")).to_contain_text("Ada Lovelace")
    calendar = page.get_by_test_id("calendar-form")
    await calendar.get_by_label("Date").fill(tomorrow())
    await calendar.get_by_role("button", name="Show").click()
    await page.get_by_role("button", name=re.compile("Book Ada into Evening Flow")).click()
    await flash(page, "confirmed")
    await expect(page.get_by_test_id("entry").filter(has_text="Evening Flow")).to_contain_text(
        "1/10 booked"
    )

    # Booking the same customer again: the 409's reason is shown.
    await page.get_by_role("button", name=re.compile("Book Ada into Evening Flow")).click()
    await expect(page.get_by_test_id("flash")).to_contain_text("Not booked")

    # The summary catches up: one booking, the next session, 7 credits left.
    await page.goto(f"/console/customers/{ada['id']}")
    await until_shown(page, "summary-bookings", "1")
    await until_shown(page, "summary-next", "Evening Flow")
    await until_shown(page, "summary-credits", "7")

    # Someone else changes the profile meanwhile: the edit is refused, and says why.
    other = await context.new_page()
    await other.goto(f"/console/customers/{ada['id']}")
    await page.get_by_label("Phone").fill("+49 151 23456789")
    await page.get_by_role("button", name="Save").click()
    await flash(page, "Profile saved")
    await other.get_by_label("First name").fill("Augusta Ada")
    await other.get_by_role("button", name="Save").click()
    await expect(other.get_by_test_id("conflict")).to_contain_text("Changed by someone else")
    await expect(page.get_by_test_id("customer-name")).to_have_text("Ada Lovelace")


async def test_new_customer_form_names_the_bad_field_and_saves_nothing(
    page: Page, api: httpx.AsyncClient
) -> None:
    studio = await sign_up(api, "Studio Nord")
    await log_in(page, studio)
    await page.get_by_role("link", name="New customer").first.click()
    await page.get_by_label("First name").fill("Edsger")
    await page.get_by_label("Last name").fill("Dijkstra")
    await page.get_by_role("textbox", name="Email").fill("not-an-email")
    await page.get_by_role("button", name="Add customer").click()
    await expect(page.get_by_test_id("error-email")).to_be_visible()
    await expect(page.get_by_label("First name")).to_have_value("Edsger")
    assert (await studio.get("/v1/customers"))["items"] == []

    await page.get_by_role("textbox", name="Email").fill("edsger@example.com")
    await page.get_by_role("button", name="Add customer").click()
    await flash(page, "Edsger Dijkstra was added")
    await expect(page.get_by_test_id("customer-name")).to_have_text("Edsger Dijkstra")


async def test_staff_without_view_notes_see_no_notes_tab(
    browser: Any, stack: Any, api: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    studio = await sign_up(api, "Studio Süd")
    ada = await studio.customer("Ada", "Lovelace", "ada@example.com")
    await studio.post(
        "/v1/users",
        {
            "email": "sam@example.com",
            "name": "Sam Staff",
            "role": "staff",
            "permissions": ["add_participants"],
        },
    )
    token = await mailbox.link("sam@example.com", "/console/accept-invitation")

    context = await browser.new_context(viewport=DESKTOP, base_url=stack.url("gateway"))
    try:
        page = await context.new_page()
        await page.goto(f"/console/accept-invitation?token={token}")
        await page.get_by_label("Password").fill(PASSWORD)
        await page.get_by_role("button", name="Set password and log in").click()
        await page.wait_for_url("**/console/customers")
        await expect(page.get_by_test_id("user")).to_contain_text("Sam Staff")
        await expect(page.get_by_test_id("user")).to_contain_text("staff")

        await page.goto(f"/console/customers/{ada['id']}")
        await expect(page.get_by_test_id("tab-profile")).to_be_visible()
        await expect(page.get_by_test_id("tab-activity")).to_be_visible()
        await expect(page.get_by_test_id("tab-notes")).to_have_count(0)
        await expect(page.get_by_test_id("tab-invoices")).to_have_count(0)
        # Asked for by URL, the notes are not shown either.
        await page.goto(f"/console/customers/{ada['id']}?tab=notes")
        await expect(page.get_by_test_id("notes")).to_have_count(0)
        await expect(page.get_by_label("New note")).to_have_count(0)
        # Without manage_credits: the packages, but no way to change them.
        await page.get_by_test_id("tab-credits").click()
        await expect(page.get_by_role("button", name="Top up")).to_have_count(0)
        await expect(page.get_by_text("Add a package")).to_have_count(0)
    finally:
        await context.close()


async def customer_signs_in(
    page: Page, api: httpx.AsyncClient, mailbox: Mailbox, studio: Studio, email: str
) -> None:
    """Through the page: ask for a link, open it from the email, continue."""

    # The gateway learns the customer's email from customers' events: until then no link
    # is sent (and the answer does not tell).
    async def known() -> bool:
        before = len(await mailbox.links(email, "/me/sign-in"))
        r = await api.post("/v1/auth/sign-in-link", json={"tenant": studio.slug, "email": email})
        assert r.status_code == 202
        await page.wait_for_timeout(500)
        return len(await mailbox.links(email, "/me/sign-in")) > before

    await wait_for(known, timeout=30, interval=0.5)
    before = len(await mailbox.links(email, "/me/sign-in"))
    await page.goto(f"/me/sign-in?tenant={studio.slug}")
    await page.get_by_label("Your email").fill(email)
    await page.get_by_role("button", name="Email me a sign-in link").click()
    await expect(page.get_by_test_id("link-sent")).to_be_visible()
    token = await mailbox.link(email, "/me/sign-in", after=before)
    await page.goto(f"/me/sign-in?token={token}")
    await page.get_by_role("button", name="Continue to my account").click()
    await page.wait_for_url("**/me/")
    await flash(page, "You are signed in")


async def test_customer_signs_in_by_link_buys_books_and_cancels(
    page: Page, api: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    studio, _, _, _ = await studio_with_a_class(api)
    await studio.customer("Cora", "Client", "cora@example.com")
    await customer_signs_in(page, api, mailbox, studio, "cora@example.com")
    await expect(page.get_by_role("heading", name="Hello, Cora")).to_be_visible()

    # Buy credits.
    await page.get_by_role("link", name="Credits", exact=True).click()
    await page.get_by_role("button", name="Buy 5er card").click()
    await flash(page, "5 credits added")
    await expect(page.get_by_test_id("balance")).to_have_text("5")

    # The week's classes with free seats; book one (the saga's outcome is shown).
    await page.goto(f"/me/classes?week={tomorrow()}")
    flow = page.get_by_test_id("class").filter(has_text="Evening Flow")
    await expect(flow.get_by_test_id("free-seats")).to_have_text("10 of 10 seats free")
    await flow.get_by_role("button", name=re.compile("Book Evening Flow")).click()
    await flash(page, "You are booked: Evening Flow")
    await flash(page, "1 credit(s) used")
    booking = page.get_by_test_id("my-booking").filter(has_text="Evening Flow")
    await expect(booking).to_contain_text("Confirmed")

    # Cancel: the consequence is stated before confirming.
    await booking.get_by_role("link", name=re.compile("Cancel")).click()
    await expect(page.get_by_test_id("consequence")).to_contain_text("1 credit(s)")
    await page.get_by_role("button", name="Yes, cancel it").click()
    await flash(page, "Booking cancelled")
    await expect(page.get_by_test_id("my-booking").filter(has_text="Evening Flow")).to_have_count(0)

    # Profile: an invalid email is named, a valid edit is kept.
    await page.get_by_role("link", name="Profile", exact=True).click()
    await page.get_by_role("textbox", name="Email").fill("nope")
    await page.get_by_role("button", name="Save my details").click()
    await expect(page.get_by_test_id("error-email")).to_be_visible()
    await page.get_by_role("textbox", name="Email").fill("cora@example.com")
    await page.get_by_label("Phone").fill("+49 160 7654321")
    await page.get_by_role("button", name="Save my details").click()
    await flash(page, "Your details are saved")
    if "notifications" not in SERVICES:
        return  # message preferences live in notifications
    await page.get_by_label("Text messages (SMS)").uncheck()
    await page.get_by_role("button", name="Save preferences").click()
    await flash(page, "preferences are saved")
    await expect(page.get_by_label("Text messages (SMS)")).not_to_be_checked()


async def test_a_console_never_shows_another_tenants_data(
    page: Page, api: httpx.AsyncClient
) -> None:
    ours, _, _, _ = await studio_with_a_class(api, "Studio Ours")
    theirs, their_location, _, _ = await studio_with_a_class(api, "Studio Theirs", "Theirs")
    await ours.customer("Alice", "Ours", "alice@example.com", ["shared-tag"])
    bob = await theirs.customer("Bob", "Theirs", "bob@example.com", ["shared-tag"])
    await theirs.post(
        "/v1/sessions",
        {
            "title": "Their Secret Class",
            "location_id": their_location["id"],
            "starts_at": f"{tomorrow()}T09:00",
            "duration_minutes": 60,
            "capacity": 5,
            "payment": {"method": "free"},
        },
    )

    await log_in(page, ours)
    table = page.get_by_test_id("customer-table")
    await expect(table).to_contain_text("Alice Ours")
    await expect(table).not_to_contain_text("Bob")
    await page.goto("/console/customers?q=bob")
    await expect(page.get_by_test_id("empty")).to_be_visible()
    await page.goto("/console/customers?tag=shared-tag")
    await expect(table).not_to_contain_text("Bob")
    await expect(page.get_by_test_id("stat-total")).to_have_text("1")

    for tab in ("profile", "credits", "bookings", "notes", "activity"):
        response = await page.goto(f"/console/customers/{bob['id']}?tab={tab}")
        assert response is not None and response.status == 404, tab
        await expect(page.locator("main")).not_to_contain_text("Bob")

    # Their location and class: not in our calendar, whatever the URL says.
    await page.goto(f"/console/calendar?location_id={their_location['id']}&date={tomorrow()}")
    await expect(page.locator("main")).not_to_contain_text("Their Secret Class")
    await expect(page.get_by_label("Location")).not_to_contain_text("Theirs")
    await page.goto(f"/console/calendar?for={bob['id']}&date={tomorrow()}")
    await expect(page.get_by_test_id("booking-for")).to_have_count(0)
    await expect(page.locator("main")).not_to_contain_text("Bob")
    response = await page.goto("/console/customers/pick?q=bob&back=/console/calendar")
    assert response is not None
    await expect(page.locator("body")).not_to_contain_text("Bob")


async def test_main_screens_at_desktop_and_phone_width_are_accessible(
    browser: Any, stack: Any, api: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    studio, location, session, _ = await studio_with_a_class(api)
    ada = await studio.customer("Ada", "Lovelace", "ada@example.com", ["regular"])
    await studio.customer("Grace", "Hopper", "grace@example.com", ["injury"])
    await studio.post(
        "/v1/credit-packages",
        {"customer_id": ada["id"], "name": "Starter", "credits": 5},
        **{"Idempotency-Key": "starter"},
    )
    await studio.post(f"/v1/customers/{ada['id']}/notes", {"text": "Knee: go easy on lunges"})
    await studio.post(
        "/v1/bookings", {"session_id": session["id"], "customer_id": ada["id"]}, Prefer="wait=5"
    )

    context = await browser.new_context(viewport=DESKTOP, base_url=stack.url("gateway"))
    try:
        page = await context.new_page()
        await page.goto("/console/login")
        await check_screen(page, "console-login")
        await log_in(page, studio)
        await check_screen(page, "console-customers")
        await page.goto("/console/customers?view=cards")
        await check_screen(page, "console-customers-cards")
        for tab in ("profile", "credits", "bookings", "invoices", "notes", "activity"):
            await page.goto(f"/console/customers/{ada['id']}?tab={tab}")
            await check_screen(page, f"console-customer-{tab}")
        await page.goto(
            f"/console/calendar?location_id={location['id']}&date={tomorrow()}&view=week"
        )
        await check_screen(page, "console-calendar-week")
        await page.goto(f"/console/calendar?for={ada['id']}&date={tomorrow()}")
        await check_screen(page, "console-calendar-booking")
        await page.goto("/console/customers/new")
        await page.get_by_label("First name").fill("Edsger")
        await page.get_by_role("button", name="Add customer").click()
        await expect(page.get_by_test_id("error-last_name")).to_be_visible()
        await check_screen(page, "console-new-customer-errors")
    finally:
        await context.close()

    context = await browser.new_context(viewport=DESKTOP, base_url=stack.url("gateway"))
    try:
        page = await context.new_page()
        await page.goto(f"/me/sign-in?tenant={studio.slug}")
        await check_screen(page, "me-sign-in")
        await customer_signs_in(page, api, mailbox, studio, "ada@example.com")
        await check_screen(page, "me-dashboard")
        await page.goto(f"/me/classes?week={tomorrow()}")
        await check_screen(page, "me-classes")
        await page.goto("/me/credits")
        await check_screen(page, "me-credits")
        await page.goto("/me/profile")
        await check_screen(page, "me-profile")
        await page.goto("/me/")
        await page.get_by_test_id("my-booking").first.get_by_role("link").click()
        await check_screen(page, "me-cancel")
    finally:
        await context.close()
