"""A merge across customers, credits and scheduling, then its undo (issue 14, C13).

Two customers each hold a note, a credit package and a booking. Merging one into the
other moves everything to the survivor in every service (customers by itself; credits and
scheduling on ``customers.customer.merged``); the undo (``customers.customer.unmerged``)
gives each record back exactly what it held.

Needs the credits and scheduling parts of issue 14 (applying merged / unmerged) to pass.
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from frontdesk.kit.testing import wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(
        bool(os.environ.get("FRONTDESK_E2E_SERVICES"))
        and not {"customers", "credits", "scheduling"}
        <= set(os.environ.get("FRONTDESK_E2E_SERVICES", "").split(",")),
        reason="needs customers, credits and scheduling",
    ),
]


async def _ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), response.text
    return response.json()


async def _customer(tenant: Any, first: str, last: str) -> str:
    email = f"{first.lower()}{uuid.uuid4().hex[:8]}@example.com"
    body = {"first_name": first, "last_name": last, "email": email}
    return str((await _ok(await tenant.customers.post("/v1/customers", json=body), 201))["id"])


async def _holdings(tenant: Any, customer_id: str) -> dict[str, Any]:
    """What each service holds for the customer: notes, packages, bookings, the record."""
    record = await _ok(await tenant.customers.get(f"/v1/customers/{customer_id}"))
    notes = await _ok(await tenant.customers.get(f"/v1/customers/{customer_id}/notes"))
    packages = await _ok(
        await tenant.credits.get("/v1/credit-packages", params={"customer_id": customer_id})
    )
    bookings = await _ok(
        await tenant.scheduling.get("/v1/bookings", params={"customer_id": customer_id})
    )
    balance = await _ok(
        await tenant.credits.get("/v1/credit-packages/balance", params={"customer_id": customer_id})
    )
    return {
        "record": {k: record[k] for k in ("first_name", "last_name", "email", "tags")},
        "merged_into": record["merged_into"],
        "notes": sorted(n["id"] for n in notes),
        "packages": sorted(p["id"] for p in packages["items"]),
        "bookings": sorted(b["id"] for b in bookings["items"]),
        "available": balance["available"],
        "summary_bookings": record["summary"]["bookings_count"],
    }


async def _settled(tenant: Any, customer_id: str, expect: Any) -> dict[str, Any]:
    async def check() -> dict[str, Any] | None:
        held = await _holdings(tenant, customer_id)
        return held if expect(held) else None

    return await wait_for(check, timeout=30, interval=0.3)  # type: ignore[no-any-return]


async def test_merge_moves_everything_everywhere_and_undo_restores_both(tenant):
    s = tenant.scheduling
    location = await _ok(
        await s.post("/v1/locations", json={"name": "Mitte", "timezone": "Europe/Berlin"})
    )
    people = {
        "keep": await _customer(tenant, "Ada", "Lovelace"),
        "gone": await _customer(tenant, "Ada", "Lovelace-King"),
    }
    for n, (name, cid) in enumerate(people.items()):
        await _ok(
            await tenant.customers.post(
                f"/v1/customers/{cid}/notes", json={"text": f"note of {name}"}
            ),
            201,
        )
        await _ok(
            await tenant.credits.post(
                "/v1/credit-packages",
                json={
                    "customer_id": cid,
                    "credits": 5 + n,
                    "name": "card",
                    "price_minor": 5000,
                    "currency": "EUR",
                },
                headers={"Idempotency-Key": f"merge-e2e-{cid}"},
            ),
            201,
        )
        session = await _ok(
            await s.post(
                "/v1/sessions",
                json={
                    "title": f"Yoga {name}",
                    "location_id": location["id"],
                    "starts_at": (datetime.now(UTC) + timedelta(days=3, hours=2 * n)).isoformat(),
                    "duration_minutes": 60,
                    "capacity": 5,
                    "payment": {"method": "credits", "credits": 1},
                },
            ),
            201,
        )
        booked = await _ok(
            await s.post(
                "/v1/bookings",
                json={"session_id": session["id"], "customer_id": cid},
                headers={"Prefer": "wait=10"},
            ),
            201,
        )
        assert booked["status"] == "confirmed"
    before = {
        name: await _settled(tenant, cid, lambda h: h["summary_bookings"] == 1)
        for name, cid in people.items()
    }
    keep, gone = people["keep"], people["gone"]

    merge = await _ok(
        await tenant.customers.post(f"/v1/customers/{keep}/merge", json={"merged_id": gone}),
        201,
    )

    def all_moved(held: dict[str, Any]) -> bool:
        return (
            len(held["notes"]) == 2
            and len(held["packages"]) == 2
            and len(held["bookings"]) == 2
            and held["summary_bookings"] == 2
        )

    merged_view = await _settled(tenant, keep, all_moved)
    for kind in ("notes", "packages", "bookings"):
        assert set(merged_view[kind]) == set(before["keep"][kind]) | set(before["gone"][kind])
    assert merged_view["available"] == before["keep"]["available"] + before["gone"]["available"]
    emptied = await _settled(
        tenant, gone, lambda h: not (h["notes"] or h["packages"] or h["bookings"])
    )
    assert emptied["merged_into"] == keep

    await _ok(await tenant.customers.post(f"/v1/merges/{merge['id']}/undo"))
    for name, cid in people.items():
        restored = await _settled(
            tenant,
            cid,
            lambda h, name=name: (
                h["packages"] == before[name]["packages"]
                and h["bookings"] == before[name]["bookings"]
                and h["summary_bookings"] == 1
            ),
        )
        assert restored == before[name], name
