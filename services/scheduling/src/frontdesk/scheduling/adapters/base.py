"""What the scheduling repositories share: constraint violations as domain conflicts
naming the field, and aggregates read along with their location's time zone."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import ColumnElement, RowMapping, Select, and_, literal, select, tuple_
from sqlalchemy.exc import DBAPIError, IntegrityError

from frontdesk.kit.db import AggregateRepository, by_key, keyed, session_writes
from frontdesk.kit.errors import ConflictError
from frontdesk.scheduling.adapters.tables import OCCUPANCY_OVERLAP, locations
from frontdesk.scheduling.domain.base import Placed

# The constraints that guard what concurrent requests could break: each violation
# answers 409 naming the field it concerns (the transaction is rolled back whole).
CONSTRAINTS: dict[str, tuple[str, str]] = {
    "uq_bookings_one_per_customer": (
        "customer_id",
        "This customer already has a booking for this session.",
    ),
    "uq_bookings_one_per_guest": (
        "guest.email",
        "This guest already has a booking for this session.",
    ),
    "ck_sessions_seats_within_capacity": ("seats", "The session has no free seats left."),
    "ex_appointments_staff_overlap": (
        "staff_id",
        "The staff member already has an appointment at that time.",
    ),
    "ex_appointments_room_overlap": ("room_id", "The room or bay is already taken at that time."),
    OCCUPANCY_OVERLAP: (
        "staff_id",
        "The staff member already has a class or an appointment at that time.",
    ),
}

Fields = Mapping[str, tuple[str, str]]


def constraint_name(error: DBAPIError) -> str | None:
    """The constraint the driver named: on the error SQLAlchemy's adapter raised from it,
    or on the error itself (a prepared statement run by the driver, ``kit.db.Reads``)."""
    cause = getattr(error.orig, "__cause__", None)
    return getattr(cause, "constraint_name", None) or getattr(error.orig, "constraint_name", None)


@contextmanager
def conflicts(overrides: Fields | None = None) -> Iterator[None]:
    """Constraint violations (capacity, uniqueness, overlaps) raise ``ConflictError``
    naming the field; ``overrides`` names another field for a constraint where the
    change differs (an edit of the capacity, not a booking's seats)."""
    messages = {**CONSTRAINTS, **(overrides or {})}
    try:
        yield
    except IntegrityError as error:
        name = constraint_name(error)
        if name in messages:
            field, message = messages[name]
            raise ConflictError(message, field=field) from None
        raise ConflictError(f"The change conflicts with existing data ({name}).") from None


P = TypeVar("P", bound=Placed)


class PlacedRepository(AggregateRepository[P]):
    """Aggregates at a location, read with the location's time zone; an insert or save
    that breaks a constraint raises ``ConflictError`` naming the field."""

    conflict_fields: ClassVar[Fields] = {}

    def load(self, row: RowMapping) -> P:
        found = super().load(row)
        if "timezone" in row:
            found.timezone = row["timezone"]
        if "location_name" in row:
            found.location_name = row["location_name"]
        return found

    def _zoned(self) -> Select[Any]:
        return select(
            self.table, locations.c.timezone, locations.c.name.label("location_name")
        ).join(
            locations,
            and_(
                locations.c.id == self.table.c.location_id,
                locations.c.tenant_id == self.table.c.tenant_id,
            ),
        )

    async def _page(
        self,
        *,
        equal: Mapping[str, uuid.UUID | None],
        starts_from: datetime | None,
        starts_before: datetime | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
        where: ColumnElement[bool] | None = None,
    ) -> list[P]:
        """One keyset page by (starts_at, id): the rows whose columns ``equal`` the values
        given (None: any), overlapping [starts_from, starts_before) (still running at
        ``starts_from``), after ``after``, at most ``limit``."""
        c = self.table.c
        stmt = self._zoned().where(c.tenant_id == self.tenant_id)
        if where is not None:
            stmt = stmt.where(where)
        for name, value in equal.items():
            if value is not None:
                stmt = stmt.where(c[name] == value)
        if starts_from is not None:
            stmt = stmt.where(c.ends_at > starts_from)
        if starts_before is not None:
            stmt = stmt.where(c.starts_at < starts_before)
        if after is not None:
            stmt = stmt.where(
                tuple_(c.starts_at, c.id) > tuple_(literal(after[0]), literal(after[1]))
            )
        rows = await self._all(stmt.order_by(c.starts_at, c.id).limit(limit))
        return [self.load(row) for row in rows]

    async def get(
        self, row_id: uuid.UUID, *, for_update: bool = False, for_key_share: bool = False
    ) -> P | None:
        """``for_key_share``: held against edits (which lock it for update) but not against
        the seat counter's writes, nor other key-share holders. A prepared statement: every
        step of every booking reads its booking and session."""
        return await self._zoned_one(
            "by key",
            lambda: by_key(self.table),
            row_id,
            for_update=for_update,
            for_key_share=for_key_share,
        )

    async def _zoned_one(
        self,
        shape: str,
        where: Callable[[], Any],
        key_id: uuid.UUID,
        *,
        for_update: bool,
        for_key_share: bool,
    ) -> P | None:
        """The one row ``where`` finds (its parameters ``key_tenant_id`` and ``key_id``),
        with its zone, locked as ``get`` says: prepared once per ``shape`` and lock."""
        lock = "update" if for_update else "key share" if for_key_share else None

        def build() -> Select[Any]:
            stmt = self._zoned().where(where())
            if lock == "update":
                return stmt.with_for_update(of=self.table)
            if lock == "key share":
                return stmt.with_for_update(of=self.table, read=True, key_share=True)
            return stmt

        statement = keyed((self.table, shape, lock), build)
        row = await session_writes(self.session).row(
            statement, key_tenant_id=self.tenant_id, key_id=key_id
        )
        return None if row is None else self.load(row)  # type: ignore[arg-type]

    async def last_of_series(self, series_id: uuid.UUID) -> P | None:
        """A series' occurrence with the latest start in the rule (what it grows from)."""
        c = self.table.c
        stmt = (
            self._zoned()
            .where(c.tenant_id == self.tenant_id, c.series_id == series_id)
            .order_by(c.recurrence_at.desc(), c.id.desc())
            .limit(1)
        )
        row = await self._first(stmt)
        return None if row is None else self.load(row)

    async def add(self, aggregate: P) -> P:
        with conflicts(self.conflict_fields):
            return await super().add(aggregate)

    async def save(self, aggregate: P) -> P:
        with conflicts(self.conflict_fields):
            return await super().save(aggregate)


async def occurrences_from(
    repository: PlacedRepository[P],
    series_id: uuid.UUID,
    recurrence_at: datetime,
    *,
    for_update: bool = False,
) -> list[P]:
    """A series' occurrences (sessions or appointments) from ``recurrence_at`` on, in the
    rule's order (locked in that order, so two edits of one series wait, not deadlock)."""
    c = repository.table.c
    stmt = (
        repository._zoned()
        .where(
            c.tenant_id == repository.tenant_id,
            c.series_id == series_id,
            c.recurrence_at >= recurrence_at,
        )
        .order_by(c.recurrence_at, c.id)
    )
    if for_update:
        stmt = stmt.with_for_update(of=repository.table)
    return [repository.load(row) for row in await repository._all(stmt)]
