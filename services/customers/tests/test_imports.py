"""CSV import (C17) over HTTP on the real database: upload (whole or in parts), the dry run
that writes nothing, the import that publishes through the outbox, idempotent by email,
the error report, progress, and bad input answered as problem+json."""

import asyncio
import contextlib
import csv
import io
import itertools
import os
import sys
import uuid

import pytest
from sqlalchemy import func, select

from frontdesk.customers.adapters.tables import customers, messaging, notes
from frontdesk.customers.application import imports
from frontdesk.kit.testing import wait_for

HEADER = "First,Last,Email,Phone,Tags,Status,Notes\r\n"
ROWS = [
    'Ada,Lovelace,ada@example.com,07911 123456,"math; vip",VIP,First programmer',  # line 2
    "Grace,Hopper,grace@example.com,,navy,,",  # 3
    ",NoFirst,nofirst@example.com,,,,",  # 4: no first name
    "Bad,Email,not-an-email,,,,=1+2",  # 5: bad email (and a formula in a cell)
    "Alan,Turing,,07400 123456,,,",  # 6: a phone, no email
    "Linus,Torvalds,linus@example.com,,,gold,",  # 7: unknown status
    "Ada,Again,ADA@example.com,,,,",  # 8: Ada's email again
]
FILE = HEADER + "\r\n".join(ROWS) + "\r\n"
MAPPING = {
    "First": "first_name",
    "Last": "last_name",
    "Email": "email",
    "Phone": "phone",
    "Tags": "tags",
    "Status": "status",
    "Notes": "notes",
}
CSV = {"content-type": "text/csv"}


@pytest.fixture
async def worker(runtime):
    """The worker's import job, running in the background as the worker process runs it."""

    async def loop():
        while True:
            await imports.work(runtime.uow, chunk_rows=3)
            await asyncio.sleep(0.02)

    task = asyncio.create_task(loop())
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def upload(client, headers, data, **extra):
    body = data.encode() if isinstance(data, str) else data
    r = await client.post("/v1/imports", content=body, headers={**headers, **CSV, **extra})
    assert r.status_code == 201, r.text
    return r.json()


async def finished(client, headers, import_id):
    async def done():
        r = await client.get(f"/v1/imports/{import_id}", headers=headers)
        return r.json() if r.json()["phase"] in ("validated", "imported") else None

    return await wait_for(done, timeout=30)


async def run(client, headers, import_id, step, **body):
    r = await client.post(f"/v1/imports/{import_id}/{step}", json=body, headers=headers)
    assert r.status_code == 202, r.text
    return await finished(client, headers, import_id)


async def count(runtime, table, tenant_id, *where):
    async with runtime.engine.connect() as conn:
        return await conn.scalar(
            select(func.count()).select_from(table).where(table.c.tenant_id == tenant_id, *where)
        )


async def registered(runtime, tenant_id):
    async with runtime.engine.connect() as conn:
        rows = await conn.scalars(
            select(messaging.outbox.c.envelope).where(
                messaging.outbox.c.tenant_id == tenant_id,
                messaging.outbox.c.routing_key == "customers.customer.registered.v1",
            )
        )
        return list(rows)


def report(text):
    return list(csv.reader(io.StringIO(text)))


async def test_dry_run_reports_every_rows_errors_and_writes_nothing(
    client, tokens, runtime, tenant_id, worker
):
    admin = tokens.headers()
    job = await upload(client, admin, FILE)
    assert job["phase"] == "uploaded" and job["rows_total"] == 7
    assert job["columns"] == list(MAPPING)
    done = await run(client, admin, job["id"], "dry-run", mapping=MAPPING)
    assert done["phase"] == "validated" and done["dry_run"] is True
    assert (done["rows_done"], done["created"], done["skipped"], done["errors"]) == (7, 3, 1, 3)
    assert await count(runtime, customers, tenant_id) == 0
    assert await registered(runtime, tenant_id) == []
    r = await client.get(f"/v1/imports/{job['id']}/errors.csv", headers=admin)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    lines = report(r.text)
    assert lines[0] == ["line", "reason", *MAPPING]
    assert [row[0] for row in lines[1:]] == ["4", "5", "7"]
    assert lines[1][1].startswith("first_name: must not be empty")
    assert lines[2][1].startswith("email: ")
    assert lines[3][1].startswith("status: unknown status 'gold'")
    assert lines[2][2:] == ["Bad", "Email", "not-an-email", "", "", "", "'=1+2"]  # neutralised


