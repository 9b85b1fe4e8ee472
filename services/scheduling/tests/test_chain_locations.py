"""A chain keeps hundreds of locations: lists and feeds read only the locations of the rows
they show, never every location of the tenant."""

import re
import uuid

from sqlalchemy import event, insert

from frontdesk.scheduling.adapters.tables import locations


async def test_lists_and_feeds_read_only_the_locations_they_show(studio, runtime):
    async with runtime.engine.begin() as conn:
        await conn.execute(
            insert(locations),
            [
                {
                    "id": uuid.uuid4(),
                    "tenant_id": studio.tenant_id,
                    "name": f"Branch {n}",
                    "timezone": "Europe/Berlin",
                }
                for n in range(300)
            ],
        )
    await studio.session()
    await studio.session()
    statements: list[str] = []

    def capture(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    engine = runtime.engine.sync_engine
    event.listen(engine, "before_cursor_execute", capture)
    try:
        for path in (
            "/v1/sessions",
            f"/v1/calendar.ics?location_id={studio.location['id']}",
            f"/v1/calendar.ics?staff_id={studio.trainer['id']}",
        ):
            r = await studio.client.get(path, headers=studio.admin)
            assert r.status_code == 200, r.text
    finally:
        event.remove(engine, "before_cursor_execute", capture)
    assert "Branch" not in r.text
    reading_locations = [s for s in statements if re.search(r"FROM locations\b", s)]
    for statement in reading_locations:
        # every read of locations is by id (or joined to the rows of the page)
        assert "locations.id IN" in statement or "locations.id =" in statement, statement
