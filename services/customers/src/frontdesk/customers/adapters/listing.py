"""The customer list (C7), its statistics (C6) and the export (C10): one filtered query.

Every list query is driven by the summary row, which carries each sort key and the
record's list fields (kept by triggers, migration 0005), with one index per sort key that
leads with the tenant: a page, first or deep, is a range of that index from the cursor on,
joined to the record by its key for the columns shown.

Keyset pagination: each sort is a (key, customer id) pair with a direction; the page after
a cursor starts past its pair. Last activity is nullable: a sentinel (written as the SQL
constant of its index) makes customers without activity come last in either direction.

Search reads its candidates from trigram indexes (name, email, phone) with their
operators: a substring (``LIKE``) or a similar word in the name (``<%``); ranked by how
well they match (``relevance``).

The statistics are the tenant's counters (``customer_stats``, ``customer_revenue``) plus
the changes a trigger wrote as summary rows changed and the worker has not folded in yet
(``customer_stats_changes``): a few rows read, however large the tenant.

The export is ``COPY (the list as CSV cells) TO STDOUT``: the database makes the CSV.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    DateTime,
    RowMapping,
    Select,
    String,
    Uuid,
    and_,
    bindparam,
    case,
    cast,
    false,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    text,
    tuple_,
    union_all,
)
from sqlalchemy.dialects.postgresql import DOUBLE_PRECISION
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.customers.adapters.tables import (
    EARLIEST_SQL,
    LATEST_SQL,
    customer_assets,
    customer_revenue,
    customer_stats,
    customer_stats_changes,
    customer_summaries,
    customers,
)
from frontdesk.customers.domain.assets import plate_key
from frontdesk.customers.domain.engagement import GROWING_FROM, LAPSED_AFTER, REGULAR_FROM
from frontdesk.customers.domain.export import ZERO_DECIMAL, invisible_ranges
from frontdesk.customers.domain.listing import TABS, Filters, Sort
from frontdesk.kit.db import TenantRepository

c = customers.c
s = customer_summaries.c

WORD_SIMILARITY = 0.5
# Chunks of CSV (COPY's, some 64 kB each) read ahead of the answer being sent.
EXPORT_AHEAD = 8
# A phone fragment is searched from this many digits on.
PHONE_DIGITS = 3
# A plate is searched by its start from this many letters or digits on.
PLATE_FROM = 3

# The sort keys, as the indexes of migration 0005 have them.
ACTIVITY_DESC = func.coalesce(
    s.last_activity_at, literal_column(EARLIEST_SQL, DateTime(timezone=True))
)
ACTIVITY_ASC = func.coalesce(
    s.last_activity_at, literal_column(LATEST_SQL, DateTime(timezone=True))
)
# The normalised name, as its trigram index has it (the space a constant, not a parameter).
NAME = func.lower(c.first_name.op("||")(literal_column("' '")).op("||")(c.last_name))

# A search is planned for its own values (a plan made once for any search would be the
# wrong one for most: its candidates' count depends on the words), with its similarity
# threshold. (A list without a search is a range of a sort key's index whatever the values.)
PLAN_SETTINGS = text(
    "SELECT set_config('plan_cache_mode', 'force_custom_plan', true), "
    f"set_config('pg_trgm.word_similarity_threshold', '{WORD_SIMILARITY}', true)"
)


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


def _like_pattern(text: str) -> str:
    """``text`` anywhere, its LIKE wildcards taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _digits(text: str) -> str | None:
    digits = re.sub(r"\D", "", text)
    return digits if len(digits) >= PHONE_DIGITS else None


def _plate(text: str, tenant_id: uuid.UUID) -> ColumnElement[bool] | None:
    """0006: the query as the start of a plate of one of the customer's assets (C15). The
    plates' ids are read first (an index range of the tenant's plates), so the record
    is found by its key: ``id = ANY(ARRAY(...))``, evaluated once."""
    key = plate_key(text)
    if len(key) < PLATE_FROM:
        return None
    a = customer_assets.c
    owners = select(a.customer_id).where(
        a.tenant_id == tenant_id, a.plate_key.like(f"{key}%"), a.plate_key.is_not(None)
    )
    return c.id == func.any(func.array(owners.scalar_subquery()))


