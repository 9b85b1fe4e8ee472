"""A trainer or a room is in one place at a time: classes, events and appointments hold
them in ``occupancy``, whose one exclusion constraint refuses an overlap of any two
(409 naming ``staff_id`` or ``room_id``); back to back is fine, and cancelling frees."""

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from alembic import command
from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import make_url

from frontdesk.kit import db, migrations
from frontdesk.scheduling.adapters.tables import APPOINTMENT_EXCLUSIONS, metadata, occupancy

FREE = {"method": "free"}
DAY = (datetime.now(UTC) + timedelta(days=10)).date()


async def _staff(studio, name: str) -> dict[str, Any]:
    r = await studio.client.post(
        "/v1/staff", json={"name": name, "location_id": studio.location["id"]}, headers=studio.admin
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def _room(studio, name: str) -> dict[str, Any]:
    r = await studio.client.post(
        "/v1/rooms", json={"location_id": studio.location["id"], "name": name}, headers=studio.admin
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def _class(studio, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": "Yoga",
        "location_id": studio.location["id"],
        "room_id": studio.room["id"],
        "staff_id": studio.trainer["id"],
        "starts_at": f"{DAY}T{at}",
        "duration_minutes": 60,
        "capacity": 10,
        "payment": FREE,
        **extra,
    }


def _appointment(studio, at: str, **extra: Any) -> dict[str, Any]:
    return {
        "location_id": studio.location["id"],
        "staff_id": studio.trainer["id"],
        "customer_id": str(uuid.uuid4()),
        "title": "Personal training",
        "starts_at": f"{DAY}T{at}",
        "duration_minutes": 60,
        **extra,
    }


async def _post(studio, path: str, body: dict[str, Any]) -> Any:
    return await studio.client.post(path, json=body, headers=studio.admin)


def _refused(r: Any, field: str) -> None:
    assert r.status_code == 409, r.text
    assert r.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in r.json()["errors"]] == [field], r.text


async def _held(runtime, holder_id: str) -> list[tuple[str, str]]:
    """(resource_kind, resource_id) the holder holds."""
    async with runtime.engine.connect() as conn:
        rows = await conn.execute(
            select(occupancy.c.resource_kind, occupancy.c.resource_id)
            .where(occupancy.c.holder_id == uuid.UUID(holder_id))
            .order_by(occupancy.c.resource_kind)
        )
        return [(kind, str(ident)) for kind, ident in rows]


async def test_a_class_and_an_appointment_of_one_trainer_never_overlap(studio, runtime):
    bay = await _room(studio, "Bay 2")
    yoga = await _post(studio, "/v1/sessions", _class(studio, "10:00"))
    assert yoga.status_code == 201, yoga.text
    assert await _held(runtime, yoga.json()["id"]) == [
        ("room", studio.room["id"]),
        ("staff", studio.trainer["id"]),
    ]
    # the trainer's personal training in another room, half an hour into the class
    _refused(await _post(studio, "/v1/appointments", _appointment(studio, "10:30")), "staff_id")
    _refused(
        await _post(studio, "/v1/appointments", _appointment(studio, "09:30", room_id=bay["id"])),
        "staff_id",
    )
    # and the other way round: the appointment first, then a class of the same trainer
    pt = await _post(studio, "/v1/appointments", _appointment(studio, "14:00", status="confirmed"))
    assert pt.status_code == 201, pt.text
    _refused(
        await _post(studio, "/v1/sessions", _class(studio, "14:45", room_id=bay["id"])),
        "staff_id",
    )
    # nothing of the refused ones was kept
    r = await studio.client.get("/v1/appointments", headers=studio.admin)
    assert [a["id"] for a in r.json()["items"]] == [pt.json()["id"]]
    r = await studio.client.get("/v1/sessions", headers=studio.admin)
    assert [s["id"] for s in r.json()["items"]] == [yoga.json()["id"]]


async def test_two_classes_in_one_room_never_overlap(studio):
    alex = await _staff(studio, "Alex")
    r = await _post(studio, "/v1/sessions", _class(studio, "10:00"))
    assert r.status_code == 201, r.text
    # another trainer, the same room, overlapping by a minute
    _refused(
        await _post(
            studio, "/v1/sessions", _class(studio, "10:59", staff_id=alex["id"], kind="event")
        ),
        "room_id",
    )
    # a class without room or trainer holds nothing
    r = await _post(studio, "/v1/sessions", _class(studio, "10:00", room_id=None, staff_id=None))
    assert r.status_code == 201, r.text
    # an appointment in the room, with another trainer, is refused naming the room
    _refused(
        await _post(
            studio,
            "/v1/appointments",
            _appointment(studio, "10:15", staff_id=alex["id"], room_id=studio.room["id"]),
        ),
        "room_id",
    )


async def test_back_to_back_is_fine(studio):
    for path, body in (
        ("/v1/sessions", _class(studio, "09:00")),
        ("/v1/appointments", _appointment(studio, "10:00", room_id=studio.room["id"])),
        ("/v1/sessions", _class(studio, "11:00")),
        ("/v1/sessions", _class(studio, "08:00")),
    ):
        r = await _post(studio, path, body)
        assert r.status_code == 201, (path, r.text)


async def test_cancelling_a_class_frees_its_room_and_trainer(studio, runtime):
    alex = await _staff(studio, "Alex")
    yoga = (await _post(studio, "/v1/sessions", _class(studio, "18:00"))).json()
    _refused(await _post(studio, "/v1/appointments", _appointment(studio, "18:00")), "staff_id")
    r = await studio.client.post(
        f"/v1/sessions/{yoga['id']}/cancel", json={"reason": "ill"}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    assert await _held(runtime, yoga["id"]) == []
    pt = await _post(studio, "/v1/appointments", _appointment(studio, "18:00"))
    assert pt.status_code == 201, pt.text  # the trainer
    pilates = await _post(studio, "/v1/sessions", _class(studio, "18:30", staff_id=alex["id"]))
    assert pilates.status_code == 201, pilates.text  # the room


async def test_moving_a_class_onto_an_appointment_is_409_and_changes_nothing(studio, runtime):
    pt = await _post(studio, "/v1/appointments", _appointment(studio, "12:00", status="confirmed"))
    assert pt.status_code == 201, pt.text
    yoga = (await _post(studio, "/v1/sessions", _class(studio, "09:00"))).json()
    before = (await studio.client.get(f"/v1/sessions/{yoga['id']}", headers=studio.admin)).json()
    held = await _held(runtime, yoga["id"])
    r = await studio.client.patch(
        f"/v1/sessions/{yoga['id']}",
        json={"starts_at": f"{DAY}T11:30", "title": "Moved"},
        headers={**studio.admin, "If-Match": '"1"'},
    )
    _refused(r, "staff_id")
    after = await studio.client.get(f"/v1/sessions/{yoga['id']}", headers=studio.admin)
    assert after.json() == before and after.headers["ETag"] == '"1"'
    assert await _held(runtime, yoga["id"]) == held
    assert not await studio.published("scheduling.session.changed.v1")
    # lengthening it into the appointment is refused too; up to its start is fine
    r = await studio.client.patch(
        f"/v1/sessions/{yoga['id']}", json={"duration_minutes": 181}, headers=studio.admin
    )
    _refused(r, "staff_id")
    r = await studio.client.patch(
        f"/v1/sessions/{yoga['id']}", json={"duration_minutes": 180}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    # a move that overlaps only the class's own old time is no conflict
    r = await studio.client.patch(
        f"/v1/sessions/{yoga['id']}", json={"starts_at": f"{DAY}T08:30"}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    # handing it to another trainer frees Kim
    alex = await _staff(studio, "Alex")
    r = await studio.client.patch(
        f"/v1/sessions/{yoga['id']}", json={"staff_id": alex["id"]}, headers=studio.admin
    )
    assert r.status_code == 200, r.text
    r = await _post(studio, "/v1/appointments", _appointment(studio, "09:00"))
    assert r.status_code == 201, r.text


async def test_an_appointment_moved_or_reassigned_onto_a_class_is_409(studio, runtime):
    alex = await _staff(studio, "Alex")
    await _post(studio, "/v1/sessions", _class(studio, "10:00"))
    pt = (await _post(studio, "/v1/appointments", _appointment(studio, "12:00"))).json()
    for change, field in (
        ({"starts_at": f"{DAY}T10:30"}, "staff_id"),
        (
            {"room_id": studio.room["id"], "starts_at": f"{DAY}T09:30", "staff_id": alex["id"]},
            "room_id",
        ),
    ):
        r = await studio.client.patch(
            f"/v1/appointments/{pt['id']}", json=change, headers=studio.admin
        )
        _refused(r, field)
    r = await studio.client.get(f"/v1/appointments/{pt['id']}", headers=studio.admin)
    assert r.json() == pt
    assert await _held(runtime, pt["id"]) == [("staff", studio.trainer["id"])]


async def test_only_draft_and_confirmed_appointments_hold_the_trainer(studio, runtime):
    """Completed, no-show and cancelled appointments let go (as the appointment-only
    constraints always did): the time left can go to a class."""
    made = {}
    for at, moves in (("09:00", ["confirm", "cancel"]), ("11:00", ["confirm", "no-show"])):
        made[at] = (await _post(studio, "/v1/appointments", _appointment(studio, at))).json()
        _refused(await _post(studio, "/v1/sessions", _class(studio, at)), "staff_id")
        for move in moves:
            r = await studio.client.post(
                f"/v1/appointments/{made[at]['id']}/{move}", headers=studio.admin
            )
            assert r.status_code == 200, r.text
        assert await _held(runtime, made[at]["id"]) == []
        r = await _post(studio, "/v1/sessions", _class(studio, at))
        assert r.status_code == 201, r.text
    draft = (await _post(studio, "/v1/appointments", _appointment(studio, "13:00"))).json()
    r = await studio.client.post(f"/v1/appointments/{draft['id']}/confirm", headers=studio.admin)
    assert r.status_code == 200
    assert await _held(runtime, draft["id"]) == [("staff", studio.trainer["id"])]


async def test_a_class_and_an_appointment_at_once_exactly_one_wins(studio, runtime):
    """Concurrent creates for one trainer: the exclusion constraint makes the later
    insert wait for the earlier transaction, then refuses it."""
    for round_, hour in enumerate(range(8, 18, 2)):
        bodies = [
            ("/v1/sessions", _class(studio, f"{hour:02d}:00", room_id=None)),
            ("/v1/appointments", _appointment(studio, f"{hour:02d}:30")),
        ]
        if round_ % 2:
            bodies.reverse()
        answers = await asyncio.gather(*(_post(studio, path, body) for path, body in bodies))
        codes = sorted(r.status_code for r in answers)
        assert codes == [201, 409], [r.text for r in answers]
        _refused(next(r for r in answers if r.status_code == 409), "staff_id")
    async with runtime.engine.connect() as conn:
        held = (await conn.execute(select(occupancy.c.holder_id))).scalars().all()
    assert len(held) == 5


# the migration -------------------------------------------------------------------------
async def test_the_migration_backfills_and_migrates_a_database_with_conflicts(runtime):
    """0005 reserves every active class and appointment, oldest first; a conflict
    already in the data does not stop the migration (the later holder is left out)."""
    url = (
        make_url(runtime.settings.resolved_database_url())
        .set(database=f"sched_occupancy_{uuid.uuid4().hex[:10]}")
        .render_as_string(hide_password=False)
    )
    config = migrations.alembic_config(runtime.spec.migrations_dir, url)
    await migrations.ensure_database(url)
    engine = db.create_engine(url)
    try:
        await asyncio.to_thread(command.upgrade, config, "0004")
        tenant, location, room, kim, alex = (uuid.uuid4() for _ in range(5))
        t0 = datetime(2031, 3, 3, 9, tzinfo=UTC)
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO locations (id, tenant_id, name, timezone) "
                    "VALUES (:l, :t, 'M', 'UTC')"
                ),
                {"l": location, "t": tenant},
            )
            await conn.execute(
                text(
                    "INSERT INTO rooms (id, tenant_id, location_id, name) VALUES (:r, :t, :l, 'R')"
                ),
                {"r": room, "t": tenant, "l": location},
            )
            for staff_id in (kim, alex):
                await conn.execute(
                    text("INSERT INTO staff (id, tenant_id, name) VALUES (:s, :t, 'S')"),
                    {"s": staff_id, "t": tenant},
                )
            sessions_ = {
                # name: (staff, room, start hour offset, status, created minutes ago)
                "first": (kim, room, 0, "scheduled", 30),
                "clash": (alex, room, 0.5, "scheduled", 20),  # the room, taken by "first"
                "cancelled": (kim, room, 0, "cancelled", 40),
                "after": (kim, room, 1, "scheduled", 10),  # back to back with "first"
            }
            ids = {name: uuid.uuid4() for name in [*sessions_, "pt", "pt_clash", "pt_done"]}
            for name, (staff_id, room_id, offset, status, age) in sessions_.items():
                await conn.execute(
                    text(
                        "INSERT INTO sessions (id, tenant_id, title, location_id, room_id, "
                        "staff_id, starts_at, ends_at, capacity, payment_method, status, "
                        "created_at) VALUES (:id, :t, 'C', :l, :r, :s, :a, :b, 5, 'free', "
                        ":st, now() - make_interval(mins => :age))"
                    ),
                    {
                        "id": ids[name],
                        "t": tenant,
                        "l": location,
                        "r": room_id,
                        "s": staff_id,
                        "a": t0 + timedelta(hours=offset),
                        "b": t0 + timedelta(hours=offset + 1),
                        "st": status,
                        "age": age,
                    },
                )
            for name, (staff_id, offset, status, age) in {
                "pt": (alex, 2, "confirmed", 5),
                "pt_clash": (kim, 0.25, "draft", 1),  # Kim, taken by the class "first"
                "pt_done": (kim, 1, "completed", 50),  # over: holds nothing
            }.items():
                await conn.execute(
                    text(
                        "INSERT INTO appointments (id, tenant_id, location_id, staff_id, "
                        "customer_id, title, starts_at, ends_at, status, created_at) VALUES "
                        "(:id, :t, :l, :s, :c, 'PT', :a, :b, :st, "
                        "now() - make_interval(mins => :age))"
                    ),
                    {
                        "id": ids[name],
                        "t": tenant,
                        "l": location,
                        "s": staff_id,
                        "c": uuid.uuid4(),
                        "a": t0 + timedelta(hours=offset),
                        "b": t0 + timedelta(hours=offset + 1),
                        "st": status,
                        "age": age,
                    },
                )
        await asyncio.to_thread(command.upgrade, config, "head")
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(occupancy.c.holder_kind, occupancy.c.holder_id, occupancy.c.resource_kind)
            )
            held = {(kind, holder, resource) for kind, holder, resource in rows}
        name_of = {v: k for k, v in ids.items()}
        assert {(k, name_of[h], r) for k, h, r in held} == {
            ("session", "first", "staff"),
            ("session", "first", "room"),
            ("session", "clash", "staff"),  # Alex was free; the room was not
            ("session", "after", "staff"),
            ("session", "after", "room"),
            ("appointment", "pt", "staff"),
        }
        await asyncio.to_thread(command.downgrade, config, "0004")
        await asyncio.to_thread(command.upgrade, config, "head")
    finally:
        await engine.dispose()
        await migrations.drop_database(url)


async def _describe(conn, schema: str, table: str) -> dict[str, Any]:
    """Columns, constraints and indexes of one table as PostgreSQL states them."""
    where = {"schema": schema, "table": table}
    columns = await conn.execute(
        text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull, "
            "pg_get_expr(d.adbin, d.adrelid) FROM pg_attribute a "
            "JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum "
            "WHERE n.nspname = :schema AND c.relname = :table AND a.attnum > 0 "
            "AND NOT a.attisdropped"
        ),
        where,
    )
    constraints = await conn.execute(
        text(
            "SELECT con.conname, replace(pg_get_constraintdef(con.oid), :schema || '.', '') "
            "FROM pg_constraint con "
            "JOIN pg_class c ON c.oid = con.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = :schema AND c.relname = :table"
        ),
        where,
    )
    indexes = await conn.execute(
        text(
            "SELECT indexname, replace(indexdef, :schema || '.', '') FROM pg_indexes "
            "WHERE schemaname = :schema AND tablename = :table"
        ),
        where,
    )
    return {
        "columns": {tuple(r) for r in columns},  # in any order: 0003 added one at the end
        "constraints": {tuple(r) for r in constraints},
        "indexes": {tuple(r) for r in indexes},
    }


async def test_tables_py_matches_the_migrations(runtime):
    """Each table of adapters/tables.py, created from the metadata in a scratch schema,
    is the table the migrations made: the same columns, constraints and indexes (the
    appointment-only exclusion constraints, made by SQL in 0001, aside)."""
    scratch = MetaData(schema="metadata_check")
    for table in metadata.sorted_tables:
        table.to_metadata(scratch, schema="metadata_check")
    async with runtime.engine.connect() as conn, conn.begin() as transaction:
        await conn.execute(text("CREATE SCHEMA metadata_check"))
        await conn.run_sync(scratch.create_all)
        for table in metadata.sorted_tables:
            migrated = await _describe(conn, "public", table.name)
            declared = await _describe(conn, "metadata_check", table.name)
            if table.name == "appointments":
                made_by_sql = {c for c in migrated["constraints"] if c[0].startswith("ex_")}
                assert {c[0] for c in made_by_sql} == set(APPOINTMENT_EXCLUSIONS)
                migrated["constraints"] -= made_by_sql
                migrated["indexes"] = {
                    i for i in migrated["indexes"] if i[0] not in APPOINTMENT_EXCLUSIONS
                }
            assert declared == migrated, table.name
        await transaction.rollback()
