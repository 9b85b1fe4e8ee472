"""What the benchmarks share: a scratch database and bus of their own, and the figures."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from typing import Any

from sqlalchemy import MetaData
from sqlalchemy.ext.asyncio import AsyncEngine

from frontdesk.kit import db, migrations
from frontdesk.kit.settings import Settings


def scratch_settings(name: str, **overrides: Any) -> Settings:
    """Names of this run only (database, exchanges, queues), left to expire if killed."""
    run = uuid.uuid4().hex[:8]
    return Settings(
        service=f"bench_{name}_{run}",
        bus_prefix=f"bench.{run}.",
        database_prefix="",
        queue_expires_ms=10 * 60 * 1000,
        **overrides,
    )


@contextlib.asynccontextmanager
async def scratch_database(settings: Settings, metadata: MetaData) -> AsyncIterator[AsyncEngine]:
    """The settings' database with ``metadata``'s tables, dropped afterwards."""
    url = settings.resolved_database_url()
    await migrations.ensure_database(url)
    engine = db.create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield engine
    finally:
        await engine.dispose()
        await migrations.drop_database(url)


def report(title: str, figures: dict[str, float], unit: str = "/s") -> None:
    """The measured figure beside its baselines, measured in the same run."""
    print(title)
    width = max(len(label) for label in figures) + 2
    for label, value in figures.items():
        print(f"  {label:<{width}}{value:8.0f}{unit}")
