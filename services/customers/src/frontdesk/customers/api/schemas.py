"""Request and response bodies (never ORM rows on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.customers.domain.customer import Status


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    status: Status = Status.active
    tags: list[str] = Field(default_factory=list, max_length=50)


class CustomerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    email: str | None = Field(default=None, max_length=320)
    phone: str | None = Field(default=None, max_length=40)
    status: Status | None = None
    tags: list[str] | None = Field(default=None, max_length=50)


class CustomerOut(BaseModel):
    id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    status: Status
    tags: list[str]
    source: str
    version: int
    created_at: datetime
    updated_at: datetime
    erased: bool = False

    @classmethod
    def of(cls, row: Any) -> CustomerOut:
        return cls(**{k: row[k] for k in cls.model_fields if k != "erased"},
                   erased=row["erased_at"] is not None)
