"""What the browser tests share: the browser's settings, a studio signed up through the
gateway, and the mailbox the sign-in and invitation links are read from."""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page, expect
from running_stack import SERVICES, Stack
from sqlalchemy import select

from frontdesk.gateway.adapters.tables import messaging
from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit import db
from frontdesk.kit.testing import wait_for

ROOT = Path(__file__).resolve().parents[4]
CHROMIUM = os.environ.get("FRONTDESK_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("FRONTDESK_SCREENSHOTS_DIR", ROOT / ".run" / "screenshots"))
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "correct horse battery"
NEEDED = {"gateway", "customers", "credits", "scheduling"}
LINK = re.compile(r"token=([0-9a-f]{32}\.[A-Za-z0-9_-]{43})")


class Studio:
    """One tenant made by sign-up through the gateway, with its owner's token for
    setting up what the browser then works with."""

    def __init__(self, api: httpx.AsyncClient, signed_up: dict[str, Any]) -> None:
        self.api = api
        self.tenant = signed_up["tenant"]
        self.slug: str = self.tenant["slug"]
        self.name: str = self.tenant["name"]
        self.headers = {"Authorization": f"Bearer {signed_up['tokens']['access_token']}"}

    async def post(self, path: str, body: dict[str, Any], **headers: str) -> dict[str, Any]:
        r = await self.api.post(path, json=body, headers={**self.headers, **headers})
        assert r.status_code in (200, 201, 202), r.text
        answer: dict[str, Any] = r.json()
        return answer

    async def get(self, path: str, **params: Any) -> Any:
        r = await self.api.get(path, params=params, headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()

    async def customer(self, first: str, last: str, email: str, tags: list[str] = ()) -> Any:  # type: ignore[assignment]
        return await self.post(
            "/v1/customers",
            {"first_name": first, "last_name": last, "email": email, "tags": list(tags)},
        )


async def sign_up(api: httpx.AsyncClient, name: str) -> Studio:
    slug = f"s-{uuid.uuid4().hex[:10]}"
    r = await api.post(
        "/v1/tenants",
        json={
            "name": name,
            "slug": slug,
            "default_country": "DE",
            "currency": "EUR",
            "time_zone": "Europe/Berlin",
            "owner": {"email": "owner@example.com", "name": "Olga Owner", "password": PASSWORD},
        },
    )
    assert r.status_code == 201, r.text
    return Studio(api, r.json())


class Mailbox:
    """The account emails the gateway asked for: from notifications' SMTP stand-in when
    notifications runs in the stack, else from the gateway's outbox (the request)."""

    def __init__(self, stack: Stack) -> None:
        env = stack.env
        settings = GatewaySettings(
            service="gateway",
            database_prefix=env["FRONTDESK_DATABASE_PREFIX"],
            **({"pg_url": env["FRONTDESK_PG_URL"]} if "FRONTDESK_PG_URL" in env else {}),
        )
        self.engine = db.create_engine(settings.resolved_database_url(), pool_size=1)
        self.smtp = env.get("FRONTDESK_STANDINS_URL") if "notifications" in SERVICES else None

    async def _requested(self, email: str, page: str) -> list[str]:
        async with self.engine.connect() as conn:
            rows = await conn.execute(
                select(messaging.outbox.c.envelope)
                .where(messaging.outbox.c.routing_key == "identity.account_email.requested.v1")
                .order_by(messaging.outbox.c.seq)
            )
            payloads = [e["payload"] for e in rows.scalars()]
        return [p["link"] for p in payloads if p["email"] == email and page in p["link"]]

    async def _mailed(self, email: str, page: str) -> list[str]:
        async with httpx.AsyncClient(base_url=str(self.smtp), timeout=30) as fake:
            mails = (await fake.get("/_fake/mails", params={"to": email})).json()
        return [m.get("text", "") for m in mails if page in m.get("text", "")]

    async def links(self, email: str, page: str) -> list[str]:
        """Every link to ``page`` sent to ``email`` so far, oldest first."""
        if self.smtp is not None:
            return await self._mailed(email, page)
        return await self._requested(email, page)

    async def link(self, email: str, page: str, after: int = 0) -> str:
        """The secret of the newest link to ``page`` once more than ``after`` arrived."""

        async def arrived() -> str | None:
            found = await self.links(email, page)
            match = LINK.search(found[-1]) if len(found) > after else None
            return match.group(1) if match else None

        token: str = await wait_for(arrived, timeout=60, interval=0.5)
        return token


AXE = Axe()


async def flash(page: Page, text: str | re.Pattern[str]) -> None:
    """The page's message after an action says ``text``."""
    await expect(page.get_by_test_id("flash")).to_contain_text(text)


async def check_screen(page: Page, name: str) -> None:
    """Screenshots at desktop and phone width (into ``SCREENSHOTS``), each without serious
    or critical axe-core violations, and nothing wider than a phone's screen."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    for width, size in (("desktop", DESKTOP), ("phone", PHONE)):
        await page.set_viewport_size(size)
        await page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        results = await AXE.run(page)
        bad = [
            (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
            for v in results.response["violations"]
            if v["impact"] in ("serious", "critical")
        ]
        assert not bad, f"{name} at {width} width: {bad}"
        if width == "phone":
            overflow = await page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 1, f"{name} scrolls sideways by {overflow}px on a phone"
    await page.set_viewport_size(DESKTOP)


BERLIN = ZoneInfo("Europe/Berlin")


def tomorrow() -> str:
    """Tomorrow's date in Berlin, where the test studios are."""
    return (datetime.now(BERLIN) + timedelta(days=1)).date().isoformat()


async def log_in(page: Page, studio: Studio, email: str = "owner@example.com") -> None:
    """A staff member of ``studio`` logs in to the console."""
    await page.goto("/console/login")
    await page.get_by_label("Studio (its short name)").fill(studio.slug)
    await page.get_by_role("textbox", name="Email").fill(email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Log in").click()
    await page.wait_for_url("**/console/customers")
