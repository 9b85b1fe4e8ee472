"""Alembic per service: database creation, programmatic upgrade, shared env.py body."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import sqlalchemy as sa
from alembic import command, context, op
from alembic.config import Config
from sqlalchemy import MetaData, pool
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.ext.asyncio import async_engine_from_config


def _asyncpg_dsn(url: str, database: str | None = None) -> str:
    parsed = make_url(url).set(drivername="postgresql")
    if database is not None:
        parsed = parsed.set(database=database)
    return parsed.render_as_string(hide_password=False)


async def ensure_database(url: str) -> bool:
    """Create the database named in ``url`` if missing; True if it was created."""
    name = make_url(url).database
    assert name, f"no database in {url}"
    conn = await asyncpg.connect(_asyncpg_dsn(url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists:
            return False
        await conn.execute(f'CREATE DATABASE "{name}"')
        return True
    finally:
        await conn.close()


async def drop_database(url: str) -> None:
    name = make_url(url).database
    conn = await asyncpg.connect(_asyncpg_dsn(url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def alembic_config(migrations_dir: Path, database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_dir))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(migrations_dir: Path, database_url: str) -> None:
    """Create the database if needed and migrate it to head (call outside an event loop)."""
    asyncio.run(ensure_database(database_url))
    command.upgrade(alembic_config(migrations_dir, database_url), "head")


def run_env(metadata: MetaData) -> None:
    """The body of every service's ``migrations/env.py``."""
    config = context.config

    def migrate(connection: Connection) -> None:
        context.configure(connection=connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()

    async def run() -> None:
        engine = async_engine_from_config(
            config.get_section(config.config_ini_section, {}),
            prefix="sqlalchemy.",
            poolclass=pool.NullPool,
        )
        async with engine.connect() as connection:
            await connection.run_sync(migrate)
        await engine.dispose()

    asyncio.run(run())


def create_messaging_tables() -> None:
    """For a service's first migration: the outbox and inbox, frozen as of this revision."""
    op.create_table(
        "outbox",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("seq", sa.BigInteger(), sa.Identity(always=True), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column("envelope", postgresql.JSONB(), nullable=False),
        sa.Column(
            "headers", postgresql.JSONB(), server_default=sa.text("'{}'::jsonb"), nullable=False
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_outbox"),
    )
    op.create_index(
        "ix_outbox_unpublished", "outbox", ["seq"], postgresql_where=sa.text("published_at IS NULL")
    )
    op.create_table(
        "inbox",
        sa.Column("message_id", sa.Uuid(), nullable=False),
        sa.Column("consumer", sa.String(100), nullable=False),
        sa.Column("tenant_id", sa.Uuid(), nullable=False),
        sa.Column("routing_key", sa.String(200), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.PrimaryKeyConstraint("message_id", "consumer", name="pk_inbox"),
    )
