"""`make demo`: the demo data script fills a tenant over HTTP on the running stack, and a
second run changes nothing."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from typing import Any

import pytest
from running_stack import CORE, ROOT

from frontdesk.kit.testing import wait_for

pytestmark = pytest.mark.e2e


def run_demo(tenant: Any) -> str:
    urls = [f"--{name}-url={tenant.stack.url(name)}" for name in CORE]
    done = subprocess.run(
        [sys.executable, "scripts/demo_data.py", f"--tenant={tenant.id}", *urls],
        cwd=ROOT,
        env=tenant.stack.env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


async def test_demo_data_fills_a_studio_once(tenant):
    out = await asyncio.to_thread(run_demo, tenant)
    assert "14 classes, 12 customers, 24 bookings confirmed" in out, out
    stats = (await tenant.customers.get("/v1/customers/stats")).json()
    assert stats["total_customers"] == 12

    async def summaries_caught_up() -> dict[str, Any] | None:
        r = await tenant.customers.get("/v1/customers", params={"q": "lovelace"})
        (ada,) = r.json()["items"]
        s = (await tenant.customers.get(f"/v1/customers/{ada['id']}")).json()["summary"]
        return s if s["bookings_count"] == 3 and s["credits_available"] == 7 else None

    summary = await wait_for(summaries_caught_up, timeout=30, interval=0.3)
    assert summary["next_session"] is not None
    again = await asyncio.to_thread(run_demo, tenant)
    assert "there already" in again
    assert (await tenant.customers.get("/v1/customers/stats")).json()["total_customers"] == 12
