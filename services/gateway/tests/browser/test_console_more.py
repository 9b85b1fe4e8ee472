"""More of the staff console in a real (headless) Chromium, against the running stack
through the gateway's port only (issue 13's leftovers):

- on a customer's detail: a payment recorded on an open invoice (partly, then the rest:
  the state and what is due follow); a membership plan assigned, frozen and unfrozen, with
  its history; a vehicle whose bad plate is named under the field, then added; a credit
  package paused, resumed and extended;
- on the calendar: an appointment made for a customer, a double booking of the trainer
  refused with the API's reason, an appointment cancelled;
- on the customer list: bulk tag and status on selected rows, and the CSV export of a
  selection and of the list downloaded with its progress shown.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from browser_testing import (
    Studio,
    check_screen,
    flash,
    log_in,
    sign_up,
    tomorrow,
)
from playwright.async_api import Locator, Page, expect

from frontdesk.kit.testing import wait_for

pytestmark = pytest.mark.e2e


async def test_payment_membership_vehicle_and_package_on_the_customer_detail(
    page: Page, api: httpx.AsyncClient
) -> None:
    studio = await sign_up(api, "Garage Nord")
    ada = await studio.customer("Ada", "Lovelace", "ada@example.com")
    grace = await studio.customer("Grace", "Hopper", "grace@example.com")
    await studio.post(
        "/v1/credit-packages",
        {"customer_id": ada["id"], "name": "Starter", "credits": 5, "validity_days": 30},
        **{"Idempotency-Key": "starter"},
    )
    for name, discount in (("Gold", 15), ("Silver", 5)):
        await studio.post(
            "/v1/membership-plans",
            {"name": name, "discount_percent": discount, "duration_days": 365},
        )
    draft = await billing_answers(
        studio,
        "/v1/invoices",
        {
            "customer_id": ada["id"],
            "lines": [{"description": "Oil change", "unit_price_minor": 5000, "tax_rate_bp": 0}],
        },
    )
    invoice = await studio.post(f"/v1/invoices/{draft['id']}/issue", {})
    assert invoice["status"] == "open" and invoice["due_minor"] == 5000, invoice
    # Grace's car has the plate already: a plate is used once in the business.
    await studio.post(f"/v1/customers/{grace['id']}/assets", {"plate": "HH-GH 42"})

    await log_in(page, studio)

    # Invoices: a partial payment leaves the rest due; the rest (offered) pays it.
    await page.goto(f"/console/customers/{ada['id']}?tab=invoices")
    row = page.get_by_test_id("invoice").filter(has_text=invoice["number"])
    await expect(row.get_by_test_id("invoice-status")).to_have_text("Open")
    await expect(row.get_by_test_id("invoice-due")).to_have_text("€50.00")
    await row.get_by_text("Record payment").first.click()
    await expect(row.get_by_label("Amount (EUR)")).to_have_value("50.00")
    await check_screen(page, "console-customer-invoices-pay")
    await row.get_by_label("Amount (EUR)").fill("20")
    await row.get_by_label("Method").select_option("card")
    await row.get_by_role("button", name="Record payment").click()
    await flash(
        page, f"Payment of €20.00 recorded: €30.00 still due on invoice {invoice['number']}"
    )
    await expect(row.get_by_test_id("invoice-status")).to_have_text("Open")
    await expect(row.get_by_test_id("invoice-due")).to_have_text("€30.00")
    await row.get_by_text("Record payment").first.click()
    await row.get_by_label("Amount (EUR)").fill("abc")
    await row.get_by_role("button", name="Record payment").click()
    await flash(page, "Not recorded: the amount must be a positive amount in EUR")
    await row.get_by_text("Record payment").first.click()
    await expect(row.get_by_label("Amount (EUR)")).to_have_value("30.00")
    await row.get_by_role("button", name="Record payment").click()
    await flash(page, f"invoice {invoice['number']} is paid")
    await expect(row.get_by_test_id("invoice-status")).to_have_text("Paid")
    await expect(row.get_by_test_id("invoice-due")).to_have_text("€0.00")
    await expect(row.get_by_role("button", name="Record payment")).to_have_count(0)
    pdf = await page.request.get(f"/console/invoices/{invoice['id']}/pdf")
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf", pdf.status
    assert (await pdf.body()).startswith(b"%PDF")
    payments = page.get_by_test_id("payments")
    await expect(payments.locator("tbody tr")).to_have_count(2)
    await expect(payments).to_contain_text("Card")
    await expect(payments).to_contain_text("Cash")
    await expect(payments).to_contain_text("Olga Owner")

    # Membership: none yet; assign Gold, freeze and unfreeze it; the history keeps each step.
    await page.get_by_test_id("tab-membership").click()
    await expect(page.get_by_test_id("no-membership")).to_be_visible()
    await page.get_by_label("Plan").select_option(label="Gold: 15% off, 365 days")
    await page.get_by_label("Reason (optional)").fill("Loyal customer")
    await page.get_by_role("button", name="Assign plan").click()
    await flash(page, re.compile(r"Gold assigned until \w{3} \d+ \w{3} \d{4}"))
    card = page.get_by_test_id("membership")
    await expect(card.get_by_test_id("membership-plan")).to_have_text("Gold")
    await expect(card).to_contain_text("Active")
    await expect(card).to_contain_text("15% on services")
    await expect(card).to_contain_text("Olga Owner")  # who assigned it, by name
    await card.get_by_role("button", name="Freeze").click()
    await flash(page, "Membership frozen")
    await expect(card).to_contain_text("Frozen")
    await card.get_by_role("button", name="Unfreeze").click()
    await flash(page, "Membership unfrozen")
    await expect(card).to_contain_text("Active")
    await card.get_by_label("Change plan to").select_option(label="Silver (5%)")
    await card.get_by_label("As").select_option("downgrade")
    await card.get_by_role("button", name="Change plan").click()
    await flash(page, "Membership moved to the new plan")
    await expect(card.get_by_test_id("membership-plan")).to_have_text("Silver")
    await check_screen(page, "console-customer-membership")
    history = page.get_by_test_id("membership-history")
    await expect(history).to_contain_text("Loyal customer")
    for step in ("Frozen", "Unfrozen", "Downgraded"):
        await expect(history).to_contain_text(step)

    # Vehicles: a bad plate and a plate in use are named under the field, typed values kept.
    await page.get_by_test_id("tab-profile").click()
    vehicles = page.get_by_test_id("vehicles")
    await expect(vehicles.get_by_test_id("vehicle")).to_have_count(0)
    await vehicles.get_by_text("Add a vehicle").click()
    await vehicles.get_by_label("Make").fill("VW")
    await vehicles.get_by_label("Model").fill("Golf")
    await vehicles.get_by_label("Plate").fill("#")
    await vehicles.get_by_role("button", name="Add vehicle").click()
    await expect(page.get_by_test_id("vehicle-error-plate")).to_contain_text("2 to 12")
    await expect(vehicles.get_by_label("Plate")).to_have_attribute("aria-invalid", "true")
    await expect(vehicles.get_by_label("Make")).to_have_value("VW")
    await check_screen(page, "console-customer-vehicle-errors")
    await vehicles.get_by_label("Plate").fill("hh-gh 42")
    await vehicles.get_by_role("button", name="Add vehicle").click()
    await expect(page.get_by_test_id("vehicle-error-plate")).to_contain_text("plate")
    await vehicles.get_by_label("Plate").fill("b-ab 123")
    await vehicles.get_by_role("button", name="Add vehicle").click()
    await flash(page, "Vehicle VW Golf")
    car = vehicles.get_by_test_id("vehicle")
    await expect(car).to_have_count(1)
    await expect(car.get_by_test_id("vehicle-plate")).to_have_text("B-AB 123")
    await expect(page.get_by_test_id("vehicle-error-plate")).to_have_count(0)

    # Credits: pause, resume and extend the package; each step in the history.
    await page.get_by_test_id("tab-credits").click()
    package = page.get_by_test_id("package").filter(has_text="Starter")
    expires = await expiry(package)
    await package.get_by_role("button", name="Pause").click()
    await flash(page, "Package paused")
    await expect(package).to_contain_text("Paused")
    await package.get_by_role("button", name="Resume").click()
    await flash(page, "Package resumed")
    await expect(package).to_contain_text("Active")
    await package.get_by_label("Extend by days").fill("10")
    await package.get_by_role("button", name="Extend").click()
    await flash(page, "Expiry extended")
    extended = await expiry(package)
    assert (extended - expires).days == 10, (expires, extended)
    log = page.get_by_test_id("credit-history")
    for kind in ("paused", "resumed", "extended"):
        await expect(log).to_contain_text(kind)


async def billing_answers(studio: Studio, path: str, body: dict[str, Any]) -> dict[str, Any]:
    """``POST path`` once the gateway knows billing's paths (it learns them from billing's
    OpenAPI document, which a busy machine serves a little after the stack is up)."""

    async def made() -> dict[str, Any] | None:
        r = await studio.api.post(path, json=body, headers=studio.headers)
        if r.status_code in (404, 502, 503, 504):
            return None
        assert r.status_code == 201, r.text
        answer: dict[str, Any] = r.json()
        return answer

    found: dict[str, Any] = await wait_for(made, timeout=60, interval=1)
    return found


async def expiry(package: Locator) -> datetime:
    text = await package.get_by_text(re.compile(r"Expires ")).inner_text()
    found = re.search(r"Expires \w{3} (\d+ \w{3} \d{4})", text)
    assert found, text
    return datetime.strptime(found.group(1), "%d %b %Y")


async def test_appointments_on_the_calendar_and_bulk_actions_on_the_list(
    page: Page, api: httpx.AsyncClient, tmp_path: Path
) -> None:
    studio = await sign_up(api, "Garage Süd")
    location = await studio.post("/v1/locations", {"name": "Süd", "timezone": "Europe/Berlin"})
    await studio.post("/v1/staff", {"name": "Kim Advisor", "location_id": location["id"]})
    await studio.post("/v1/rooms", {"name": "Bay 1", "location_id": location["id"]})
    ada = await studio.customer("Ada", "Lovelace", "ada@example.com")
    grace = await studio.customer("Grace", "Hopper", "grace@example.com")
    await studio.customer("Linus", "Torvalds", "linus@example.com")
    await studio.post(f"/v1/customers/{ada['id']}/assets", {"make": "VW", "plate": "B-AB 1"})

    await log_in(page, studio)

    # An appointment for Ada tomorrow at 10:00 with Kim in Bay 1, with her car.
    async def appointment_for(customer: dict[str, str], vehicle: str | None = None) -> None:
        await page.goto(f"/console/calendar?for={customer['id']}&date={tomorrow()}")
        await page.get_by_text("Add an appointment", exact=True).click()
        form = page.get_by_test_id("appointment-form")
        if vehicle:
            await form.get_by_label("Vehicle").select_option(label=vehicle)
        await form.get_by_label("Service").fill("Inspection")
        await form.get_by_label("Start (local)").fill("10:00")
        await form.get_by_label("Minutes").fill("45")
        await form.get_by_label("With").select_option(label="Kim Advisor")
        await form.get_by_label("Room or bay").select_option(label="Bay 1")
        await form.get_by_role("button", name="Add appointment").click()

    await appointment_for(ada, vehicle="VW (B-AB 1)")
    await flash(page, re.compile(r"Appointment 'Inspection' for VW \(B-AB 1\) on .* 10:00"))
    entry = page.get_by_test_id("entry").filter(has_text="Inspection")
    await expect(entry).to_have_count(1)
    await expect(entry).to_contain_text("10:00")
    await expect(entry.get_by_test_id("appointment-status")).to_contain_text("confirmed")
    await expect(entry).to_contain_text("Ada Lovelace · Kim Advisor · Bay 1")
    await page.get_by_text("Add an appointment", exact=True).click()
    await check_screen(page, "console-calendar-appointment")

    # The same trainer at the same time for Grace: refused, and the reason is shown.
    await appointment_for(grace)
    await expect(page.get_by_test_id("flash")).to_contain_text(
        "Appointment not made: The staff member already has"
    )
    await expect(page.get_by_test_id("entry").filter(has_text="Inspection")).to_have_count(1)

    # Cancelling Ada's frees the slot: Grace gets it.
    await page.get_by_role("button", name="Cancel Inspection at 10:00").click()
    await flash(page, "Appointment cancelled")
    await expect(entry.get_by_test_id("appointment-status")).to_contain_text("cancelled")
    await appointment_for(grace)
    await flash(page, re.compile(r"Appointment 'Inspection' on .* 10:00 is confirmed"))

    # On the customers' detail (bookings tab): their appointments, with what can be done.
    await page.goto(f"/console/customers/{ada['id']}?tab=bookings")
    listed = page.get_by_test_id("appointments").get_by_role("row").filter(has_text="Inspection")
    await expect(listed).to_contain_text("VW (B-AB 1)")
    await expect(listed).to_contain_text("Cancelled")
    await expect(listed.get_by_role("button")).to_have_count(0)
    await page.goto(f"/console/customers/{grace['id']}?tab=bookings")
    listed = page.get_by_test_id("appointments").get_by_role("row").filter(has_text="Inspection")
    await expect(listed).to_contain_text("Kim Advisor")
    await expect(listed).to_contain_text("Confirmed")
    await check_screen(page, "console-customer-appointments")
    await listed.get_by_role("button", name=re.compile("^Complete Inspection")).click()
    await flash(page, "Appointment completed")
    await expect(listed).to_contain_text("Completed")

    # Bulk on the list: tag two selected customers, then set one's status.
    await page.goto("/console/customers?sort=last_name")
    table = page.get_by_test_id("customer-table")
    await table.get_by_label("Select Ada Lovelace").check()
    await table.get_by_label("Select Grace Hopper").check()
    await page.get_by_text("Bulk actions on the selected customers").click()
    await page.get_by_label("Action").select_option("add_tag")
    await page.get_by_label("Tag to add or remove").fill("newsletter")
    await page.get_by_role("button", name="Apply to selected").click()
    await flash(page, "Done: 2 of 2 customers changed.")
    for name in ("Ada Lovelace", "Grace Hopper"):
        await expect(table.get_by_role("row").filter(has_text=name)).to_contain_text("newsletter")
    await expect(table.get_by_role("row").filter(has_text="Linus")).not_to_contain_text(
        "newsletter"
    )
    await table.get_by_label("Select Grace Hopper").check()
    await page.get_by_text("Bulk actions on the selected customers").click()
    await page.get_by_label("Action").select_option("set_status")
    await page.get_by_label("New status").select_option("vip")
    await page.get_by_role("button", name="Apply to selected").click()
    await flash(page, "Done: 1 of 1 customers changed.")
    await expect(table.get_by_role("row").filter(has_text="Grace Hopper")).to_contain_text("Vip")

    # Export of a selection: downloaded as CSV, its progress told as it streams in.
    await table.get_by_label("Select Ada Lovelace").check()
    await table.get_by_label("Select Linus Torvalds").check()
    await page.get_by_text("Bulk actions on the selected customers").click()
    await page.get_by_label("Action").select_option("export")
    async with page.expect_download() as waiting:
        await page.get_by_role("button", name="Apply to selected").click()
    rows = await downloaded(await waiting.value, tmp_path)
    assert sorted(r["email"] for r in rows) == ["ada@example.com", "linus@example.com"], rows
    await expect(page.get_by_test_id("export-progress")).to_contain_text(
        re.compile(r"Export ready: 2 customers in .+\.csv")
    )
    # The whole (filtered) list from the toolbar's link: the tag filter applies.
    await page.goto("/console/customers?tag=newsletter")
    async with page.expect_download() as waiting:
        await page.get_by_role("link", name="Export CSV").click()
    rows = await downloaded(await waiting.value, tmp_path)
    assert sorted(r["email"] for r in rows) == ["ada@example.com", "grace@example.com"], rows
    await expect(page.get_by_test_id("export-progress")).to_contain_text("2 customers")


async def downloaded(download: object, folder: Path) -> list[dict[str, str]]:
    target = folder / "export.csv"
    await download.save_as(target)  # type: ignore[attr-defined]
    text = target.read_text(encoding="utf-8-sig")
    reader = csv.DictReader(io.StringIO(text))
    return [{k.lower(): v for k, v in row.items()} for row in reader]


def test_amounts_typed_in_a_form_become_minor_units() -> None:
    from frontdesk.gateway.console.staff import to_minor, typed_amount

    assert to_minor("20", "EUR") == 2000
    assert to_minor("20.5", "EUR") == 2050
    assert to_minor("1 234,56", "EUR") == 123456
    assert to_minor("1,234.56", "EUR") == 123456
    assert to_minor("1500", "JPY") == 1500
    assert to_minor("12.345", "KWD") == 12345
    for bad in ("abc", "", "20.001", "NaN", "inf", "1e400"):
        assert to_minor(bad, "EUR") is None, bad
    assert to_minor("15.5", "JPY") is None
    assert typed_amount(3000, "EUR") == "30.00"
    assert typed_amount(1500, "JPY") == "1500"
    assert typed_amount(None, "EUR") == ""
