"""Envelope and event base shared by every producer and consumer."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class Event(BaseModel):
    """A domain event payload. Subclasses set TYPE (``<service>.<aggregate>.<event>``)
    and VERSION; the routing key is ``TYPE.v<VERSION>``.

    Unknown fields are ignored so a consumer on an older model still reads a
    payload that gained optional fields (the only change allowed within a version).
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    TYPE: ClassVar[str]
    VERSION: ClassVar[int] = 1

    @classmethod
    def routing_key(cls) -> str:
        return f"{cls.TYPE}.v{cls.VERSION}"


class Envelope(BaseModel):
    """What travels on the bus. ``id`` is the deduplication key for inboxes."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    type: str
    version: int = Field(ge=1)
    occurred_at: AwareDatetime = Field(default_factory=lambda: datetime.now(UTC))
    tenant_id: uuid.UUID
    aggregate_id: uuid.UUID
    aggregate_version: int = Field(ge=0)
    correlation_id: uuid.UUID | None = None
    causation_id: uuid.UUID | None = None
    payload: dict[str, Any]

    @property
    def routing_key(self) -> str:
        return f"{self.type}.v{self.version}"

    @classmethod
    def wrap(
        cls,
        event: Event,
        *,
        tenant_id: uuid.UUID,
        aggregate_id: uuid.UUID,
        aggregate_version: int,
        correlation_id: uuid.UUID | None = None,
        causation_id: uuid.UUID | None = None,
    ) -> Envelope:
        return cls(
            type=event.TYPE,
            version=event.VERSION,
            tenant_id=tenant_id,
            aggregate_id=aggregate_id,
            aggregate_version=aggregate_version,
            correlation_id=correlation_id,
            causation_id=causation_id,
            payload=event.model_dump(mode="json"),
        )


class Contact(BaseModel):
    """A person's contact as given at booking time (guests have no customer id yet)."""

    model_config = ConfigDict(frozen=True)

    first_name: str
    last_name: str
    email: str | None = None
    phone: str | None = None


class Money(BaseModel):
    model_config = ConfigDict(frozen=True)

    amount_minor: int
    currency: str = Field(min_length=3, max_length=3)
