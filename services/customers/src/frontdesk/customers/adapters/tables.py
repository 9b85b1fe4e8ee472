"""Tables of the customers database. Every index leads with tenant_id."""

from __future__ import annotations

from sqlalchemy import (
    Column,
    DateTime,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY

from frontdesk.kit.db import messaging_tables, new_metadata

metadata = new_metadata()
messaging = messaging_tables(metadata)

customers = Table(
    "customers",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("tenant_id", Uuid, nullable=False),
    Column("first_name", String(100), nullable=False),
    Column("last_name", String(100), nullable=False),
    Column("email", String(320)),
    Column("phone", String(20)),
    Column("status", String(20), nullable=False, server_default="active"),
    Column("tags", ARRAY(Text), nullable=False, server_default=text("'{}'")),
    Column("source", String(20), nullable=False, server_default="staff"),
    Column("version", Integer, nullable=False, server_default=text("1")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("erased_at", DateTime(timezone=True)),
    Index("ix_customers_tenant_email", "tenant_id", "email"),
    Index("ix_customers_tenant_phone", "tenant_id", "phone"),
    Index("ix_customers_tenant_created", "tenant_id", "created_at", "id"),
)
