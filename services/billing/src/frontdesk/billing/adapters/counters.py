"""Document counters: the next number of a series, gapless.

The increment takes the counter row's lock until the transaction ends: a concurrent
issue of the same series waits for it, then reads the committed value (or, when this one
rolled back, the same number again). So numbers never repeat and never skip, whichever
process or replica issues. Callers take a number as the last step before commit, so the
row is held briefly.
"""

from __future__ import annotations

from frontdesk.billing.adapters.tables import document_counters as t
from frontdesk.billing.domain.numbering import Series
from frontdesk.kit.db import TenantRepository
from frontdesk.kit.upsert import insert


class CounterRepository(TenantRepository):
    async def next(self, series: Series) -> str:
        stmt = insert(t).values(
            tenant_id=self.tenant_id,
            document=series.document.value,
            prefix=series.prefix,
            year=series.year,
            last_number=1,
        )
        stmt = stmt.on_conflict_do_update(
            index_elements=[t.c.tenant_id, t.c.document, t.c.prefix, t.c.year],
            set_={"last_number": t.c.last_number + 1},
        )
        row = await self._one(stmt.returning(t.c.last_number))
        return series.number(int(row["last_number"]))
