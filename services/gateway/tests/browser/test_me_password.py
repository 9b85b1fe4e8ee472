"""Customers' own passwords in self-service (/me/), in a real (headless) Chromium against
the running stack through the gateway's port (issue 12: "a one-time link sent by email
(or a password they set)"):

- signed in by an emailed link, a customer sets a password on the profile page (a
  mismatch and a weak one are named at their fields), signs out, and signs in again with
  studio, email and password from the sign-in page's password option;
- changing it then asks for the current one;
- the pages have no serious or critical axe-core violations.

And, sharing the running stack: the API reference at /docs is Swagger UI drawn from the
gateway's own files, nothing fetched from another origin.
"""

from __future__ import annotations

import re

import httpx
import pytest
from browser_testing import Mailbox, check_screen, flash, sign_up
from playwright.async_api import Page, expect

from frontdesk.kit.testing import wait_for

pytestmark = pytest.mark.e2e

SECRET = "purple monkey dishwasher"
# The field's label, not "New password again" (a required field's label ends in "*").
NEW_PASSWORD = re.compile(r"^New password\W*$")


async def signs_in_by_link(
    page: Page, api: httpx.AsyncClient, mailbox: Mailbox, slug: str, email: str
) -> None:
    # The gateway knows the customer's email once customers' event has reached it.
    async def known() -> bool:
        before = len(await mailbox.links(email, "/me/sign-in"))
        r = await api.post("/v1/auth/sign-in-link", json={"tenant": slug, "email": email})
        assert r.status_code == 202
        await page.wait_for_timeout(500)
        return len(await mailbox.links(email, "/me/sign-in")) > before

    await wait_for(known, timeout=30, interval=0.5)
    token = await mailbox.link(email, "/me/sign-in")
    await page.goto(f"/me/sign-in?token={token}")
    await page.get_by_role("button", name="Continue to my account").click()
    await page.wait_for_url("**/me/")
    await flash(page, "You are signed in")


async def test_a_customer_sets_a_password_and_signs_in_with_it(
    page: Page, api: httpx.AsyncClient, mailbox: Mailbox
) -> None:
    studio = await sign_up(api, "Studio Pass")
    await studio.customer("Pia", "Password", "pia@example.com")
    await signs_in_by_link(page, api, mailbox, studio.slug, "pia@example.com")

    # The profile's Password section: none yet.
    await page.get_by_role("link", name="Profile", exact=True).click()
    state = page.get_by_test_id("password-state")
    await expect(state).to_contain_text("You sign in with an emailed link")
    await expect(page.get_by_label("Current password")).to_have_count(0)
    await page.get_by_label(NEW_PASSWORD).fill(SECRET)
    await page.get_by_label("New password again").fill("something else entirely")
    await page.get_by_role("button", name="Set password").click()
    await expect(page.get_by_test_id("error-password_confirm")).to_contain_text("does not match")
    await page.get_by_label(NEW_PASSWORD).fill("short")
    await page.get_by_label("New password again").fill("short")
    await page.get_by_role("button", name="Set password").click()
    await expect(page.get_by_test_id("error-password")).to_contain_text("at least 10")
    await check_screen(page, "me-profile-password-errors")
    await page.get_by_label(NEW_PASSWORD).fill(SECRET)
    await page.get_by_label("New password again").fill(SECRET)
    await page.get_by_role("button", name="Set password").click()
    await flash(page, "Your password is saved")
    await expect(state).to_contain_text("You sign in with your password")

    # Signed out, back in with the password (a wrong one is refused first).
    await page.get_by_role("button", name="Sign out").click()
    await page.wait_for_url("**/me/sign-in")
    await page.goto(f"/me/sign-in?tenant={studio.slug}")
    await page.get_by_role("link", name="Sign in with your password").click()
    await expect(page.get_by_label("Studio (its short name)")).to_have_value(studio.slug)
    await check_screen(page, "me-sign-in-password")
    await page.get_by_label("Your email").fill("pia@example.com")
    await page.get_by_label("Password").fill("not my password")
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await expect(page.get_by_test_id("problem")).to_contain_text("password is wrong")
    await expect(page.get_by_label("Password")).to_have_value("")  # never sent back
    await page.get_by_label("Password").fill(SECRET)
    await page.get_by_role("button", name="Sign in", exact=True).click()
    await page.wait_for_url("**/me/")
    await flash(page, "You are signed in")
    await expect(page.get_by_role("heading", name="Hello, Pia")).to_be_visible()

    # Changing it now asks for the current one.
    await page.get_by_role("link", name="Profile", exact=True).click()
    new = "a brand new secret"
    await page.get_by_label(NEW_PASSWORD).fill(new)
    await page.get_by_label("New password again").fill(new)
    await page.get_by_role("button", name="Change password").click()
    await expect(page.get_by_test_id("error-current_password")).to_be_visible()
    await page.get_by_label("Current password").fill(SECRET)
    await page.get_by_label(NEW_PASSWORD).fill(new)
    await page.get_by_label("New password again").fill(new)
    await page.get_by_role("button", name="Change password").click()
    await flash(page, "Your password is saved")
    r = await api.post(
        "/v1/auth/customer-login",
        json={"tenant": studio.slug, "email": "pia@example.com", "password": new},
    )
    assert r.status_code == 200 and r.json()["role"] == "customer"


async def test_the_api_reference_is_swagger_ui_from_the_gateway_alone(page: Page) -> None:
    origins: set[str] = set()
    failed: list[str] = []
    page.on("request", lambda request: origins.add(re.sub(r"^(\w+://[^/]+).*", r"\1", request.url)))
    page.on("requestfailed", lambda request: failed.append(request.url))
    answers: list[tuple[str, int]] = []
    page.on("response", lambda response: answers.append((response.url, response.status)))
    await page.goto("/docs")
    # Swagger UI drew the merged document: the gateway's and the services' operations.
    # The first draw waits for every service's document and parses ~1.5 MB of script: on
    # a loaded 2-core machine that alone has taken just over Playwright's default 5 s.
    await expect(page.locator(".swagger-ui .information-container")).to_be_visible(timeout=30_000)
    await expect(
        page.locator(".opblock-summary-path", has_text="/v1/auth/customer-login")
    ).to_be_visible()
    await expect(
        page.locator(".opblock-summary-path", has_text="/v1/customers").first
    ).to_be_visible()
    await expect(page.get_by_text("Unable to render this definition")).to_have_count(0)
    assert len(origins) == 1 and not failed, (origins, failed)
    assert all(status == 200 for _, status in answers), answers
    assert any(url.endswith("/docs/assets/swagger-ui-bundle.js") for url, _ in answers)
    assert any(url.endswith("/docs/assets/swagger-ui.css") for url, _ in answers)