async def test_import_creates_through_the_domain_with_events_and_a_rerun_creates_nothing(
    client, tokens, runtime, tenant_id, worker
):
    admin = tokens.headers()
    job = await upload(client, admin, FILE, **{"Upload-Complete": "?1"})
    await run(client, admin, job["id"], "dry-run", mapping=MAPPING)
    done = await run(client, admin, job["id"], "run")  # the dry run's mapping and rule
    assert done["phase"] == "imported" and done["dry_run"] is False
    assert (done["created"], done["updated"], done["skipped"], done["errors"]) == (3, 0, 1, 3)
    listed = (await client.get("/v1/customers?sort=last_name", headers=admin)).json()["items"]
    assert [(c["first_name"], c["last_name"]) for c in listed] == [
        ("Grace", "Hopper"),
        ("Ada", "Lovelace"),
        ("Alan", "Turing"),
    ]
    ada = next(c for c in listed if c["last_name"] == "Lovelace")
    ada = (await client.get(f"/v1/customers/{ada['id']}", headers=admin)).json()
    assert (ada["email"], ada["phone"], ada["status"], ada["tags"]) == (
        "ada@example.com",
        "+447911123456",
        "vip",
        ["math", "vip"],
    )
    note_rows = await count(runtime, notes, tenant_id)
    assert note_rows == 1
    events = await registered(runtime, tenant_id)
    assert sorted(e["payload"]["last_name"] for e in events) == ["Hopper", "Lovelace", "Turing"]
    assert {e["payload"]["source"] for e in events} == {"import"}
    # The same file again (a new upload), imported: nothing new.
    again = await upload(client, admin, FILE)
    second = await run(client, admin, again["id"], "run", mapping=MAPPING)
    assert (second["created"], second["skipped"], second["errors"]) == (0, 4, 3)
    assert await count(runtime, customers, tenant_id) == 3
    assert len(await registered(runtime, tenant_id)) == 3
    # A run of an import done answers 409; another tenant sees none of it.
    r = await client.post(f"/v1/imports/{job['id']}/run", json={}, headers=admin)
    assert r.status_code == 409
    other = tokens.headers(tenant_id=uuid.uuid4())
    assert (await client.get(f"/v1/imports/{job['id']}", headers=other)).status_code == 404
    assert (await client.get("/v1/imports", headers=other)).json()["items"] == []


async def test_update_rule_overwrites_given_cells_and_adds_tags(
    client, tokens, runtime, tenant_id, worker
):
    admin = tokens.headers()
    grace = (
        await client.post(
            "/v1/customers",
            headers=admin,
            json={
                "first_name": "Grace",
                "last_name": "Hopper",
                "email": "grace@example.com",
                "tags": ["admiral"],
            },
        )
    ).json()
    data = HEADER + "Grace,Murray Hopper,GRACE@example.com,07911 123456,navy,,\r\n"
    skipped = await run(
        client, admin, (await upload(client, admin, data))["id"], "run", mapping=MAPPING
    )
    assert (skipped["created"], skipped["skipped"]) == (0, 1)
    job = await upload(client, admin, data)
    done = await run(client, admin, job["id"], "run", mapping=MAPPING, existing="update")
    assert (done["created"], done["updated"], done["skipped"]) == (0, 1, 0)
    after = (await client.get(f"/v1/customers/{grace['id']}", headers=admin)).json()
    assert (after["last_name"], after["phone"], after["tags"]) == (
        "Murray Hopper",
        "+447911123456",
        ["admiral", "navy"],
    )
    assert await count(runtime, customers, tenant_id) == 1
    async with runtime.engine.connect() as conn:
        updated = list(
            await conn.scalars(
                select(messaging.outbox.c.envelope).where(
                    messaging.outbox.c.routing_key == "customers.customer.updated.v1",
                    messaging.outbox.c.tenant_id == tenant_id,
                )
            )
        )
    assert [e["aggregate_id"] for e in updated] == [grace["id"]]


