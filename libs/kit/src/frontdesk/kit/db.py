"""Engine, metadata with a naming convention, and the outbox and inbox tables."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from sqlalchemy import (
    BigInteger,
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
    func,
    insert,
    select,
    text,
    update,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

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


def create_engine(
    url: str,
    *,
    pool_size: int = 3,
    max_overflow: int = 2,
    pool_timeout: float = 15.0,
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
        connect_args=connect_args,
    )


def engine_for(settings: Any) -> AsyncEngine:
    """The engine a service process uses, sized by its settings."""
    return create_engine(
        settings.resolved_database_url(),
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        statement_cache=settings.db_statement_cache,
    )


def sessionmaker(engine: AsyncEngine) -> async_sessionmaker:  # type: ignore[type-arg]
    return async_sessionmaker(engine, expire_on_commit=False)


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


class TableRepository(TenantRepository, Generic[Found]):
    """One aggregate's table: get / require / insert / update with the version bump, every
    statement filtered by tenant. ``load`` turns a row into what callers get (the row
    itself by default; ``AggregateRepository`` gives the domain object)."""

    table: ClassVar[Table]
    what: ClassVar[str] = "item"

    def load(self, row: RowMapping) -> Found:
        return row  # type: ignore[return-value]

    def _where(self, row_id: uuid.UUID) -> Any:
        return (self.table.c.tenant_id == self.tenant_id) & (self.table.c.id == row_id)

    async def get(self, row_id: uuid.UUID, *, for_update: bool = False) -> Found | None:
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
            current = await self._first(select(self.table).where(self._where(row_id)))
            if current is None:
                raise NotFoundError.of(self.what)
            raise StaleVersion(self.what, current["version"])
        return self.load(row)


A = TypeVar("A", bound=Aggregate)


class AggregateRepository(TableRepository[A]):
    """A repository whose rows are domain aggregates: ``add`` inserts one, ``save`` writes
    the fields it changed if nobody else saved it meanwhile (else ``StaleVersion``)."""

    aggregate: ClassVar[type[Aggregate]]

    def load(self, row: RowMapping) -> A:
        return self.aggregate.from_row(row)  # type: ignore[return-value]

    async def add(self, aggregate: A) -> A:
        """Insert a new aggregate of this repository's tenant; fields left None where the
        column has a server default (``created_at``) are the database's to fill."""
        if aggregate.tenant_id != self.tenant_id:
            raise ValueError("an aggregate of another tenant cannot be added here")
        values = {
            name: value
            for name, value in aggregate.to_row().items()
            if value is not None or self.table.c[name].server_default is None
        }
        row = await self._one(insert(self.table).values(**values).returning(self.table))
        aggregate.saved(row)
        return aggregate

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
