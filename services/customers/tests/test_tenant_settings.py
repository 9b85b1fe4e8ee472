"""Issue 12 in customers: the copy of each tenant's settings kept from the gateway's
``identity.tenant.changed`` (newest wins, redeliveries change nothing), used where the
deployment's settings stood in: the phone region (staff, guests, imports) and the zone of
the local times in the CSV export."""

import uuid
from datetime import UTC, datetime, timedelta

from conftest import apply
from customers_testing import booking
from sqlalchemy import Integer, String, column, select, values
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP

from frontdesk.contracts.base import Contact
from frontdesk.contracts.identity import TenantChanged
from frontdesk.contracts.scheduling import BookingRequested
from frontdesk.customers.adapters.listing import export_cells
from frontdesk.customers.adapters.tenants import tenant_settings
from frontdesk.customers.application import imports
from frontdesk.customers.domain.export import cells

US_PHONE = "(212) 736-5000"  # no country code: a US number only when read in the US


def announced(tenant_id, country="US", zone="America/New_York", name="Studio"):
    return TenantChanged(
        tenant_id=tenant_id,
        name=name,
        slug="studio",
        default_country=country,
        language="en",
        currency="USD",
        time_zone=zone,
    )


async def kept(runtime, tenant_id):
    async with runtime.engine.connect() as conn:
        row = (
            (
                await conn.execute(
                    select(tenant_settings).where(tenant_settings.c.tenant_id == tenant_id)
                )
            )
            .mappings()
            .first()
        )
    return row


async def test_the_newest_copy_wins_whatever_the_order_and_redeliveries_change_nothing(
    runtime, tenant_id, sent
):
    t0 = datetime.now(UTC)
    await apply(
        runtime, announced(tenant_id, name="v2"), tenant_id, tenant_id, version=2, occurred_at=t0
    )
    # An older announcement arriving late loses.
    await apply(
        runtime,
        announced(tenant_id, name="v1", country="DE"),
        tenant_id,
        tenant_id,
        version=1,
        occurred_at=t0 - timedelta(minutes=1),
    )
    row = await kept(runtime, tenant_id)
    assert (row["name"], row["default_country"], row["version"]) == ("v2", "US", 2)
    # Through the broker: version 3, delivered twice; then the stale version 2 again.
    env = await sent.emit(
        announced(tenant_id, name="v3", zone="Europe/Berlin"), tenant_id, tenant_id, version=3
    )
    await sent.broker.publish(env)
    await sent.emit(announced(tenant_id, name="v2 again"), tenant_id, tenant_id, version=2)
    await sent.handled()
    row = await kept(runtime, tenant_id)
    assert (row["name"], row["time_zone"], row["version"]) == ("v3", "Europe/Berlin", 3)
    # Another tenant's copy is its own.
    assert await kept(runtime, uuid.uuid4()) is None


async def test_phones_without_a_country_code_are_read_in_the_tenants_country(
    client, tokens, runtime, tenant_id
):
    admin = tokens.headers()
    body = {"first_name": "Ada", "last_name": "Lovelace", "phone": US_PHONE}
    # No copy yet: the deployment's region (GB), where this is no mobile number.
    before = await client.post("/v1/customers", json=body, headers=admin)
    assert before.status_code == 422 and before.json()["errors"][0]["field"] == "phone"
    await apply(runtime, announced(tenant_id), tenant_id, tenant_id)
    created = await client.post("/v1/customers", json=body, headers=admin)
    assert created.status_code == 201, created.text
    assert created.json()["phone"] == "+12127365000"
    # Editing reads it the same way; another tenant still uses the deployment's region.
    patched = await client.patch(
        f"/v1/customers/{created.json()['id']}", json={"phone": "(415) 555-2671"}, headers=admin
    )
    assert patched.json()["phone"] == "+14155552671"
    other = tokens.headers(tenant_id=uuid.uuid4())
    assert (await client.post("/v1/customers", json=body, headers=other)).status_code == 422
    # An announced country phonenumbers does not know falls back to the deployment's.
    await apply(runtime, announced(tenant_id, country="ZZ"), tenant_id, tenant_id, version=2)
    gb = {**body, "phone": "07911 123456", "email": "gb@example.com"}
    assert (await client.post("/v1/customers", json=gb, headers=admin)).json()["phone"] == (
        "+447911123456"
    )