async def test_a_file_in_parts_cut_anywhere_is_the_same_file(client, tokens, worker):
    admin = tokens.headers()
    data = FILE.replace("Ada,Lovelace", "Zoë,Lovelace").encode()
    cuts = [5, data.index("ë".encode()) + 1, data.index(b"navy") + 2, len(data) - 3]
    first = await upload(client, admin, data[: cuts[0]], **{"Upload-Complete": "?0"})
    assert first["phase"] == "uploading" and first["received_bytes"] == cuts[0]
    url = f"/v1/imports/{first['id']}/parts"
    r = await client.post(
        f"/v1/imports/{first['id']}/dry-run", json={"mapping": MAPPING}, headers=admin
    )
    assert r.status_code == 409
    edges = [*cuts, len(data)]
    for start, end in itertools.pairwise(edges):
        last = end == len(data)
        headers = {
            **admin,
            **CSV,
            "Upload-Offset": str(start),
            "Upload-Complete": "?1" if last else "?0",
        }
        r = await client.post(url, content=data[start:end], headers=headers)
        assert r.status_code == 200, r.text
        assert r.headers["Upload-Offset"] == str(end)
        # The same part again is refused, never appended twice.
        if not last:
            again = await client.post(url, content=data[start:end], headers=headers)
            assert again.status_code == 409
            assert again.headers["content-type"] == "application/problem+json"
    r = await client.post(
        url, content=b"x", headers={**admin, **CSV, "Upload-Offset": str(len(data))}
    )
    assert r.status_code == 409  # complete: no more parts
    done = await run(client, admin, first["id"], "dry-run", mapping=MAPPING)
    assert (done["rows_total"], done["created"], done["skipped"], done["errors"]) == (7, 3, 1, 3)


async def test_no_row_limit_a_large_file_sent_in_parts(client, tokens, runtime, tenant_id):
    admin = tokens.headers()
    rows = 20_000
    data = (
        HEADER
        + "".join(
            f"Name{i},Family{i},person{i}@example-studio.com,,t{i % 7},,\r\n" for i in range(rows)
        )
    ).encode()
    part = runtime.settings.max_body_bytes
    assert len(data) > part
    too_big = await client.post("/v1/imports", content=data, headers={**admin, **CSV})
    assert too_big.status_code == 413  # one request is bounded: a big file goes in parts
    job = await upload(client, admin, data[:part], **{"Upload-Complete": "?0"})
    offset = part
    while offset < len(data):
        end = min(offset + part, len(data))
        r = await client.post(
            f"/v1/imports/{job['id']}/parts",
            content=data[offset:end],
            headers={
                **admin,
                **CSV,
                "Upload-Offset": str(offset),
                "Upload-Complete": "?1" if end == len(data) else "?0",
            },
        )
        assert r.status_code == 200, r.text
        offset = end
    assert r.json()["rows_total"] == rows
    await client.post(f"/v1/imports/{job['id']}/run", json={"mapping": MAPPING}, headers=admin)
    await imports.work(runtime.uow, chunk_rows=2000)
    done = (await client.get(f"/v1/imports/{job['id']}", headers=admin)).json()
    assert (done["phase"], done["created"], done["errors"]) == ("imported", rows, 0)
    assert await count(runtime, customers, tenant_id) == rows
    assert len(await registered(runtime, tenant_id)) == rows


