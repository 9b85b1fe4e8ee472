"""Between tests the kit empties a service's tables, while the service's consumer or relay
may still be finishing the test's last message."""

import asyncio
import uuid

from kit_probe import probe_service, things
from sqlalchemy import func, insert, select, text

from frontdesk.kit.testing import lock_awaited, truncate_all, wait_for


async def test_emptying_the_tables_outlasts_a_deadlock_with_a_late_transaction():
    async with probe_service(relay=False, consumer=False) as runtime:
        async with runtime.engine.begin() as conn:
            await conn.execute(
                insert(things).values(id=uuid.uuid4(), tenant_id=uuid.uuid4(), name="x")
            )
        tables = [table.name for table in runtime.spec.metadata.sorted_tables]

        # A late transaction (a consumer finishing its message) writes the last table, the
        # truncate locks the others in order and waits for it, then the late one writes the
        # first: a deadlock, whose victim PostgreSQL picks (the truncate, waiting longest).
        async with runtime.engine.connect() as late:
            await late.execute(text(f'LOCK TABLE "{tables[-1]}" IN ROW EXCLUSIVE MODE'))
            emptying = asyncio.create_task(truncate_all(runtime))
            await wait_for(lambda: lock_awaited(runtime.engine))
            await late.execute(text(f'LOCK TABLE "{tables[0]}" IN ROW EXCLUSIVE MODE'))
            await late.commit()
        await emptying
        async with runtime.engine.connect() as conn:
            assert (await conn.execute(select(func.count()).select_from(things))).scalar() == 0
