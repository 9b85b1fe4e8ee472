"""Merges (C13): the log, the duplicate candidates, and the moves of what the service
keeps about a customer from one record to another, each remembered by id."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Float,
    RowMapping,
    cast,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)

from frontdesk.customers.adapters.tables import (
    customer_activity,
    customer_assets,
    customer_bookings,
    customer_memberships,
    customer_merges,
    customer_summaries,
    customers,
    notes,
)
from frontdesk.customers.domain.merge import NAME_SIMILARITY, Merge
from frontdesk.kit.db import AggregateRepository

c = customers.c
s = customer_summaries.c
# What a merge moves by id: (what, table, its id column).
MOVED_ROWS = (
    ("notes", notes, notes.c.id),
    ("bookings", customer_bookings, customer_bookings.c.booking_id),
    ("memberships", customer_memberships, customer_memberships.c.membership_id),
    ("activity", customer_activity, customer_activity.c.id),
)
# The summary's figures a merge adds to the survivor (kept from other services' events).
ADDED = (
    "credits_available",
    "credits_paused",
    "credits_purchased",
    "lifetime_spend_minor",
    "outstanding_minor",
)
SNAPSHOT = (*ADDED, "currency", "last_activity_at")
NAME = func.lower(c.first_name.op("||")(literal_column("' '")).op("||")(c.last_name))
CANDIDATES = 20


def _time(value: str | None) -> datetime | None:
    """A time of the log's JSON (ISO 8601)."""
    return datetime.fromisoformat(value) if value else None


