"""The summary read model kept from other services' events (summary, bookings,
memberships, activity): its version-checked writes, so a stale event changes nothing, and
the reads the customer's detail shows.

A customer deleted here leaves a tombstone (``deleted_customers``); handlers ask
``forgotten`` first and keep nothing about such a customer. The check and the
delete are serialised by an advisory lock on the customer (shared for handlers,
exclusive for the delete), so an event handled while the customer is being
deleted either lands before the delete (and is deleted with it) or sees the tombstone.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    RowMapping,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.customers.adapters.tables import (
    customer_activity,
    customer_bookings,
    customer_memberships,
    customer_summaries,
)
from frontdesk.customers.domain.summary import Activity
from frontdesk.kit.db import Prepared, TenantRepository, keyed, session_writes
from frontdesk.kit.upsert import insert

# Bookings that count towards the customer's bookings (a rejected or cancelled one does not).
COUNTED = ("confirmed", "attended", "no_show")


async def lock_customer(
    session: AsyncSession, tenant_id: uuid.UUID, customer_id: uuid.UUID, *, shared: bool
) -> None:
    """Until the transaction ends: shared by event handlers, exclusive by the delete."""
    statement = _SHARED_LOCK if shared else _EXCLUSIVE_LOCK
    await session_writes(session).execute(statement, key=_lock_key(tenant_id, customer_id))


def _lock_key(tenant_id: uuid.UUID, customer_id: uuid.UUID) -> str:
    return f"customers:customer:{tenant_id}:{customer_id}"


_SHARED_LOCK = Prepared(text("SELECT pg_advisory_xact_lock_shared(hashtextextended(:key, 0))"))
_EXCLUSIVE_LOCK = Prepared(text("SELECT pg_advisory_xact_lock(hashtextextended(:key, 0))"))
# Several customers' shared locks at once, in one order (the keys sorted).
_SHARED_LOCKS = Prepared(
    text(
        "SELECT count(pg_advisory_xact_lock_shared(hashtextextended(k, 0))) "
        "FROM (SELECT k FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k) AS sorted"
    )
)
# Where the shared lock's holder keeps the customers' standings it read under the lock:
# they cannot change before its transaction ends (the delete and the merge take the
# exclusive lock), so each event of a batch asks no more.
_HELD = "customers.standings"

# The statements every booking event runs, prepared once (the rest are built per call).
_b, _s = customer_bookings.c, customer_summaries.c
_STANDINGS = Prepared(
    text(
        """
SELECT k.id AS customer_id,
       EXISTS (SELECT 1 FROM deleted_customers AS d
               WHERE d.tenant_id = :tenant_id AND d.customer_id = k.id) AS forgotten,
       (SELECT c.merged_into FROM customers AS c
        WHERE c.tenant_id = :tenant_id AND c.id = k.id) AS survivor
