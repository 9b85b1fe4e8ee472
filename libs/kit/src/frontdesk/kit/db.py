"""Engine, metadata with a naming convention, and the outbox and inbox tables."""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, NamedTuple, TypeVar

from sqlalchemy import (
    BigInteger,
    ClauseElement,
    Column,
    DateTime,
    Identity,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    RowMapping,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.pool import AsyncAdaptedQueuePool
from sqlalchemy.util import await_only, greenlet_spawn
from sqlalchemy.util.queue import AsyncAdaptedQueue, Empty, Full

from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import NotFoundError, StaleVersion

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def new_metadata() -> MetaData:
    return MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class MessagingTables:
    outbox: Table
    inbox: Table


def messaging_tables(metadata: MetaData) -> MessagingTables:
    """The outbox and inbox every service keeps in its own database."""
    outbox = Table(
        "outbox",
        metadata,
        Column("id", Uuid, primary_key=True),  # the envelope id
        Column("seq", BigInteger, Identity(always=True), nullable=False),
        Column("tenant_id", Uuid, nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("envelope", JSONB, nullable=False),
        Column("headers", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("published_at", DateTime(timezone=True)),
        Column("attempts", Integer, nullable=False, server_default=text("0")),
        Column("last_error", Text),
        Index(
            "ix_outbox_unpublished",
            "seq",
            postgresql_where=text("published_at IS NULL"),
        ),
    )
    inbox = Table(
        "inbox",
        metadata,
        Column("message_id", Uuid, nullable=False),
        Column("consumer", String(100), nullable=False),
        Column("tenant_id", Uuid, nullable=False),
        Column("routing_key", String(200), nullable=False),
        Column("processed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        PrimaryKeyConstraint("message_id", "consumer"),
    )
    return MessagingTables(outbox=outbox, inbox=inbox)


class _HandOverQueue(AsyncAdaptedQueue[Any]):
    """The pool's idle connections, kept beyond ``maxsize`` while requests wait for one.

    SQLAlchemy closes a connection given back when ``maxsize`` are already queued; but the
    requests woken to take those have not run yet, so under load it closes overflow
    connections that waiting requests need, and the next requests open new ones (connect,
    type introspection, every statement prepared again), many a second. Here one is closed
    as overflow only when nobody waits for it.

    At most ``max_waiting`` requests wait: the next is refused at once (the pool's
    timeout error: 503 with Retry-After), so overload never queues without bound."""

    def __init__(self, maxsize: int = 0, use_lifo: bool = False, max_waiting: int = 0) -> None:
        super().__init__(maxsize, use_lifo)
        self.waiting = 0
        self.max_waiting = max_waiting

    @property
    def _queue(self) -> asyncio.Queue[Any]:
        # Unbounded: ``put_nowait`` bounds it. Made on first use, in the running loop.
        queue: asyncio.Queue[Any] | None = self.__dict__.get("_unbounded")
        if queue is None:
            queue = asyncio.LifoQueue() if self.use_lifo else asyncio.Queue()
            self.__dict__["_unbounded"] = queue
        return queue

    def full(self) -> bool:
        return bool(self.maxsize) and self._queue.qsize() >= self.maxsize

    def put_nowait(self, item: Any) -> None:
        # Each waiting request takes one of those queued beyond maxsize.
        if self.maxsize and self._queue.qsize() >= self.maxsize + self.waiting:
            raise Full()
        self._queue.put_nowait(item)

    def get(self, block: bool = True, timeout: float | None = None) -> Any:
        if block and self._queue.empty():
            if self.max_waiting and self.waiting >= self.max_waiting:
                raise Empty()
            self.waiting += 1
            try:
                return super().get(block, timeout)
            finally:
                self.waiting -= 1
        return super().get(block, timeout)


class BudgetPool(AsyncAdaptedQueuePool):
    """SQLAlchemy's asyncio queue pool (``pool_size`` kept, ``max_overflow`` more while
    busy), handing connections given back to waiting requests rather than closing them."""

    _queue_class = _HandOverQueue


def _budget_pool(max_waiting: int) -> type[BudgetPool]:
    """A BudgetPool whose queue lets at most ``max_waiting`` requests wait (0: any)."""
    return type(
        "BudgetPool",
        (BudgetPool,),
        {"_queue_class": functools.partial(_HandOverQueue, max_waiting=max_waiting)},
    )


def create_engine(
    url: str,
    *,
    pool_size: int = 5,
    max_overflow: int = 0,
    pool_timeout: float = 15.0,
    pool_max_waiting: int = 0,
    statement_cache: bool = True,
) -> AsyncEngine:
    """An engine whose connections stay within the process's budget (see Settings)."""
    connect_args: dict[str, Any] = {}
    if not statement_cache:  # PgBouncer in transaction mode cannot keep prepared statements
        connect_args = {"statement_cache_size": 0, "prepared_statement_cache_size": 0}
    return create_async_engine(
        url,
        pool_size=pool_size,
        max_overflow=max_overflow,
        pool_timeout=pool_timeout,
        # No ping before each checkout (a round trip per request): a connection the server
        # dropped fails its first statement, the pool discards it and every older one,
        # and that request answers 503 with Retry-After. Recycling bounds a connection's age.
        pool_recycle=600,
        poolclass=_budget_pool(pool_max_waiting),
        connect_args=connect_args,
    )


def engine_for(settings: Any) -> AsyncEngine:
    """The engine a service process uses, sized by its settings."""
    return create_engine(
        settings.resolved_database_url(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        pool_max_waiting=settings.db_pool_max_waiting,
        statement_cache=settings.db_statement_cache,
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)


class _Compiled(NamedTuple):
    sql: str
    names: tuple[str, ...]
    constants: dict[str, Any]
    processors: dict[str, Callable[[Any], Any]]


class Prepared:
    """A Core statement for the driver itself (asyncpg) to run as a prepared statement, for
    a service's hottest reads: compiled once per dialect (its SQL with the driver's
    placeholders, the order of its parameters, the values of its constants), so a run
    builds, compiles and processes nothing. Values left open (``bindparam("name")``) are
    given by name at each run, as the driver takes them (UUIDs, datetimes, text, numbers,
    lists for ``= ANY(...)``; no expanding ``IN``). Rows come back as the driver's records
    (read by column name)."""

    def __init__(self, statement: Any) -> None:
        self.statement = statement
        self._compiled: dict[Any, _Compiled] = {}

    def compiled(self, dialect: Any) -> _Compiled:
        """The SQL, the names of its parameters in order, the constants' values and the
        types' conversions of the values given (JSON to text, as SQLAlchemy would)."""
        key = (type(dialect), dialect.server_version_info)
        found = self._compiled.get(key)
        if found is None:
            compiled = self.statement.compile(dialect=dialect)
            given = {name: None for bind, name in compiled.bind_names.items() if bind.required}
            constants = {
                name: value
                for name, value in compiled.construct_params(given).items()
                if name not in given
            }
            sql = str(compiled)
            if "POSTCOMPILE" in sql:  # rendered per run by SQLAlchemy: not a fixed statement
                raise ValueError("Prepared takes no expanding IN (use = ANY(:values))")
            processors = {
                name: process
                for name, process in compiled._bind_processors.items()
                if name in given and callable(process)
            }
            found = _Compiled(sql, tuple(compiled.positiontup or ()), constants, processors)
            self._compiled[key] = found
        return found

    def arguments(self, dialect: Any, values: Mapping[str, Any]) -> tuple[str, list[Any]]:
        """The SQL and its positional arguments for ``values``."""
        sql, names, constants, processors = self.compiled(dialect)
        try:
            arguments = [values[n] if n in values else constants[n] for n in names]
        except KeyError as missing:
            raise TypeError(f"no value for the parameter {missing}") from None
        if processors:
            for position, name in enumerate(names):
                process = processors.get(name)
                if process is not None and arguments[position] is not None:
                    arguments[position] = process(arguments[position])
        return sql, arguments


class Reads:
    """``Prepared`` statements run on the driver's own connection: no session, no Core
    execution, no result processing. Each read borrows a connection from the engine's
    pool and gives it back at once (as a bare asyncpg pool would), unless ``current``
    yields the connection of a transaction under way (a unit of work that has begun one:
    its reads then see what it wrote)."""

    def __init__(
        self,
        engine: AsyncEngine,
        current: Callable[[], Awaitable[AsyncConnection | None]] | None = None,
    ) -> None:
        self.engine = engine
        self._current = current

    async def row(self, statement: Prepared, /, **values: Any) -> Mapping[str, Any] | None:
        """The first row, or None."""
        found: Mapping[str, Any] | None = await self._run("fetchrow", statement, values)
        return found

    async def rows(self, statement: Prepared, /, **values: Any) -> list[Mapping[str, Any]]:
        found: list[Mapping[str, Any]] = await self._run("fetch", statement, values)
        return found

    async def value(self, statement: Prepared, /, **values: Any) -> Any:
        """The first column of the first row (None without one)."""
        return await self._run("fetchval", statement, values)

    async def execute(self, statement: Prepared, /, **values: Any) -> None:
        """Run a statement that returns nothing (a write, with ``session_writes``)."""
        await self._run("execute", statement, values)

    async def _run(self, method: str, statement: Prepared, values: Mapping[str, Any]) -> Any:
        connection = await self._current() if self._current is not None else None
        dialect = connection.dialect if connection is not None else self.engine.dialect
        sql, args = statement.arguments(dialect, values)
        try:
            if connection is not None:
                driver = (await connection.get_raw_connection()).driver_connection
                return await getattr(driver, method)(sql, *args)
            # One greenlet for checkout, read and checkin: the pool may wait, connect, close.
            return await greenlet_spawn(self._borrowed, method, sql, args)
        except Exception as error:
            if not sqlstate(error) or isinstance(error, DBAPIError):
                raise
            # As SQLAlchemy raises it, so the same problem answers it (409, 422, 503).
            wrapper = IntegrityError if sqlstate(error).startswith("23") else DBAPIError
            raise wrapper(sql, None, error) from error

    def _borrowed(self, method: str, sql: str, args: list[Any]) -> Any:
        pooled = self.engine.sync_engine.pool.connect()
        try:
            return await_only(getattr(pooled.driver_connection, method)(sql, *args))
        except BaseException as error:
            # Only an error PostgreSQL answered leaves the connection as it was; after any
            # other (cancelled mid-read, connection lost) it is closed, not reused.
            if not sqlstate(error) or unavailable(error):
                pooled.invalidate(error if isinstance(error, Exception) else None)
            raise
        finally:
            pooled.close()


def session_reads(session: AsyncSession) -> Reads:
    """``Reads`` on a session's own connection, in its transaction (for a repository, which
    holds the unit of work's session)."""

    async def connection() -> AsyncConnection:
        return await session.connection()

    return Reads(session.bind, connection)  # type: ignore[arg-type]


def session_writes(session: AsyncSession) -> Reads:
    """Prepared statements that write (INSERT/UPDATE … RETURNING run by ``row``, ``rows``
    or ``value``) in the session's transaction, for a service's hottest writes: its BEGIN
    is sent first, so they commit or roll back with everything else the unit did."""

    async def connection() -> AsyncConnection:
        return await begun(session)

    return Reads(session.bind, connection)  # type: ignore[arg-type]


async def begun(session: AsyncSession) -> AsyncConnection:
    """The session's connection with its transaction begun on the server. SQLAlchemy's
    asyncpg adapter sends BEGIN lazily, before its own first statement; a statement sent
    to the driver before that one would run outside the transaction (and commit alone)."""
    return await begun_connection(await session.connection())


async def begun_connection(connection: AsyncConnection) -> AsyncConnection:
    """``connection`` (in a transaction SQLAlchemy began) with its BEGIN sent (``begun``)."""
    adapted = (await connection.get_raw_connection()).dbapi_connection
    if not adapted._started:  # type: ignore[union-attr]
        await adapted._start_transaction()  # type: ignore[union-attr]
    return connection


class TenantRepository:
    """Base of every repository: one tenant's queries on the unit of work's session."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.session = session
        self.tenant_id = tenant_id

    async def _one(self, stmt: Any) -> RowMapping:
        return (await self.session.execute(stmt)).mappings().one()

    async def _first(self, stmt: Any) -> RowMapping | None:
        return (await self.session.execute(stmt)).mappings().first()

    async def _all(self, stmt: Any) -> Sequence[RowMapping]:
        return (await self.session.execute(stmt)).mappings().all()


Found = TypeVar("Found")


# The statements of repositories whose rows are found by tenant and id, by what they do.
_KEYED: dict[tuple[Any, ...], Prepared] = {}


def keyed(key: tuple[Any, ...], build: Callable[[], Any]) -> Prepared:
    """The prepared statement ``build`` makes, built once for ``key``."""
    found = _KEYED.get(key)
    if found is None:
        found = _KEYED[key] = Prepared(build())
    return found


def by_key(table: Table) -> Any:
    """Tenant and id, as the keyed statements' parameters ``key_tenant_id`` and ``key_id``."""
    c = table.c
    return (c.tenant_id == bindparam("key_tenant_id", type_=c.tenant_id.type)) & (
        c.id == bindparam("key_id", type_=c.id.type)
    )


def _locked(stmt: Any, for_update: bool) -> Any:
    return stmt.with_for_update() if for_update else stmt


class TableRepository(TenantRepository, Generic[Found]):
    """One aggregate's table: get / require / insert / update with the version bump, every
    statement filtered by tenant. ``load`` turns a row into what callers get (the row
    itself by default; ``AggregateRepository`` gives the domain object).

    Where rows are found by tenant and id (``_where`` as here) and loaded as domain
    objects (``loads_driver_rows``), get, add and update run as prepared statements
    (``Prepared``), one per table and shape, built once: they are every service's most
    frequent statements."""

    table: ClassVar[Table]
    what: ClassVar[str] = "item"

    def load(self, row: RowMapping) -> Found:
        return row  # type: ignore[return-value]

    def _where(self, row_id: uuid.UUID) -> Any:
        return (self.table.c.tenant_id == self.tenant_id) & (self.table.c.id == row_id)

    # Whether ``load`` takes the driver's own rows (a domain object's ``from_row``): then
    # get, add and update run as prepared statements.
    loads_driver_rows: ClassVar[bool] = False

    @property
    def _keyed(self) -> bool:
        return self.loads_driver_rows and type(self)._where is TableRepository._where

    async def get(self, row_id: uuid.UUID, *, for_update: bool = False) -> Found | None:
        if self._keyed:
            statement = keyed(
                (self.table, "get", for_update),
                lambda: _locked(select(self.table).where(by_key(self.table)), for_update),
            )
            found = await session_writes(self.session).row(
                statement, key_tenant_id=self.tenant_id, key_id=row_id
            )
            return None if found is None else self.load(found)  # type: ignore[arg-type]
        stmt = select(self.table).where(self._where(row_id))
        if for_update:
            stmt = stmt.with_for_update()
        row = await self._first(stmt)
        return None if row is None else self.load(row)

    async def require(self, row_id: uuid.UUID, *, for_update: bool = False) -> Found:
        """The row, or ``NotFoundError`` naming ``what``."""
        found = await self.get(row_id, for_update=for_update)
        if found is None:
            raise NotFoundError.of(self.what)
        return found

    async def insert(self, values: Mapping[str, Any]) -> Found:
        stmt = insert(self.table).values(**{**values, "tenant_id": self.tenant_id})
        return self.load(await self._one(stmt.returning(self.table)))

    async def update(
        self,
        row_id: uuid.UUID,
        values: Mapping[str, Any],
        *,
        expected_version: int | None = None,
    ) -> Found:
        """Write ``values`` and bump the version (and ``updated_at`` where the table has one).
        With ``expected_version``: only if the row is still at it, else ``StaleVersion``."""
        if self._keyed and not any(isinstance(v, ClauseElement) for v in values.values()):
            return await self._update_prepared(row_id, values, expected_version)
        columns = self.table.c
        changes: dict[str, Any] = dict(values)
        if "version" in columns:
            changes["version"] = columns.version + 1
        if "updated_at" in columns and "updated_at" not in values:
            changes["updated_at"] = func.now()
        where = self._where(row_id)
        if expected_version is not None:
            where = where & (columns.version == expected_version)
        row = await self._first(
            update(self.table).where(where).values(**changes).returning(self.table)
        )
        if row is None:
            await self._missing(row_id)
        return self.load(row)  # type: ignore[arg-type]

    async def _missing(self, row_id: uuid.UUID) -> None:
        """Why an update found no row: ``NotFoundError``, or ``StaleVersion``."""
        current = await self._first(select(self.table).where(self._where(row_id)))
        if current is None:
            raise NotFoundError.of(self.what)
        raise StaleVersion(self.what, current["version"])

    async def _update_prepared(
        self, row_id: uuid.UUID, values: Mapping[str, Any], expected_version: int | None
    ) -> Found:
        names = tuple(sorted(name for name in values if name != "version"))
        versioned = expected_version is not None
        statement = keyed(
            (self.table, "update", names, versioned),
            lambda: self._update_statement(names, versioned),
        )
        row = await session_writes(self.session).row(
            statement,
            key_tenant_id=self.tenant_id,
            key_id=row_id,
            key_version=expected_version,
            **{f"set_{name}": values[name] for name in names},
        )
        if row is None:
            await self._missing(row_id)
        return self.load(row)  # type: ignore[arg-type]

    def _update_statement(self, names: tuple[str, ...], versioned: bool) -> Any:
        c = self.table.c
        changes: dict[str, Any] = {
            name: bindparam(f"set_{name}", type_=c[name].type) for name in names
        }
        if "version" in c:
            changes["version"] = c.version + 1
        if "updated_at" in c and "updated_at" not in names:
            changes["updated_at"] = func.now()
        where = by_key(self.table)
        if versioned:
            where = where & (c.version == bindparam("key_version", type_=c.version.type))
        return update(self.table).where(where).values(**changes).returning(self.table)


A = TypeVar("A", bound=Aggregate)


class AggregateRepository(TableRepository[A]):
    """A repository whose rows are domain aggregates: ``add`` inserts one, ``save`` writes
    the fields it changed if nobody else saved it meanwhile (else ``StaleVersion``)."""

    aggregate: ClassVar[type[Aggregate]]
    loads_driver_rows = True

    def load(self, row: RowMapping) -> A:
        return self.aggregate.from_row(row)  # type: ignore[return-value]

    async def add(self, aggregate: A) -> A:
        """Insert a new aggregate of this repository's tenant; fields left None where the
        column has a server default (``created_at``) are the database's to fill."""
        values = self.added_values(aggregate)
        if not self._keyed:
            row = await self._one(insert(self.table).values(**values).returning(self.table))
            aggregate.saved(row)
            return aggregate
        names = tuple(values)
        statement = keyed((self.table, "add", names), lambda: self.adding(names))
        added = await session_writes(self.session).row(
            statement, **{f"add_{name}": value for name, value in values.items()}
        )
        aggregate.saved(added)
        return aggregate

    def added_values(self, aggregate: A) -> dict[str, Any]:
        """The columns ``add`` writes for ``aggregate`` (its own tenant's only)."""
        if aggregate.tenant_id != self.tenant_id:
            raise ValueError("an aggregate of another tenant cannot be added here")
        return {
            name: value
            for name, value in aggregate.to_row().items()
            if value is not None or self.table.c[name].server_default is None
        }

    def adding(self, names: tuple[str, ...]) -> Any:
        """The insert of ``names`` (parameters ``add_<name>``) returning the row: ``add``'s
        statement, for one that writes more with it."""
        c = self.table.c
        return (
            insert(self.table)
            .values({name: bindparam(f"add_{name}", type_=c[name].type) for name in names})
            .returning(self.table)
        )

    async def save(self, aggregate: A) -> A:
        if not aggregate.changed:
            return aggregate
        values = {name: getattr(aggregate, name) for name in aggregate.changed}
        saved = await self.update(aggregate.id, values, expected_version=aggregate.version)
        aggregate.saved(saved.to_row())
        return aggregate


def sqlstate(exc: BaseException) -> str:
    """PostgreSQL's SQLSTATE of a database error ('' when it has none): on the error, on
    the driver's error SQLAlchemy wraps, or on what that one was raised from."""
    for candidate in (
        exc,
        getattr(exc, "orig", None),
        getattr(getattr(exc, "orig", None), "__cause__", None),
        exc.__cause__,
    ):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str) and state:
            return state
    return ""


# too_many_connections, insufficient_resources, cannot_connect_now, admin/crash shutdown;
# and class 08 (connection exceptions): the database is there but cannot serve now.
UNAVAILABLE_SQLSTATES = frozenset({"53300", "53000", "57P01", "57P02", "57P03"})


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means "no database connection to be had right now" (answer 503)."""
    if isinstance(exc, PoolTimeout | ConnectionError | TimeoutError):
        return True
    state = sqlstate(exc)  # a driver error that reached us unwrapped (while connecting)
    if state in UNAVAILABLE_SQLSTATES or state.startswith("08"):
        return True
    if isinstance(exc, DBAPIError):
        if exc.connection_invalidated:
            return True
        orig = exc.orig
        state = sqlstate(exc)
        if state in UNAVAILABLE_SQLSTATES or state.startswith("08"):
            return True
        cause = getattr(orig, "__cause__", None)
        return isinstance(orig, OSError) or isinstance(cause, OSError | TimeoutError)
    return isinstance(exc, OSError)