class MergeRepository(AggregateRepository[Merge]):
    table = customer_merges
    aggregate = Merge
    what = "merge"

    async def of_customer(self, customer_id: uuid.UUID) -> list[Merge]:
        m = customer_merges.c
        rows = await self._all(
            select(customer_merges)
            .where(
                m.tenant_id == self.tenant_id,
                or_(m.survivor_id == customer_id, m.merged_id == customer_id),
            )
            .order_by(m.merged_at.desc(), m.id)
        )
        return [self.load(row) for row in rows]

    # -- duplicate candidates -------------------------------------------------------------

    async def candidates(self, customer_id: uuid.UUID) -> list[RowMapping]:
        """Others of the tenant, neither erased nor merged, with the same email, the same
        phone or a similar name (trigram similarity of at least NAME_SIMILARITY, from the
        name's trigram index): each with ``same_email``, ``same_phone`` and
        ``name_similarity``."""
        me = customers.alias("me")
        m = me.c
        await self.session.execute(
            text("SELECT set_config('pg_trgm.similarity_threshold', :t, true)"),
            {"t": str(NAME_SIMILARITY)},
        )
        my_name = func.lower(m.first_name.op("||")(literal_column("' '")).op("||")(m.last_name))
        similarity = cast(func.similarity(NAME, my_name), Float)
        stmt = (
            select(
                c.id,
                c.first_name,
                c.last_name,
                c.email,
                c.phone,
                c.created_at,
                (c.email == m.email).is_(True).label("same_email"),
                (c.phone == m.phone).is_(True).label("same_phone"),
                similarity.label("name_similarity"),
            )
            .select_from(me)
            .join(customers, c.tenant_id == m.tenant_id)
            .where(
                m.tenant_id == self.tenant_id,
                m.id == customer_id,
                c.id != m.id,
                c.erased_at.is_(None),
                c.merged_into.is_(None),
                or_(c.email == m.email, c.phone == m.phone, NAME.op("%")(my_name)),
            )
            .order_by(c.created_at, c.id)
            .limit(CANDIDATES * 5)
        )
        return list(await self._all(stmt))

    # -- what moves -----------------------------------------------------------------------

    async def move_rows(self, source: uuid.UUID, target: uuid.UUID) -> dict[str, list[str]]:
        """Every note, booking, membership and timeline line of ``source`` to ``target``;
        their ids."""
        moved: dict[str, list[str]] = {}
        for name, table, key in MOVED_ROWS:
            result = await self.session.execute(
                update(table)
                .where(table.c.tenant_id == self.tenant_id, table.c.customer_id == source)
                .values(customer_id=target)
                .returning(key)
            )
            moved[name] = sorted(str(i) for i in result.scalars())
        return moved

    async def move_back(self, source: uuid.UUID, target: uuid.UUID, moved: dict[str, Any]) -> None:
        """The rows a merge moved (by id), from the survivor back to the merged record;
        a row that left the survivor since (a booking relinked) stays where it is."""
        for name, table, key in MOVED_ROWS:
            ids = [uuid.UUID(i) for i in moved.get(name, [])]
            if ids:
                await self.session.execute(
                    update(table)
                    .where(
                        table.c.tenant_id == self.tenant_id,
                        table.c.customer_id == source,
                        key.in_(ids),
                    )
                    .values(customer_id=target)
                )

    async def asset_ids(self, customer_id: uuid.UUID) -> list[uuid.UUID]:
        a = customer_assets.c
        result = await self.session.execute(
            select(a.id)
            .where(a.tenant_id == self.tenant_id, a.customer_id == customer_id)
            .order_by(a.id)
        )
        return list(result.scalars())

    async def summaries(self, *ids: uuid.UUID) -> dict[uuid.UUID, dict[str, Any]]:
        """The summaries' figures (``SNAPSHOT``), locked, as JSON-ready values."""
        result = await self.session.execute(
            select(s.customer_id, *(s[name] for name in SNAPSHOT))
            .where(s.tenant_id == self.tenant_id, s.customer_id.in_(ids))
            .order_by(s.customer_id)
            .with_for_update()
        )
        out: dict[uuid.UUID, dict[str, Any]] = {}
        for row in result.mappings():
            figures = {name: row[name] for name in SNAPSHOT}
            at = figures["last_activity_at"]
            figures["last_activity_at"] = at.isoformat() if at is not None else None
            out[row["customer_id"]] = figures
        return out

    async def add_figures(
        self, survivor: uuid.UUID, merged: uuid.UUID, figures: dict[str, Any]
    ) -> None:
        """The merged record's figures added to the survivor's (its currency when the
        survivor had none; its last activity when later), the merged one's set to zero.
        Later balance and account events from credits and billing (which apply the merge
        too) set them as those services count them."""
        at = _time(figures.get("last_activity_at"))
        await self.session.execute(
            update(customer_summaries)
            .where(s.tenant_id == self.tenant_id, s.customer_id == survivor)
            .values(
                **{name: s[name] + int(figures.get(name) or 0) for name in ADDED},
                currency=func.coalesce(s.currency, figures.get("currency")),
                last_activity_at=func.greatest(
                    s.last_activity_at, literal(at, type_=s.last_activity_at.type)
                )
                if at
                else s.last_activity_at,
                updated_at=func.now(),
            )
        )
        await self.session.execute(
            update(customer_summaries)
            .where(s.tenant_id == self.tenant_id, s.customer_id == merged)
            .values(**{name: 0 for name in ADDED}, updated_at=func.now())
        )

    async def restore_figures(
        self,
        survivor: uuid.UUID,
        merged: uuid.UUID,
        before: dict[str, dict[str, Any]],
    ) -> None:
        """The undo of ``add_figures``: the merged record's figures back as they were, the
        survivor's less them (never below zero), its currency and last activity as before
        unless they changed since the merge."""
        mine, theirs = before["survivor"], before["merged"]

        def when(value: Any) -> Any:
            return literal(_time(value), type_=s.last_activity_at.type) if value else None

        raised = func.greatest(when(mine["last_activity_at"]), when(theirs["last_activity_at"]))
        await self.session.execute(
            update(customer_summaries)
            .where(s.tenant_id == self.tenant_id, s.customer_id == survivor)
            .values(
                **{name: func.greatest(s[name] - int(theirs.get(name) or 0), 0) for name in ADDED},
                currency=func.coalesce(literal(mine.get("currency")), s.currency)
                if mine.get("currency")
                else s.currency,
                last_activity_at=func.coalesce(
                    func.nullif(s.last_activity_at, raised), when(mine["last_activity_at"])
                )
                if mine["last_activity_at"] or theirs["last_activity_at"]
                else s.last_activity_at,
                updated_at=func.now(),
            )
        )
        await self.session.execute(
            update(customer_summaries)
            .where(s.tenant_id == self.tenant_id, s.customer_id == merged)
            .values(
                **{name: int(theirs.get(name) or 0) for name in ADDED},
                currency=theirs.get("currency"),
                last_activity_at=when(theirs["last_activity_at"]),
                updated_at=func.now(),
            )
        )
