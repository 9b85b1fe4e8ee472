"""Gapless numbers under concurrency: 200 issues at once in one tenant, on two replicas
(each its own process-like runtime and connection pool), with failing issues in between
that took a number and rolled back, give 1..200 with no gap and no repeat."""

import asyncio
import uuid
from datetime import date

from frontdesk.billing.app import SPEC
from frontdesk.kit.service import Runtime
from frontdesk.kit.testing import app_client

from .helpers import ADMIN, draft, line

ISSUES = 200


async def test_200_concurrent_issues_on_two_replicas_are_gapless(client, tokens, runtime):
    customers = [uuid.uuid4() for _ in range(20)]  # some share a customer's lock, most not
    good = [
        (await draft(client, tokens, customers[i % len(customers)]))["id"] for i in range(ISSUES)
    ]
    # Drafts whose issue fails after taking its number (due before the issue date): their
    # transactions roll back, and so do their numbers.
    bad = [
        (await draft(client, tokens, customers[i], due_on=str(date(2000, 1, 1))))["id"]
        for i in range(20)
    ]
    replica = Runtime(SPEC, runtime.settings)  # a second process's pool on the same database
    try:
        async with app_client(replica) as other:
            clients = (client, other)
            jobs = [(i, invoice_id, 200) for i, invoice_id in enumerate(good)]
            jobs += [(i, invoice_id, 422) for i, invoice_id in enumerate(bad)]
            jobs.sort(key=lambda job: (job[0] * 7919) % 211)  # interleave the failing ones

            async def issue(i: int, invoice_id: str, expected: int) -> str | None:
                r = await clients[i % 2].post(
                    f"/v1/invoices/{invoice_id}/issue", headers=tokens.headers(ADMIN)
                )
                assert r.status_code == expected, r.text
                return r.json()["number"] if expected == 200 else None

            numbers = await asyncio.gather(*(issue(*job) for job in jobs))
    finally:
        await replica.close()
    year = date.today().year
    issued = sorted(n for n in numbers if n is not None)
    assert issued == [f"{year}-{n:06d}" for n in range(1, ISSUES + 1)]
    # A next issue continues the series where it ended.
    r = await client.post(
        "/v1/invoices",
        json={"customer_id": str(uuid.uuid4()), "lines": [line(100)]},
        headers=tokens.headers(ADMIN),
    )
    r = await client.post(f"/v1/invoices/{r.json()['id']}/issue", headers=tokens.headers(ADMIN))
    assert r.json()["number"] == f"{year}-{ISSUES + 1:06d}"


async def test_series_are_per_tenant_and_prefix_and_credit_notes_have_their_own(client, tokens):
    admin = tokens.headers(ADMIN)
    year = date.today().year
    first = await draft(client, tokens)
    r = await client.post(f"/v1/invoices/{first['id']}/issue", headers=admin)
    assert r.json()["number"] == f"{year}-000001"
    prefixed = await draft(client, tokens, prefix="R-")
    r = await client.post(f"/v1/invoices/{prefixed['id']}/issue", headers=admin)
    assert r.json()["number"] == f"R-{year}-000001"
    r = await client.post("/v1/credit-notes", json={"invoice_id": first["id"]}, headers=admin)
    assert r.status_code == 201 and r.json()["number"] == f"CN-{year}-000001"
    other = tokens.headers(ADMIN, tenant_id=uuid.uuid4())
    r = await client.post(
        "/v1/invoices",
        json={"customer_id": str(uuid.uuid4()), "lines": [line(100)]},
        headers=other,
    )
    r = await client.post(f"/v1/invoices/{r.json()['id']}/issue", headers=other)
    assert r.json()["number"] == f"{year}-000001"
