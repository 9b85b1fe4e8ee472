"""Request and response bodies (never ORM rows on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.customers.application.customers import Detail
from frontdesk.customers.domain.customer import Customer, Status
from frontdesk.customers.domain.engagement import Engagement
from frontdesk.customers.domain.notes import TEXT_MAX, Note, Visibility
from frontdesk.kit.types import Line, Multiline, Name, StrictBool


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: Name = Field(min_length=1, max_length=100)
    last_name: Name = Field(min_length=1, max_length=100)
    email: Line | None = Field(default=None, max_length=320)
    phone: Line | None = Field(default=None, max_length=40)
    status: Status = Status.active
    tags: list[Line] = Field(default_factory=list, max_length=50)


class FindOrCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: Name = Field(min_length=1, max_length=100)
    last_name: Name = Field(min_length=1, max_length=100)
    email: Line = Field(min_length=3, max_length=320)
    phone: Line | None = Field(default=None, max_length=40)


class CustomerPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: Name | None = Field(default=None, min_length=1, max_length=100)
    last_name: Name | None = Field(default=None, min_length=1, max_length=100)
    email: Line | None = Field(default=None, max_length=320)
    phone: Line | None = Field(default=None, max_length=40)
    status: Status | None = None
    tags: list[Line] | None = Field(default=None, max_length=50)


class NextSession(BaseModel):
    booking_id: uuid.UUID
    title: str
    starts_at: datetime


class Membership(BaseModel):
    membership_id: uuid.UUID
    plan_name: str
    status: str
    starts_at: datetime
    expires_at: datetime


class SummaryOut(BaseModel):
    """What other services told us about the customer (C5), with engagement (C3)."""

    credits_available: int = 0
    credits_paused: int = 0
    credits_purchased: int = 0
    lifetime_spend_minor: int = 0
    outstanding_minor: int = 0
    currency: str | None = None
    bookings_count: int = 0
    first_booking_at: datetime | None = None
    last_booking_at: datetime | None = None
    last_activity_at: datetime | None = None
    next_session: NextSession | None = None
    membership: Membership | None = None
    engagement: Engagement = Engagement.none


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
    possible_duplicates: list[uuid.UUID] = Field(
        default_factory=list,
        description="Other customers of the tenant with the same email, phone or name.",
    )
    summary: SummaryOut | None = None

    @classmethod
    def of(cls, detail: Detail) -> CustomerOut:
        customer: Customer = detail.customer
        summary = SummaryOut()
        if detail.summary is not None:
            known = {k: detail.summary[k] for k in SummaryOut.model_fields if k in detail.summary}
            summary = SummaryOut(**known)
        summary.engagement = detail.engagement
        summary.next_session = NextSession(**detail.next_session) if detail.next_session else None
        summary.membership = Membership(**detail.membership) if detail.membership else None
        return cls(
            id=customer.id,
            first_name=customer.first_name,
            last_name=customer.last_name,
            email=customer.email,
            phone=customer.phone,
            status=Status(customer.status),
            tags=customer.tags,
            source=customer.source,
            version=customer.version,
            created_at=customer.created_at,
            updated_at=customer.updated_at,
            erased=customer.erased,
            possible_duplicates=detail.possible_duplicates,
            summary=summary,
        )


class CustomerRow(BaseModel):
    """One line of the list."""

    id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    status: Status
    tags: list[str]
    created_at: datetime
    credits_available: int
    credits_paused: int
    credits_purchased: int
    revenue_minor: int
    currency: str | None
    bookings: int
    last_activity_at: datetime | None
    engagement: Engagement

    @staticmethod
    def fields_of(row: Any) -> dict[str, Any]:
        """The line's fields from a row of the list (validated with the page, at once)."""
        return {
            "id": row["id"],
            "first_name": row["first_name"],
            "last_name": row["last_name"],
            "email": row["email"],
            "phone": row["phone"],
            "status": row["status"],
            "tags": row["tags"],
            "created_at": row["created_at"],
            "credits_available": row["credits_available"],
            "credits_paused": row["credits_paused"],
            "credits_purchased": row["credits_purchased"],
            "revenue_minor": row["lifetime_spend_minor"],
            "currency": row["currency"],
            "bookings": row["bookings_count"],
            "last_activity_at": row["last_activity_at"],
            "engagement": row["engagement"],
        }


class CustomerPage(BaseModel):
    items: list[CustomerRow]
    next_cursor: str | None = None


class Money(BaseModel):
    amount_minor: int
    currency: str


class Tabs(BaseModel):
    all: int
    with_credits: int
    paused_credits: int
    no_credits: int
    inactive: int


class Stats(BaseModel):
    total_customers: int = Field(description="Customers, erased (anonymised) records left out.")
    with_credits: int
    erased_customers: int = Field(
        description="Erased records: not counted as customers, their bookings and revenue are."
    )
    total_bookings: int = Field(description="Every customer's, erased ones included.")
    total_revenue: list[Money] = Field(
        description="Lifetime spend, one total per currency, erased customers included."
    )
    tabs: Tabs


class NoteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Multiline = Field(min_length=1, max_length=TEXT_MAX)
    visibility: Visibility = Visibility.team
    pinned: StrictBool = False


class NotePatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pinned: StrictBool


class Author(BaseModel):
    sub: str
    name: str | None


class NoteOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    text: str
    visibility: Visibility
    pinned: bool
    author: Author
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, note: Note) -> NoteOut:
        return cls(
            id=note.id,
            customer_id=note.customer_id,
            text=note.text,
            visibility=Visibility(note.visibility),
            pinned=note.pinned,
            author=Author(sub=note.author_sub, name=note.author_name),
            created_at=note.created_at,
            updated_at=note.updated_at,
        )


BulkAction = Literal["set_status", "add_tag", "remove_tag", "message"]


class BulkRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[uuid.UUID] = Field(min_length=1, max_length=1000)
    action: BulkAction
    status: Status | None = None
    tag: Line | None = Field(default=None, max_length=50)
    channel: Literal["email", "sms"] | None = None
    subject: Line | None = Field(default=None, max_length=200)
    body: Multiline | None = Field(default=None, max_length=5000)


class BulkResult(BaseModel):
    action: BulkAction
    selected: int
    changed: int
    request_id: uuid.UUID | None = None


class ActivityItem(BaseModel):
    id: uuid.UUID
    kind: Literal["note", "booking", "message", "invoice"]
    event: str
    occurred_at: datetime
    subject_id: uuid.UUID
    summary: str
    details: dict[str, Any]


class ActivityPage(BaseModel):
    items: list[ActivityItem]
    next_cursor: str | None = None


class BookingOut(BaseModel):
    booking_id: uuid.UUID
    status: str
    title: str
    session_kind: str
    starts_at: datetime
    ends_at: datetime


class DataExport(BaseModel):
    """An access request (GDPR): everything this service holds about the customer."""

    customer: CustomerOut
    notes: list[NoteOut]
    bookings: list[BookingOut]
    memberships: list[Membership]
    activity: list[ActivityItem]
