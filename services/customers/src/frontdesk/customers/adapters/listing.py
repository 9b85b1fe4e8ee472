"""The customer list (C7), its statistics (C6) and the export (C10): one filtered query.

Keyset pagination: each sort is a (key, id) pair with a direction; the page after a
cursor starts past its pair. Nullable keys are mapped to a sentinel so that rows without
a value always come last, in either direction.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    RowMapping,
    Select,
    and_,
    case,
    false,
    func,
    literal,
    or_,
    select,
    tuple_,
)

from frontdesk.customers.adapters.tables import customer_summaries, customers
from frontdesk.customers.domain.engagement import GROWING_FROM, LAPSED_AFTER, REGULAR_FROM
from frontdesk.customers.domain.listing import TABS, Filters, Sort
from frontdesk.kit.db import TenantRepository

c = customers.c
s = customer_summaries.c

# Where customers without activity sort: after everyone else, in either direction.
EARLIEST = datetime(1, 1, 2, tzinfo=UTC)
LATEST = datetime(9999, 12, 30, tzinfo=UTC)
NAME_SIMILARITY = 0.3
WORD_SIMILARITY = 0.5
EXPORT_CHUNK = 500


def engagement_sql(bookings: Any, last_booking_at: Any, now: Any) -> ColumnElement[str]:
    """The rule of ``domain.engagement.engagement``, as a CASE (kept in step by a test)."""
    return case(
        (bookings <= 0, literal("none")),
        (
            and_(last_booking_at.is_not(None), last_booking_at <= now - LAPSED_AFTER),
            literal("lapsed"),
        ),
        (bookings >= REGULAR_FROM, literal("regular")),
        (bookings >= GROWING_FROM, literal("growing")),
        else_=literal("active"),
    )


def sort_key(sort: Sort) -> ColumnElement[Any]:
    if sort.name == "last_activity":
        return func.coalesce(s.last_activity_at, EARLIEST if sort.descending else LATEST)
    if sort.name == "revenue":
        return s.lifetime_spend_minor
    if sort.name == "bookings":
        return s.bookings_count
    if sort.name == "purchased_credits":
        return s.credits_purchased
    return func.lower(c.last_name)


def tab_condition(tab: str) -> ColumnElement[bool]:
    if tab == "with_credits":
        return s.credits_available > 0
    if tab == "paused_credits":
        return s.credits_paused > 0
    if tab == "no_credits":
        return and_(s.credits_available == 0, s.credits_paused == 0)
    if tab == "inactive":
        return c.status == "inactive"
    return and_(literal(True))


def _search(q: str) -> ColumnElement[bool]:
    """Name, email or phone; never an erased record (its placeholder name is no one's)."""
    text = " ".join(q.split()).lower()
    name = func.lower(c.first_name + " " + c.last_name)
    found: list[ColumnElement[bool]] = [
        name.contains(text, autoescape=True),
        func.similarity(name, text) >= NAME_SIMILARITY,
        func.word_similarity(text, name) >= WORD_SIMILARITY,
        c.email.contains(text, autoescape=True),
    ]
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 3:
        found.append(c.phone.contains(digits, autoescape=True))
    return and_(c.erased_at.is_(None), or_(*found))


def _conditions(tenant_id: uuid.UUID, f: Filters, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [c.tenant_id == tenant_id]
    if f.erased == "exclude":
        where.append(c.erased_at.is_(None))
    elif f.erased == "only":
        where.append(c.erased_at.is_not(None))
    if f.ids is not None:
        where.append(c.id.in_(f.ids) if f.ids else false())
    if f.q and f.q.strip():
        where.append(_search(f.q))
    if f.status:
        where.append(c.status.in_(f.status))
    if f.credits_min is not None:
        where.append(s.credits_available >= f.credits_min)
    if f.credits_max is not None:
        where.append(s.credits_available <= f.credits_max)
    if f.has_credits is not None:
        where.append(s.credits_available > 0 if f.has_credits else s.credits_available <= 0)
    if f.last_activity_within_days is not None:
        where.append(s.last_activity_at >= now - timedelta(days=f.last_activity_within_days))
    if f.inactive_for_days is not None:
        cutoff = now - timedelta(days=f.inactive_for_days)
        where.append(or_(s.last_activity_at.is_(None), s.last_activity_at < cutoff))
    if f.registered_from is not None:
        where.append(c.created_at >= datetime.combine(f.registered_from, time(), UTC))
    if f.registered_to is not None and f.registered_to < date.max:
        end = datetime.combine(f.registered_to + timedelta(days=1), time(), UTC)
        where.append(c.created_at < end)
    if f.bookings_min is not None:
        where.append(s.bookings_count >= f.bookings_min)
    if f.bookings_max is not None:
        where.append(s.bookings_count <= f.bookings_max)
    if f.tags:
        where.append(c.tags.contains(f.tags))
    if f.engagement:
        where.append(engagement_sql(s.bookings_count, s.last_booking_at, now) == f.engagement)
    if f.tab != "all":
        where.append(tab_condition(f.tab))
    return where


def _base(tenant_id: uuid.UUID, now: datetime) -> Select[Any]:
    return select(
        c.id,
        c.first_name,
        c.last_name,
        c.email,
        c.phone,
        c.status,
        c.tags,
        c.created_at,
        c.erased_at,
        s.credits_available,
        s.credits_paused,
        s.credits_purchased,
        s.lifetime_spend_minor,
        s.outstanding_minor,
        s.currency,
        s.bookings_count,
        s.first_booking_at,
        s.last_booking_at,
        s.last_activity_at,
        engagement_sql(s.bookings_count, s.last_booking_at, now).label("engagement"),
    ).select_from(
        customers.join(
            customer_summaries,
            and_(s.tenant_id == c.tenant_id, s.customer_id == c.id),
        )
    )


def list_statement(
    tenant_id: uuid.UUID,
    f: Filters,
    sort: Sort,
    *,
    now: datetime,
    after: tuple[Any, uuid.UUID] | None = None,
    limit: int | None = None,
) -> Select[Any]:
    key = sort_key(sort)
    stmt = _base(tenant_id, now).add_columns(key.label("sort_key"))
    where = _conditions(tenant_id, f, now)
    if after is not None:
        pair = tuple_(key, c.id)
        where.append(
            pair < tuple_(*(literal(v) for v in after))
            if sort.descending
            else pair > tuple_(*(literal(v) for v in after))
        )
    stmt = stmt.where(*where)
    if sort.descending:
        stmt = stmt.order_by(key.desc(), c.id.desc())
    else:
        stmt = stmt.order_by(key.asc(), c.id.asc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


class ListingQueries(TenantRepository):
    """The list, its statistics and its export, for one tenant."""

    async def page(
        self,
        f: Filters,
        sort: Sort,
        *,
        now: datetime,
        after: tuple[Any, uuid.UUID] | None,
        limit: int,
    ) -> list[RowMapping]:
        """Up to ``limit`` rows past ``after`` (the sort key and id of the previous page's
        last row), each with its ``sort_key``."""
        stmt = list_statement(self.tenant_id, f, sort, now=now, after=after, limit=limit)
        return list(await self._all(stmt))

    async def rows(self, f: Filters, sort: Sort, *, now: datetime) -> AsyncIterator[RowMapping]:
        """Every row, streamed from a server-side cursor."""
        stmt = list_statement(self.tenant_id, f, sort, now=now)
        result = await self.session.stream(stmt.execution_options(yield_per=EXPORT_CHUNK))
        async for row in result.mappings():
            yield row

    async def stats(self) -> dict[str, Any]:
        """Counts of customers leave erased records out (they are no one any more); the
        totals of bookings and revenue keep them: those sessions and that money were real."""
        joined = customers.join(
            customer_summaries, and_(s.tenant_id == c.tenant_id, s.customer_id == c.id)
        )
        person = c.erased_at.is_(None)
        counts = [
            func.count().filter(person, tab_condition(tab)).label(tab)
            for tab in TABS
            if tab != "all"
        ]
        row = await self._one(
            select(
                func.count().filter(person).label("all"),
                func.count().filter(c.erased_at.is_not(None)).label("erased"),
                func.coalesce(func.sum(s.bookings_count), 0).label("bookings"),
                *counts,
            )
            .select_from(joined)
            .where(c.tenant_id == self.tenant_id)
        )
        revenue = (
            await self.session.execute(
                select(s.currency, func.sum(s.lifetime_spend_minor).label("amount_minor"))
                .select_from(joined)
                .where(c.tenant_id == self.tenant_id, s.currency.is_not(None))
                .group_by(s.currency)
                .order_by(s.currency)
            )
        ).all()
        return {
            "total_customers": row["all"],
            "with_credits": row["with_credits"],
            "erased_customers": row["erased"],
            "total_bookings": int(row["bookings"]),
            "total_revenue": [
                {"amount_minor": int(r.amount_minor), "currency": r.currency} for r in revenue
            ],
            "tabs": {tab: row[tab] for tab in TABS},
        }


def engagement_check_statement(now: datetime, pairs: list[tuple[int, datetime | None]]) -> Any:
    """For the test that the SQL rule and the Python rule agree."""
    from sqlalchemy import DateTime as SADateTime
    from sqlalchemy import Integer, cast, values
    from sqlalchemy import column as sa_column

    table = values(
        sa_column("n", Integer), sa_column("last", SADateTime(timezone=True)), name="v"
    ).data(pairs)
    return select(
        table.c.n,
        table.c.last,
        engagement_sql(cast(table.c.n, Integer), table.c.last, now),
    )