def _contains(text: str, tenant_id: uuid.UUID) -> list[ColumnElement[bool]]:
    """The query as a substring of the name, of the email or (its digits) of the phone, or
    as the start of a plate."""
    pattern = _like_pattern(text)
    found: list[ColumnElement[bool]] = [NAME.like(pattern), c.email.like(pattern)]
    digits = _digits(text)
    if digits is not None:
        found.append(c.phone.like(_like_pattern(digits)))
    plate = _plate(text, tenant_id)
    if plate is not None:
        found.append(plate)
    return found


def relevance(text: str, tenant_id: uuid.UUID) -> ColumnElement[float]:
    """How well a record matches: a substring match first, then by similarity of name."""
    exact = case((or_(*_contains(text, tenant_id)), 1.0), else_=0.0)
    similar = func.greatest(func.similarity(NAME, text), func.word_similarity(text, NAME))
    return cast(exact, DOUBLE_PRECISION) + cast(similar, DOUBLE_PRECISION)


def sort_key(sort: Sort, f: Filters, tenant_id: uuid.UUID) -> ColumnElement[Any]:
    if sort.name == "last_activity":
        return ACTIVITY_DESC if sort.descending else ACTIVITY_ASC
    if sort.name == "revenue":
        return s.lifetime_spend_minor
    if sort.name == "bookings":
        return s.bookings_count
    if sort.name == "purchased_credits":
        return s.credits_purchased
    if sort.name == "created":
        return s.registered_at
    if sort.name == "relevance" and f.search_text is not None:
        return relevance(f.search_text, tenant_id)
    return s.sort_name


def tab_condition(tab: str) -> ColumnElement[bool]:
    if tab == "with_credits":
        return s.credits_available > 0
    if tab == "paused_credits":
        return s.credits_paused > 0
    if tab == "no_credits":
        return and_(s.credits_available == 0, s.credits_paused == 0)
    if tab == "inactive":
        return s.status == "inactive"
    return and_(literal(True))


def _search(text: str, tenant_id: uuid.UUID) -> ColumnElement[bool]:
    """A substring of the name, email or phone, or (for a query with letters) a similar word
    in the name (``<%``, word similarity of at least WORD_SIMILARITY: typos): each a trigram
    index's operator, so the candidates come from the indexes. Never an erased record (its
    placeholder name is no one's)."""
    found = _contains(text, tenant_id)
    if any(ch.isalpha() for ch in text):
        found.append(literal(text).op("<%")(NAME))
    # 0006: nor a merged one (its survivor is the customer now).
    return and_(c.erased_at.is_(None), c.merged_into.is_(None), or_(*found))


def _conditions(tenant_id: uuid.UUID, f: Filters, now: datetime) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = [s.tenant_id == tenant_id, s.listed]
    if f.erased == "exclude":
        where.append(not_(s.erased))
    elif f.erased == "only":
        where.append(s.erased)
    if f.ids is not None:
        where.append(s.customer_id.in_(f.ids) if f.ids else false())
    if f.search_text is not None:
        where.append(_search(f.search_text, tenant_id))
    if f.status:
        where.append(s.status.in_(f.status))
    if f.credits_min is not None:
        where.append(s.credits_available >= f.credits_min)
    if f.credits_max is not None:
        where.append(s.credits_available <= f.credits_max)
    if f.has_credits is not None:
        where.append(s.credits_available > 0 if f.has_credits else s.credits_available <= 0)
    # Activity as the sort key has it (no activity is the earliest time), so the key's
    # index serves these ranges too.
    if f.last_activity_within_days is not None:
        where.append(now - timedelta(days=f.last_activity_within_days) <= ACTIVITY_DESC)
    if f.inactive_for_days is not None:
        where.append(now - timedelta(days=f.inactive_for_days) > ACTIVITY_DESC)
    if f.registered_from is not None:
        where.append(s.registered_at >= datetime.combine(f.registered_from, time(), UTC))
    if f.registered_to is not None and f.registered_to < date.max:
        end = datetime.combine(f.registered_to + timedelta(days=1), time(), UTC)
        where.append(s.registered_at < end)
    if f.bookings_min is not None:
        where.append(s.bookings_count >= f.bookings_min)
    if f.bookings_max is not None:
        where.append(s.bookings_count <= f.bookings_max)
    if f.tags:
        where.append(c.tags.contains(f.tags))
    if f.custom:
        where.append(c.custom_fields.contains(f.custom))
    if f.engagement:
        where.append(engagement_sql(s.bookings_count, s.last_booking_at, now) == f.engagement)
    if f.tab != "all":
        where.append(tab_condition(f.tab))
    return where