async def test_a_guests_phone_and_an_imports_phones_use_the_tenants_country(
    client, tokens, runtime, tenant_id
):
    admin = tokens.headers()
    await apply(runtime, announced(tenant_id), tenant_id, tenant_id)
    guest = Contact(first_name="Grace", last_name="Hopper", email="g@example.com", phone=US_PHONE)
    await apply(runtime, booking(BookingRequested, guest=guest), tenant_id)
    found = (await client.get("/v1/customers?q=hopper", headers=admin)).json()["items"]
    assert [c["phone"] for c in found] == ["+12127365000"]

    data = "First,Last,Phone\r\nAlan,Turing,(415) 555-2671\r\n"
    job = (
        await client.post(
            "/v1/imports", content=data, headers={**admin, "content-type": "text/csv"}
        )
    ).json()
    mapping = {"First": "first_name", "Last": "last_name", "Phone": "phone"}
    await client.post(f"/v1/imports/{job['id']}/run", json={"mapping": mapping}, headers=admin)
    await imports.work(runtime.uow, chunk_rows=10)
    done = (await client.get(f"/v1/imports/{job['id']}", headers=admin)).json()
    assert (done["created"], done["errors"]) == (1, 0)
    turing = (await client.get("/v1/customers?q=turing", headers=admin)).json()["items"]
    assert [c["phone"] for c in turing] == ["+14155552671"]


async def test_the_export_writes_local_times_in_the_tenants_zone(
    client, tokens, runtime, tenant_id
):
    admin = tokens.headers()
    ada = (
        await client.post(
            "/v1/customers",
            json={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
            headers=admin,
        )
    ).json()
    winter = datetime(2026, 1, 15, 17, 0, tzinfo=UTC)
    summer = datetime(2026, 7, 15, 17, 0, tzinfo=UTC)
    await apply(runtime, booking(customer_id=uuid.UUID(ada["id"]), starts_at=winter), tenant_id)
    await apply(runtime, booking(customer_id=uuid.UUID(ada["id"]), starts_at=summer), tenant_id)

    async def export():
        r = await client.get("/v1/customers/export.csv", headers=admin)
        header, line = r.text.splitlines()[:2]
        row = dict(zip(header.split(","), line.split(","), strict=True))
        return row["first_booking"], row["last_booking"]

    assert await export() == ("2026-01-15T17:00:00+00:00", "2026-07-15T17:00:00+00:00")
    await apply(runtime, announced(tenant_id, zone="Europe/Berlin"), tenant_id, tenant_id)
    assert await export() == ("2026-01-15T18:00:00+01:00", "2026-07-15T19:00:00+02:00")
    # A zone the tz database does not know falls back to the deployment's (UTC).
    await apply(runtime, announced(tenant_id, zone="Mars/Olympus"), tenant_id, tenant_id, 2)
    assert await export() == ("2026-01-15T17:00:00+00:00", "2026-07-15T17:00:00+00:00")


TIMES = [
    None,
    datetime(2026, 3, 29, 0, 59, 59, 999999, tzinfo=UTC),  # Berlin: the last second of CET
    datetime(2026, 3, 29, 1, 0, tzinfo=UTC),  # the first of CEST
    datetime(2026, 11, 1, 5, 30, 0, 120, tzinfo=UTC),
]
ZONES = ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kolkata", "Pacific/Chatham"]


async def test_sql_and_python_write_the_same_local_times(runtime):
    rows = [
        {
            "first_name": "A",
            "last_name": "B",
            "email": None,
            "phone": None,
            "status": "active",
            "tags": [],
            "bookings_count": 0,
            "lifetime_spend_minor": 0,
            "currency": None,
            "first_booking_at": TIMES[i],
            "last_booking_at": TIMES[-1 - i],
            "credits_available": 0,
        }
        for i in range(len(TIMES))
    ]
    table = values(
        column("n", Integer),
        column("first_name", String),
        column("last_name", String),
        column("email", String),
        column("phone", String),
        column("status", String),
        column("tags", ARRAY(String)),
        column("bookings_count", Integer),
        column("lifetime_spend_minor", Integer),
        column("currency", String),
        column("first_booking_at", TIMESTAMP(timezone=True)),
        column("last_booking_at", TIMESTAMP(timezone=True)),
        column("credits_available", Integer),
        name="v",
    ).data([(i, *row.values()) for i, row in enumerate(rows)])
    async with runtime.engine.connect() as conn:
        for zone in ZONES:
            got = (
                await conn.execute(select(*export_cells(table.c, zone)).order_by(table.c.n))
            ).all()
            for row, sql in zip(rows, got, strict=True):
                assert [cell or "" for cell in sql] == cells(row, zone), (zone, row)