async def test_progress_is_visible_and_two_workers_never_import_a_row_twice(
    client, tokens, runtime, tenant_id
):
    admin = tokens.headers()
    data = HEADER + "".join(f"A{i},B{i},x{i}@example.com,,,,\r\n" for i in range(100))
    job = await upload(client, admin, data)
    await client.post(f"/v1/imports/{job['id']}/run", json={"mapping": MAPPING}, headers=admin)
    assert await imports.work_chunk(runtime.uow, chunk_rows=7)
    assert await imports.work_chunk(runtime.uow, chunk_rows=7)
    now = (await client.get(f"/v1/imports/{job['id']}", headers=admin)).json()
    assert (now["phase"], now["rows_done"], now["rows_total"], now["created"]) == (
        "importing",
        14,
        100,
        14,
    )
    assert await count(runtime, customers, tenant_id) == 14
    # Two workers at once (each chunk locks the import: the other takes none of its rows).
    await asyncio.gather(
        imports.work(runtime.uow, chunk_rows=7), imports.work(runtime.uow, chunk_rows=7)
    )
    done = (await client.get(f"/v1/imports/{job['id']}", headers=admin)).json()
    assert (done["phase"], done["rows_done"], done["created"]) == ("imported", 100, 100)
    assert await count(runtime, customers, tenant_id) == 100
    assert len({e["aggregate_id"] for e in await registered(runtime, tenant_id)}) == 100


async def test_a_worker_killed_mid_import_is_resumed_without_duplicates(
    client, tokens, runtime, tenant_id
):
    """A real worker process (``python -m frontdesk.customers worker``) is killed with
    SIGKILL in the middle of an import; another finishes it: every row exactly once."""
    admin = tokens.headers()
    rows = 2000
    data = HEADER + "".join(f"K{i},L{i},k{i}@example.com,,,,\r\n" for i in range(rows))
    job = await upload(client, admin, data)
    await client.post(f"/v1/imports/{job['id']}/run", json={"mapping": MAPPING}, headers=admin)
    env = dict(
        os.environ,
        FRONTDESK_DATABASE_URL=runtime.settings.resolved_database_url(),
        FRONTDESK_BUS_PREFIX=runtime.settings.bus_prefix,
        FRONTDESK_IMPORT_CHUNK_ROWS="10",
        FRONTDESK_IMPORT_POLL_SECONDS="0.05",
        FRONTDESK_STATS_FOLD_SECONDS="3600",
        FRONTDESK_LOG_LEVEL="WARNING",
        FRONTDESK_DB_POOL_SIZE="1",
        FRONTDESK_DB_MAX_OVERFLOW="1",
    )
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "frontdesk.customers", "worker", env=env
    )
    try:

        async def some_done():
            r = await client.get(f"/v1/imports/{job['id']}", headers=admin)
            return r.json()["rows_done"] >= 100

        await wait_for(some_done, timeout=60, interval=0.01)
    finally:
        process.kill()
        await process.wait()
    killed_at = (await client.get(f"/v1/imports/{job['id']}", headers=admin)).json()
    assert killed_at["phase"] == "importing" and killed_at["rows_done"] < rows
    await imports.work(runtime.uow, chunk_rows=500)
    done = (await client.get(f"/v1/imports/{job['id']}", headers=admin)).json()
    assert (done["phase"], done["rows_done"], done["created"]) == ("imported", rows, rows)
    assert await count(runtime, customers, tenant_id) == rows
    events = await registered(runtime, tenant_id)
    assert len(events) == len({e["aggregate_id"] for e in events}) == rows