_RECORD_COLUMNS = (
    c.id,
    c.first_name,
    c.last_name,
    c.email,
    c.phone,
    c.status,
    c.tags,
    c.created_at,
    c.erased_at,
    c.custom_fields,
)


def _summary_columns(now: datetime) -> tuple[Any, ...]:
    return (
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
    )


def _base(now: datetime) -> Select[Any]:
    return select(*_RECORD_COLUMNS, *_summary_columns(now)).select_from(
        customer_summaries.join(
            customers,
            and_(c.tenant_id == s.tenant_id, c.id == s.customer_id),
        )
    )


def _ranks_records_only(f: Filters, sort: Sort) -> bool:
    """A search ranked by relevance whose filters are all the record's own: it is ranked on
    the records, and only the page's rows read their summary."""
    return (
        sort.name == "relevance"
        and f.search_text is not None
        and f.tab in ("all", "inactive")
        and f.engagement is None
        and all(
            value is None
            for value in (
                f.credits_min,
                f.credits_max,
                f.has_credits,
                f.last_activity_within_days,
                f.inactive_for_days,
                f.bookings_min,
                f.bookings_max,
            )
        )
    )


def _record_conditions(tenant_id: uuid.UUID, f: Filters) -> list[ColumnElement[bool]]:
    """``_conditions`` on the record's own columns (``_ranks_records_only``)."""
    text = f.search_text or ""
    where: list[ColumnElement[bool]] = [c.tenant_id == tenant_id, _search(text, tenant_id)]
    if f.erased == "only":
        where.append(c.erased_at.is_not(None))  # (a search never matches them)
    if f.ids is not None:
        where.append(c.id.in_(f.ids) if f.ids else false())
    if f.status:
        where.append(c.status.in_(f.status))
    if f.tab == "inactive":
        where.append(c.status == "inactive")
    if f.registered_from is not None:
        where.append(c.created_at >= datetime.combine(f.registered_from, time(), UTC))
    if f.registered_to is not None and f.registered_to < date.max:
        end = datetime.combine(f.registered_to + timedelta(days=1), time(), UTC)
        where.append(c.created_at < end)
    if f.tags:
        where.append(c.tags.contains(f.tags))
    if f.custom:
        where.append(c.custom_fields.contains(f.custom))
    return where