FROM unnest(CAST(:customer_ids AS uuid[])) AS k (id)
"""
    )
)
_BOOKING_VERSION = Prepared(
    select(_b.customer_id, _b.version)
    .where(_b.tenant_id == bindparam("tenant_id"), _b.booking_id == bindparam("booking_id"))
    .with_for_update()
)
_SUMMARY_LOCK = Prepared(
    select(_s.customer_id)
    .where(_s.tenant_id == bindparam("tenant_id"), _s.customer_id == bindparam("customer_id"))
    .with_for_update()
)
_SUMMARY_OPEN = Prepared(
    insert(customer_summaries)
    .values(tenant_id=bindparam("tenant_id"), customer_id=bindparam("customer_id"))
    .on_conflict_do_nothing()
)


def _recount(acted: bool) -> Any:
    """The customer's booking figures recounted from their bookings; ``acted``: with the
    last activity moved forward to ``:active_at`` (never past the present)."""
    # Written into the statement (an IN of bound values would be expanded per run).
    counted = _b.status.in_([literal_column(f"'{status}'") for status in COUNTED])
    at = _s.last_activity_at
    active_at = (
        func.least(bindparam("active_at", type_=at.type), func.now())
        if acted
        else literal(None, type_=at.type)
    )
    source = select(
        bindparam("tenant_id", type_=_s.tenant_id.type).label("tenant_id"),
        bindparam("customer_id", type_=_s.customer_id.type).label("customer_id"),
        func.count().filter(counted).label("bookings_count"),
        func.min(_b.starts_at).filter(counted).label("first_booking_at"),
        func.max(_b.starts_at).filter(counted).label("last_booking_at"),
        active_at.label("last_activity_at"),
    ).where(_b.tenant_id == bindparam("tenant_id"), _b.customer_id == bindparam("customer_id"))
    names = [
        "tenant_id",
        "customer_id",
        "bookings_count",
        "first_booking_at",
        "last_booking_at",
        "last_activity_at",
    ]
    stmt = insert(customer_summaries).from_select(names, source)
    return stmt.on_conflict_do_update(
        index_elements=[customer_summaries.c.tenant_id, customer_summaries.c.customer_id],
        set_={n: stmt.excluded[n] for n in names[2:5]}
        # GREATEST skips NULL: without ``active_at`` the last activity stays as it is.
        | {"last_activity_at": func.greatest(at, stmt.excluded.last_activity_at)}
        | {"updated_at": func.now()},
    )


_RECOUNT = {acted: Prepared(_recount(acted)) for acted in (False, True)}


def _booking_upsert(names: tuple[str, ...], keep_status: bool) -> Any:
    """The booking's latest state over an older one (see ``apply_booking``)."""
    columns = customer_bookings.c
    stmt = insert(customer_bookings).values(
        {
            name: bindparam(f"v_{name}", type_=columns[name].type)
            for name in ("tenant_id", "booking_id", "version", *names)
        }
    )
    kept = {"customer_id", "activity_at"} | ({"status"} if keep_status else set())
    set_: dict[str, Any] = {k: stmt.excluded[k] for k in names if k not in kept}
    set_["customer_id"] = func.coalesce(stmt.excluded.customer_id, _b.customer_id)
    set_["activity_at"] = func.greatest(_b.activity_at, stmt.excluded.activity_at)
    set_["title"] = case((_b.session_version.is_(None), stmt.excluded.title), else_=_b.title)
    set_["version"] = stmt.excluded.version
    return stmt.on_conflict_do_update(
        index_elements=[_b.tenant_id, _b.booking_id],
        set_=set_,
        where=_b.version < stmt.excluded.version,
    ).returning(_b.customer_id, _b.activity_at)


def _summary_upsert(version_column: str, names: tuple[str, ...]) -> Any:
    """The summary's ``names`` from a producer's aggregate at ``version_column``'s version
    (an older version than the one kept changes nothing; returns no row then)."""
    columns = customer_summaries.c
    stmt = insert(customer_summaries).values(
        {
            name: bindparam(f"v_{name}", type_=columns[name].type)
            for name in ("tenant_id", "customer_id", version_column, *names)
        }
    )
    return stmt.on_conflict_do_update(
        index_elements=[columns.tenant_id, columns.customer_id],
        set_={
            **{name: stmt.excluded[name] for name in (*names, version_column)},
            "updated_at": func.now(),
        },
        where=columns[version_column] < stmt.excluded[version_column],
    ).returning(columns.customer_id)


_ACTIVITY = Prepared(
    insert(customer_activity)
    .values(
        {column.name: bindparam(column.name, type_=column.type) for column in customer_activity.c}
    )
    .on_conflict_do_nothing()
)


def _at_most_now(at: datetime | None, type_: Any) -> Any:
    """A last activity never past the present: a producer's clock ahead of ours cannot pin
    it in the future (None stays None: LEAST would skip it and give the present)."""
    if at is None:
        return literal(None, type_=type_)
    return func.least(literal(at, type_=type_), func.now())


@dataclass(frozen=True)
class BookingApplied:
    """The booking's customer and customer activity after the event, and the customers
    whose booking figures changed (the previous customer too when it was relinked)."""

    customer_id: uuid.UUID | None
    activity_at: datetime | None
    affected: set[uuid.UUID]