async def test_bad_input_answers_problem_json_and_keeps_nothing(client, tokens, runtime, tenant_id):
    admin = tokens.headers()
    problem = "application/problem+json"

    r = await client.post("/v1/imports", json={"a": 1}, headers=admin)
    assert r.status_code == 415 and r.headers["content-type"] == problem
    assert r.json()["errors"][0]["field"] == "Content-Type"

    r = await client.post("/v1/imports", content=b"PK\x03\x04\x00zip", headers={**admin, **CSV})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = await client.post(
        "/v1/imports", content="a,b\nZoë,x\n".encode("latin-1"), headers={**admin, **CSV}
    )
    assert r.status_code == 422 and "line 2" in r.json()["detail"]
    r = await client.post("/v1/imports", content=b"", headers={**admin, **CSV})
    assert r.status_code == 422 and "empty" in r.json()["detail"]
    r = await client.post(
        "/v1/imports", content=FILE.encode(), headers={**admin, **CSV, "Upload-Complete": "yes"}
    )
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "Upload-Complete"
    assert (await client.get("/v1/imports", headers=admin)).json()["items"] == []

    job = await upload(client, admin, FILE)
    url = f"/v1/imports/{job['id']}/dry-run"
    cases = [
        ({"mapping": {**MAPPING, "Email": "e_mail"}}, "mapping.Email"),
        ({"mapping": {**MAPPING, "Nope": "notes"}}, "mapping.Nope"),
        ({"mapping": {"Email": "email"}}, "mapping"),
        ({}, "mapping"),
        ({"mapping": MAPPING, "existing": "merge"}, "existing"),
        ({"mapping": MAPPING, "extra": 1}, "extra"),
    ]
    for body, field in cases:
        r = await client.post(url, json=body, headers=admin)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"] == problem
        assert field in {e["field"] for e in r.json()["errors"]}, (body, r.json())
    r = await client.post(f"/v1/imports/{job['id']}/parts", content=b"x", headers={**admin, **CSV})
    assert r.status_code == 422  # Upload-Offset is required
    # Who may import: the people who may create customers.
    staff = tokens.headers("staff")
    assert (
        await client.post("/v1/imports", content=FILE, headers={**staff, **CSV})
    ).status_code == 403
    customer = tokens.headers("customer", sub=uuid.uuid4())
    assert (await client.get(f"/v1/imports/{job['id']}", headers=customer)).status_code == 403
    still = (await client.get(f"/v1/imports/{job['id']}", headers=admin)).json()
    assert still["phase"] == "uploaded" and still["mapping"] is None
    assert await count(runtime, customers, tenant_id) == 0
    assert (await client.delete(f"/v1/imports/{job['id']}", headers=admin)).status_code == 204
    assert (await client.get(f"/v1/imports/{job['id']}", headers=admin)).status_code == 404


async def test_a_required_custom_field_is_enforced_on_every_imported_row(
    client, tokens, runtime, tenant_id, worker
):
    """C16 on C17: a row without a value for a required custom field (no cell, or an empty
    one) is reported with its line by the dry run and the import, and never written."""
    admin = tokens.headers()
    for body in (
        {"key": "waiver", "label": "Waiver signed", "type": "yes_no", "required": True},
        {"key": "shoe", "label": "Shoe size", "type": "number"},
    ):
        r = await client.post("/v1/custom-fields", json=body, headers=admin)
        assert r.status_code == 201, r.text
    data = (
        "First,Last,Email,Waiver,Shoe\r\n"
        "Ada,Lovelace,ada@example.com,yes,38\r\n"  # line 2
        "Grace,Hopper,grace@example.com,,41\r\n"  # 3: the required value is empty
        "Alan,Turing,alan@example.com,no,\r\n"  # 4
    )
    mapping = {
        "First": "first_name",
        "Last": "last_name",
        "Email": "email",
        "Waiver": "cf.waiver",
        "Shoe": "cf.shoe",
    }
    job = await upload(client, admin, data)
    checked = await run(client, admin, job["id"], "dry-run", mapping=mapping)
    assert (checked["created"], checked["errors"]) == (2, 1)
    lines = report((await client.get(f"/v1/imports/{job['id']}/errors.csv", headers=admin)).text)
    assert [row[:2] for row in lines[1:]] == [["3", "custom_fields.waiver: required"]]
    assert await count(runtime, customers, tenant_id) == 0

    done = await run(client, admin, job["id"], "run", mapping=mapping)
    assert (done["created"], done["errors"]) == (2, 1)
    lines = report((await client.get(f"/v1/imports/{job['id']}/errors.csv", headers=admin)).text)
    assert [row[:2] for row in lines[1:]] == [["3", "custom_fields.waiver: required"]]
    listed = (await client.get("/v1/customers?sort=last_name", headers=admin)).json()["items"]
    assert [c["last_name"] for c in listed] == ["Lovelace", "Turing"]
    assert len(await registered(runtime, tenant_id)) == 2

    # Without the column at all, every row lacks it.
    job = await upload(client, admin, "First,Last,Email\r\nEdsger,Dijkstra,ed@example.com\r\n")
    without = {"First": "first_name", "Last": "last_name", "Email": "email"}
    done = await run(client, admin, job["id"], "run", mapping=without)
    assert (done["created"], done["errors"]) == (0, 1)
    assert await count(runtime, customers, tenant_id) == 2