def _ranked_search(
    tenant_id: uuid.UUID,
    f: Filters,
    *,
    now: datetime,
    after: tuple[Any, uuid.UUID] | None,
    limit: int | None,
) -> Select[Any]:
    """The best matches among the records, then their summaries: however many records
    match, only the page's rows are joined. (Every record has its summary row: it is
    written with the record, and goes only with it.)"""
    score = relevance(f.search_text or "", tenant_id)
    where = _record_conditions(tenant_id, f)
    if after is not None:
        where.append(tuple_(score, c.id) < tuple_(*(literal(v) for v in after)))
    ranked = (
        select(*_RECORD_COLUMNS, score.label("sort_key"))
        .where(*where)
        .order_by(score.desc(), c.id.desc())
    )
    if limit is not None:
        ranked = ranked.limit(limit)
    page = ranked.subquery("ranked")
    r = page.c
    return (
        select(*(r[column.name] for column in _RECORD_COLUMNS), *_summary_columns(now))
        .add_columns(r.sort_key)
        .select_from(
            page.join(
                customer_summaries,
                and_(s.tenant_id == tenant_id, s.customer_id == r.id),
            )
        )
        .order_by(r.sort_key.desc(), r.id.desc())
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
    if _ranks_records_only(f, sort):
        return _ranked_search(tenant_id, f, now=now, after=after, limit=limit)
    key = sort_key(sort, f, tenant_id)
    stmt = _base(now).add_columns(key.label("sort_key"))
    where = _conditions(tenant_id, f, now)
    if after is not None:
        pair = tuple_(key, s.customer_id)
        where.append(
            pair < tuple_(*(literal(v) for v in after))
            if sort.descending
            else pair > tuple_(*(literal(v) for v in after))
        )
    stmt = stmt.where(*where)
    if sort.descending:
        stmt = stmt.order_by(key.desc(), s.customer_id.desc())
    else:
        stmt = stmt.order_by(key.asc(), s.customer_id.asc())
    if limit is not None:
        stmt = stmt.limit(limit)
    return stmt


# -- the export: CSV cells made by the database, streamed by COPY -------------------------

# A cell a spreadsheet would run as a formula starts with one of these (domain.export).
FORMULA_START = "^[=+@\t\r-]"
E164_SQL = "^\\+[1-9][0-9]{6,14}$"
EMPTY: ColumnElement[str] = literal_column("''")


def _text(value: Any) -> ColumnElement[str]:
    return func.coalesce(value, EMPTY)


def _neutralised(value: ColumnElement[str]) -> ColumnElement[str]:
    """``domain.export.neutralise``: a leading apostrophe for a cell starting like a formula,
    also behind fullwidth forms (NFKC) or invisible characters (Cf). A cell starting with an
    ASCII character is checked as it is (NFKC keeps it; it is no format character)."""
    invisible = "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in invisible_ranges())
    folded = func.regexp_replace(
        func.normalize(value, literal_column("NFKC")), literal(f"^[{invisible}]+"), EMPTY
    )
    hidden = and_(value.op("~")(literal("^[^\x01-\x7f]")), folded.op("~")(FORMULA_START))
    return case(
        (or_(value.op("~")(FORMULA_START), hidden), literal_column("''''").op("||")(value)),
        else_=value,
    )


def _money(amount: Any, currency: Any) -> ColumnElement[str]:
    """``domain.export.format_money``."""
    cents = func.lpad(cast(func.abs(amount) % 100, String), 2, "0")
    decimal = (
        case((amount < 0, literal_column("'-'")), else_=EMPTY)
        .op("||")(cast(func.div(func.abs(amount), 100), String))
        .op("||")(literal_column("'.'"))
        .op("||")(cents)
    )
    return case((currency.in_(sorted(ZERO_DECIMAL)), cast(amount, String)), else_=decimal)


def _iso(value: Any, zone: str) -> ColumnElement[str]:
    """``datetime.isoformat()`` of the time in ``zone``, with its offset ('' for none);
    whatever the session's own TimeZone."""
    local = func.timezone(literal(zone), value)
    micro = case(
        (
            cast(func.date_part("microseconds", local), BigInteger) % 1_000_000 != 0,
            func.to_char(local, '"."US'),
        ),
        else_=EMPTY,
    )
    minutes = cast(func.date_part("epoch", local - func.timezone("UTC", value)), BigInteger) // 60
    offset = (
        case((minutes < 0, literal_column("'-'")), else_=literal_column("'+'"))
        .op("||")(func.lpad(cast(func.abs(minutes) // 60, String), 2, "0"))
        .op("||")(literal_column("':'"))
        .op("||")(func.lpad(cast(func.abs(minutes) % 60, String), 2, "0"))
    )
    iso = func.to_char(local, 'YYYY-MM-DD"T"HH24:MI:SS').op("||")(micro)
    return _text(iso.op("||")(offset))


def export_cells(row: Any, zone: str = "UTC") -> list[ColumnElement[str]]:
    """``domain.export.cells`` as SQL over a list row, times in ``zone`` (the tenant's);
    an empty cell is NULL, which CSV writes as nothing (as Python's csv module writes an
    empty string)."""
    phone = _text(row.phone)
    cells = [
        _neutralised(row.first_name),
        _neutralised(row.last_name),
        _neutralised(_text(row.email)),
        case((phone.op("~")(E164_SQL), phone), else_=_neutralised(phone)),
        _neutralised(row.status),
        _neutralised(func.array_to_string(row.tags, ";")),
        cast(row.bookings_count, String),
        _money(row.lifetime_spend_minor, row.currency),
        _neutralised(_text(row.currency)),
        _iso(row.first_booking_at, zone),
        _iso(row.last_booking_at, zone),
        cast(row.credits_available, String),
    ]
    return [func.nullif(cell, EMPTY) for cell in cells]


def custom_cells(row: Any, keys: Sequence[str]) -> list[ColumnElement[str]]:
    """0006: one cell per custom field (C16), its value as JSON text, neutralised."""
    return [
        func.nullif(_neutralised(_text(row.custom_fields.op("->>")(key))), EMPTY) for key in keys
    ]


def export_statement(
    tenant_id: uuid.UUID,
    f: Filters,
    sort: Sort,
    *,
    now: datetime,
    custom: Sequence[str] = (),
    zone: str = "UTC",
) -> Select[Any]:
    """The filtered list (or a selection) in its order, as CSV cells (``custom``: the keys
    of the tenant's custom fields, a column each after the fixed ones)."""
    rows = list_statement(tenant_id, f, sort, now=now).subquery("rows")
    r = rows.c
    order = (r.sort_key.desc(), r.id.desc()) if sort.descending else (r.sort_key.asc(), r.id.asc())
    cells = [*export_cells(r, zone), *custom_cells(r, custom)]
    return select(*cells).select_from(rows).order_by(*order)


class ListingQueries(TenantRepository):
    """The list, its statistics and its export, for one tenant."""

    async def _plan_for_values(self, f: Filters) -> None:
        if f.search_text is not None:
            await self.session.execute(PLAN_SETTINGS)

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
        await self._plan_for_values(f)
        return list(await self._all(stmt))

    async def export_csv(
        self,
        f: Filters,
        sort: Sort,
        *,
        now: datetime,
        custom: Sequence[str] = (),
        zone: str = "UTC",
    ) -> AsyncIterator[bytes]:
        """Every row as CSV (no header, lines ending in LF), made and streamed by the
        database (COPY ... TO STDOUT), a bounded queue of chunks ahead of the reader: memory
        stays flat however many rows. One transaction (the settings begin it): the driver's
        statements around the COPY stay on one server connection behind PgBouncer."""
        stmt = export_statement(self.tenant_id, f, sort, now=now, custom=custom, zone=zone)
        await self.session.execute(PLAN_SETTINGS)
        connection = await self.session.connection()
        driver: Any = (await connection.get_raw_connection()).driver_connection
        compiled = stmt.compile(
            dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
        )
        values = compiled.construct_params()
        args = [values[name] for name in compiled.positiontup or ()]
        chunks: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=EXPORT_AHEAD)

        async def copy() -> None:
            try:
                await driver.copy_from_query(str(compiled), *args, output=chunks.put, format="csv")
            finally:
                await chunks.put(None)

        task = asyncio.create_task(copy())
        try:
            while (chunk := await chunks.get()) is not None:
                yield chunk
            await task  # its error, if it failed
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def stats(self) -> dict[str, Any]:
        """The tenant's counters with the changes not folded yet, in one statement (one
        snapshot). Counts of customers leave erased records out (they are no one any more);
        the totals of bookings and revenue keep them: those sessions and that money were
        real."""
        result = await self.session.execute(stats_statement(), {"tenant_id": self.tenant_id})
        rows = result.mappings().all()
        counts = next((r for r in rows if r["currency"] is None), None)
        figures = {name: int(counts[name] or 0) if counts else 0 for name in STAT_COUNTS}
        return {
            "total_customers": figures["customers"],
            "with_credits": figures["with_credits"],
            "erased_customers": figures["erased"],
            "total_bookings": figures["bookings"],
            "total_revenue": [
                {"amount_minor": int(r["amount_minor"]), "currency": r["currency"]}
                for r in rows
                if r["currency"] is not None and r["customers"] > 0
            ],
            "tabs": {tab: figures["customers" if tab == "all" else tab] for tab in TABS},
        }


STAT_COUNTS = (
    "customers",
    "erased",
    "with_credits",
    "paused_credits",
    "no_credits",
    "inactive",
    "bookings",
)


@functools.cache
def stats_statement() -> Select[Any]:
    """Per currency (None: the counts), the counters plus the pending changes, of the
    tenant bound as ``tenant_id``; built once."""
    st, rv, ch = customer_stats.c, customer_revenue.c, customer_stats_changes.c
    tenant_id = bindparam("tenant_id", type_=Uuid)
    zero = literal_column("0", BigInteger)
    parts = union_all(
        select(
            literal_column("NULL::varchar", String).label("currency"),
            *(st[name] for name in STAT_COUNTS),
            zero.label("amount_minor"),
        ).where(st.tenant_id == tenant_id),
        select(
            rv.currency,
            rv.customers,
            *(zero.label(name) for name in STAT_COUNTS[1:]),
            rv.amount_minor,
        ).where(rv.tenant_id == tenant_id),
        select(ch.currency, *(ch[name] for name in STAT_COUNTS), ch.amount_minor).where(
            ch.tenant_id == tenant_id
        ),
    ).subquery("figures")
    f = parts.c
    return (
        select(
            f.currency,
            *(func.sum(f[name]).label(name) for name in (*STAT_COUNTS, "amount_minor")),
        )
        .group_by(f.currency)
        .order_by(f.currency)
    )


# Folds the pending changes into the counters (every tenant's, oldest first, a batch at a
# time); one folder at a time (the others skip their turn).
FOLD_STATS = text(
    f"""
    WITH folder AS (SELECT pg_try_advisory_xact_lock(hashtextextended('customers:stats-fold', 0))
                           AS alone),
    moved AS (
        DELETE FROM customer_stats_changes
         WHERE id IN (SELECT id FROM customer_stats_changes ORDER BY id LIMIT :batch)
           AND (SELECT alone FROM folder)
        RETURNING *
    ),
    counts AS (
        INSERT INTO customer_stats AS t (tenant_id, {", ".join(STAT_COUNTS)})
        SELECT tenant_id, {", ".join(f"sum({n})" for n in STAT_COUNTS)}
          FROM moved WHERE currency IS NULL GROUP BY tenant_id
        ON CONFLICT (tenant_id) DO UPDATE
           SET {", ".join(f"{n} = t.{n} + EXCLUDED.{n}" for n in STAT_COUNTS)}
    ),
    money AS (
        INSERT INTO customer_revenue AS r (tenant_id, currency, customers, amount_minor)
        SELECT tenant_id, currency, sum(customers), sum(amount_minor)
          FROM moved WHERE currency IS NOT NULL GROUP BY tenant_id, currency
        ON CONFLICT (tenant_id, currency) DO UPDATE
           SET customers = r.customers + EXCLUDED.customers,
               amount_minor = r.amount_minor + EXCLUDED.amount_minor
    )
    SELECT count(*) FROM moved
    """
)
FOLD_BATCH = 50_000


class StatsCounters:
    """Every tenant's statistics counters (the worker's periodic fold)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def fold(self, batch: int = FOLD_BATCH) -> int:
        """Folds up to ``batch`` pending changes; how many it folded."""
        return int(await self.session.scalar(FOLD_STATS, {"batch": batch}) or 0)


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