class SummaryRepository(TenantRepository):
    async def forgotten(self, customer_id: uuid.UUID) -> bool:
        """Whether the customer was deleted here (then nothing about them is kept)."""
        forgotten, _ = await self.standing(customer_id)
        return forgotten

    async def standing(self, customer_id: uuid.UUID) -> tuple[bool, uuid.UUID]:
        """Whether the customer was deleted here, and (0006) the record that is the
        customer now: the survivor of a merged record, else the customer itself (also one
        not known yet). One read, after the customer's shared lock (none when ``hold``
        read it already in this transaction)."""
        held: tuple[bool, uuid.UUID] | None = self.session.info.get(_HELD, {}).get(
            (self.tenant_id, customer_id)
        )
        if held is not None:
            return held
        await lock_customer(self.session, self.tenant_id, customer_id, shared=True)
        return (await self._standings([customer_id]))[customer_id]

    async def hold(self, customer_ids: set[uuid.UUID]) -> None:
        """Take the shared locks of several customers and read their standings, two
        statements for them all; ``standing`` answers from these until the commit."""
        writes = session_writes(self.session)
        ordered = sorted(customer_ids)
        await writes.value(
            _SHARED_LOCKS, keys=[_lock_key(self.tenant_id, customer) for customer in ordered]
        )
        held = self.session.info.setdefault(_HELD, {})
        for customer, standing in (await self._standings(ordered)).items():
            held[(self.tenant_id, customer)] = standing

    async def _standings(
        self, customer_ids: list[uuid.UUID]
    ) -> dict[uuid.UUID, tuple[bool, uuid.UUID]]:
        """Each customer's standing (see ``standing``), read under their shared locks."""
        rows = await session_writes(self.session).rows(
            _STANDINGS, tenant_id=self.tenant_id, customer_ids=customer_ids
        )
        return {
            row["customer_id"]: (bool(row["forgotten"]), row["survivor"] or row["customer_id"])
            for row in rows
        }

    @staticmethod
    def let_go(session: AsyncSession) -> None:
        """Forget the standings ``hold`` read (its transaction is over or ending)."""
        session.info.pop(_HELD, None)

    async def touch(self, customer_id: uuid.UUID, at: datetime) -> None:
        """Moves the customer's last activity forward to ``at`` (never back, never
        past the present: a producer's clock ahead of ours cannot pin it in the future)."""
        table = customer_summaries
        at_most_now = _at_most_now(at, table.c.last_activity_at.type)
        stmt = insert(table).values(
            tenant_id=self.tenant_id, customer_id=customer_id, last_activity_at=at_most_now
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=[table.c.tenant_id, table.c.customer_id],
                set_={
                    "last_activity_at": func.greatest(
                        table.c.last_activity_at, stmt.excluded.last_activity_at
                    ),
                    "updated_at": func.now(),
                },
                where=(table.c.last_activity_at.is_(None))
                | (table.c.last_activity_at < stmt.excluded.last_activity_at),
            )
        )

    async def apply_balance(
        self,
        customer_id: uuid.UUID,
        version: int,
        *,
        available: int,
        paused: int,
        purchased: int,
    ) -> bool:
        return await self._upsert_summary(
            customer_id,
            "credits_version",
            version,
            credits_available=available,
            credits_paused=paused,
            credits_purchased=purchased,
        )

    async def apply_account(
        self,
        customer_id: uuid.UUID,
        version: int,
        *,
        lifetime_spend_minor: int,
        outstanding_minor: int,
        currency: str,
    ) -> bool:
        return await self._upsert_summary(
            customer_id,
            "billing_version",
            version,
            lifetime_spend_minor=lifetime_spend_minor,
            outstanding_minor=outstanding_minor,
            currency=currency,
        )

    async def _upsert_summary(
        self, customer_id: uuid.UUID, version_column: str, version: int, **values: Any
    ) -> bool:
        names = tuple(values)
        upsert = keyed(
            ("summary", version_column, names), lambda: _summary_upsert(version_column, names)
        )
        row = await session_writes(self.session).row(
            upsert,
            v_tenant_id=self.tenant_id,
            v_customer_id=customer_id,
            **{f"v_{version_column}": version},
            **{f"v_{name}": value for name, value in values.items()},
        )
        return row is not None

    async def apply_membership(self, values: dict[str, Any], version: int) -> bool:
        table = customer_memberships
        stmt = insert(table).values(tenant_id=self.tenant_id, version=version, **values)
        upsert = stmt.on_conflict_do_update(
            index_elements=[table.c.tenant_id, table.c.membership_id],
            set_={**{k: stmt.excluded[k] for k in values}, "version": version},
            where=table.c.version < stmt.excluded.version,
        ).returning(table.c.membership_id)
        return (await self.session.execute(upsert)).first() is not None

    async def apply_booking(
        self,
        booking_id: uuid.UUID,
        version: int,
        values: dict[str, Any],
        *,
        keep_status: bool = False,
    ) -> BookingApplied | None:
        """Upsert the booking's latest state; None if stale.

        An event without a customer (a guest not linked yet) keeps the customer already
        known. ``values["activity_at"]`` (the event's time when the customer acted, else
        None) only ever moves the booking's activity forward.
        """
        writes = session_writes(self.session)
        current = await writes.row(
            _BOOKING_VERSION, tenant_id=self.tenant_id, booking_id=booking_id
        )
        if current is not None and current["version"] >= version:
            return None
        names = tuple(values)
        upsert = keyed(
            ("customer booking", names, keep_status), lambda: _booking_upsert(names, keep_status)
        )
        row = await writes.row(
            upsert,
            v_tenant_id=self.tenant_id,
            v_booking_id=booking_id,
            v_version=version,
            **{f"v_{name}": value for name, value in values.items()},
        )
        if row is None:
            return None
        affected = {row["customer_id"]} if row["customer_id"] else set()
        if current is not None and current["customer_id"]:
            affected.add(current["customer_id"])
        return BookingApplied(row["customer_id"], row["activity_at"], affected)

    async def retitle_bookings(
        self, booking_ids: list[uuid.UUID], title: str, session_version: int
    ) -> None:
        """The class was renamed: its bookings show the new title (older renames lose)."""
        b = customer_bookings.c
        await self.session.execute(
            update(customer_bookings)
            .where(
                b.tenant_id == self.tenant_id,
                b.booking_id.in_(booking_ids),
                or_(b.session_version.is_(None), b.session_version < session_version),
            )
            .values(title=title, session_version=session_version)
        )

    async def recompute_bookings(
        self, customer_id: uuid.UUID, *, active_at: datetime | None = None
    ) -> None:
        """Bookings count and first/last booking, from the bookings table; ``active_at``:
        the last activity moved forward as ``touch`` does, in the same write.

        The summary row is locked first: two bookings of one customer handled at once
        would otherwise each count without the other's (uncommitted) row. Under READ
        COMMITTED the counting statement, run after the lock, sees the other's commit.
        """
        writes = session_writes(self.session)
        mine = {"tenant_id": self.tenant_id, "customer_id": customer_id}
        if await writes.value(_SUMMARY_LOCK, **mine) is None:  # the customer's first row
            await writes.execute(_SUMMARY_OPEN, **mine)
            await writes.value(_SUMMARY_LOCK, **mine)
        await writes.execute(_RECOUNT[active_at is not None], active_at=active_at, **mine)

    async def add_activity(
        self,
        *,
        event_id: uuid.UUID,
        customer_id: uuid.UUID,
        event: str,
        occurred_at: datetime,
        activity: Activity,
    ) -> None:
        """One line of the timeline per event (the event's id: a redelivery adds nothing)."""
        await session_writes(self.session).execute(
            _ACTIVITY,
            id=event_id,
            tenant_id=self.tenant_id,
            customer_id=customer_id,
            kind=activity.kind,
            event=event,
            occurred_at=occurred_at,
            subject_id=activity.subject_id,
            summary=activity.summary,
            details=activity.details,
        )

    # -- what an access request shows besides the record (the detail: CustomerRepository.record)

    async def bookings(self, customer_id: uuid.UUID) -> list[RowMapping]:
        b = customer_bookings.c
        return list(
            await self._all(
                select(customer_bookings)
                .where(b.tenant_id == self.tenant_id, b.customer_id == customer_id)
                .order_by(b.starts_at)
            )
        )

    async def memberships(self, customer_id: uuid.UUID) -> list[RowMapping]:
        m = customer_memberships.c
        return list(
            await self._all(
                select(customer_memberships)
                .where(m.tenant_id == self.tenant_id, m.customer_id == customer_id)
                .order_by(m.starts_at)
            )
        )
