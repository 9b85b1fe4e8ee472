"""Browser tests of the console (/console/) and self-service (/me/): Debian's Chromium
driven by Playwright against the running stack (tests/e2e/running_stack.py), every
service a real process, the console reached only through the gateway's port.

Screenshots go to ``FRONTDESK_SCREENSHOTS_DIR`` (default ``.run/screenshots``, which git
ignores)."""

from __future__ import annotations

import shutil
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, BrowserContext, Page, async_playwright

sys.path.append(str(Path(__file__).parent))

from browser_testing import ARGS, CHROMIUM, DESKTOP, NEEDED, Mailbox
from running_stack import SERVICES, Stack, running


@pytest.fixture(scope="module")
async def stack(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Stack]:
    """The running stack (as tests/e2e's), with small connection pools (PostgreSQL's 100
    connections are shared by everyone's tests) and limits set for one browser that is
    every user at once from 127.0.0.1."""
    if not set(SERVICES) >= NEEDED:
        pytest.skip(f"the console needs {sorted(NEEDED)} in FRONTDESK_E2E_SERVICES")
    s = Stack(tmp_path_factory.mktemp("browser"))
    s.env.update(
        {
            "FRONTDESK_DB_POOL_SIZE": "1",
            "FRONTDESK_DB_MAX_OVERFLOW": "2",
            "FRONTDESK_RATE_LIMIT_PER_ADDRESS": "100000",
            "FRONTDESK_LOGIN_LIMIT_PER_ADDRESS": "1000",
            "FRONTDESK_LOGIN_LIMIT_PER_ACCOUNT": "1000",
        }
    )
    # A busy machine starts a dozen processes slowly.
    async with running(s, start_timeout=420):
        yield s


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"no Chromium at {CHROMIUM}: `make tools` installs Debian's package")
    async with async_playwright() as p:
        found = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield found
        finally:
            await found.close()


@pytest.fixture
async def context(browser: Browser, stack: Stack) -> AsyncIterator[BrowserContext]:
    made = await browser.new_context(viewport=DESKTOP, base_url=stack.url("gateway"))
    made.set_default_timeout(20_000)
    try:
        yield made
    finally:
        await made.close()


@pytest.fixture
async def page(context: BrowserContext) -> Page:
    return await context.new_page()


@pytest.fixture
async def api(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    # Set-up traffic as a client of its own address (the gateway trusts X-Forwarded-For
    # from 127.0.0.1), so it never counts against the browser's limits.
    address = f"198.51.100.{uuid.uuid4().int % 250 + 1}"
    async with httpx.AsyncClient(
        base_url=stack.url("gateway"), timeout=30, headers={"X-Forwarded-For": address}
    ) as client:
        yield client


@pytest.fixture
async def mailbox(stack: Stack) -> AsyncIterator[Mailbox]:
    found = Mailbox(stack)
    yield found
    await found.engine.dispose()
