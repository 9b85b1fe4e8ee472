"""Request and response bodies (never ORM rows on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.customers.application.customers import Detail
from frontdesk.customers.domain.assets import Asset
from frontdesk.customers.domain.assets import Kind as AssetKind
from frontdesk.customers.domain.custom_fields import Definition, FieldType
from frontdesk.customers.domain.customer import Customer, Status
from frontdesk.customers.domain.engagement import Engagement
from frontdesk.customers.domain.merge import Merge
from frontdesk.customers.domain.notes import TEXT_MAX, Note, Visibility
from frontdesk.kit.types import Count, Line, Multiline, Name, StrictBool

# Custom field values (C16) by key; checked against the tenant's definitions when written.
CustomValues = Annotated[
    dict[Annotated[str, Field(max_length=40)], Any],
    Field(max_length=100, description="Values by custom field key (see /v1/custom-fields)."),
]


class CustomerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: Name = Field(min_length=1, max_length=100)
    last_name: Name = Field(min_length=1, max_length=100)
    email: Line | None = Field(default=None, max_length=320)
    phone: Line | None = Field(default=None, max_length=40)
    status: Status = Status.active
    tags: list[Line] = Field(default_factory=list, max_length=50)
    custom_fields: CustomValues | None = None


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
    custom_fields: CustomValues | None = Field(
        default=None, description="Only the keys given change; a null value removes one."
    )


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


class HouseholdIds(BaseModel):
    payer_id: uuid.UUID | None = Field(
        default=None, description="Who books and pays for this customer (C14)."
    )
    member_ids: list[uuid.UUID] = Field(
        default_factory=list, description="Whom this customer books and pays for."
    )


class AssetOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    kind: AssetKind
    label: str
    make: str | None
    model: str | None
    year: int | None
    plate: str | None
    vin: str | None
    version: int

    @classmethod
    def of(cls, asset: Asset) -> AssetOut:
        return cls(
            id=asset.id,
            customer_id=asset.customer_id,
            kind=AssetKind(asset.kind),
            label=asset.label,
            make=asset.make,
            model=asset.model,
            year=asset.year,
            plate=asset.plate,
            vin=asset.vin,
            version=asset.version,
        )


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
    merged_into: uuid.UUID | None = Field(
        default=None,
        description="Set on a merged record: the surviving record that is the customer now.",
    )
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    household: HouseholdIds = Field(default_factory=lambda: HouseholdIds())
    assets: list[AssetOut] = Field(default_factory=list)

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
            merged_into=customer.merged_into,
            custom_fields=customer.custom_fields,
            household=HouseholdIds(
                payer_id=detail.household_payer_id, member_ids=detail.household_member_ids
            ),
            assets=[AssetOut.of(a) for a in detail.assets],
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
    kind: Literal["note", "booking", "message", "invoice", "account"]
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


# -- C13 duplicates and merges ------------------------------------------------------------


class DuplicateOut(BaseModel):
    customer_id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    score: float = Field(description="0..1: how likely the same person")
    reasons: dict[Literal["email", "phone", "name"], float] = Field(
        description="Why: the same email (1.0), the same phone (1.0), a similar name "
        "(its similarity)."
    )


class MergeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    merged_id: uuid.UUID = Field(description="The record merged into this one (it stays, marked)")


class MergeOut(BaseModel):
    id: uuid.UUID
    survivor_id: uuid.UUID
    merged_id: uuid.UUID
    merged_by: str
    merged_at: datetime | None
    undo_until: datetime
    undone_at: datetime | None
    undone_by: str | None
    moved: dict[str, Any] = Field(description="What moved to the survivor, by id")

    @classmethod
    def of(cls, merge: Merge) -> MergeOut:
        return cls(
            id=merge.id,
            survivor_id=merge.survivor_id,
            merged_id=merge.merged_id,
            merged_by=merge.merged_by,
            merged_at=merge.merged_at,
            undo_until=merge.undo_until,
            undone_at=merge.undone_at,
            undone_by=merge.undone_by,
            moved=merge.moved,
        )


# -- C14 households -----------------------------------------------------------------------


class HouseholdLink(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member_id: uuid.UUID
    relation: Line | None = Field(default=None, max_length=50, description='e.g. "child"')


class HouseholdPerson(BaseModel):
    role: Literal["payer", "member"]
    customer_id: uuid.UUID
    first_name: str
    last_name: str
    relation: str | None
    linked_at: datetime


class Household(BaseModel):
    payer: HouseholdPerson | None = None
    members: list[HouseholdPerson] = Field(default_factory=list)

    @classmethod
    def of(cls, rows: Any) -> Household:
        people = [
            HouseholdPerson(
                role=r["role"],
                customer_id=r["id"],
                first_name=r["first_name"],
                last_name=r["last_name"],
                relation=r["relation"],
                linked_at=r["created_at"],
            )
            for r in rows
        ]
        return cls(
            payer=next((p for p in people if p.role == "payer"), None),
            members=[p for p in people if p.role == "member"],
        )


# -- C15 assets ---------------------------------------------------------------------------


class AssetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: AssetKind = AssetKind.vehicle
    make: Line | None = Field(default=None, max_length=100)
    model: Line | None = Field(default=None, max_length=100)
    year: Count | None = None
    plate: Line | None = Field(default=None, max_length=20)
    vin: Line | None = Field(default=None, max_length=40)


class AssetPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    make: Line | None = Field(default=None, max_length=100)
    model: Line | None = Field(default=None, max_length=100)
    year: Count | None = None
    plate: Line | None = Field(default=None, max_length=20)
    vin: Line | None = Field(default=None, max_length=40)


# -- C16 custom fields --------------------------------------------------------------------

FieldKey = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]


class CustomFieldCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: FieldKey
    label: Line = Field(min_length=1, max_length=100)
    type: FieldType
    required: StrictBool = False
    choices: list[Line] = Field(default_factory=list, max_length=100)
    position: Count = 0


class CustomFieldPatch(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: Line | None = Field(default=None, min_length=1, max_length=100)
    required: StrictBool | None = None
    choices: list[Line] | None = Field(default=None, max_length=100)
    position: Count | None = None


class CustomFieldOut(BaseModel):
    id: uuid.UUID
    key: str
    label: str
    type: FieldType
    required: bool
    choices: list[str]
    position: int
    version: int

    @classmethod
    def of(cls, d: Definition) -> CustomFieldOut:
        return cls(
            id=d.id,
            key=d.key,
            label=d.label,
            type=FieldType(d.type),
            required=d.required,
            choices=d.choices,
            position=d.position,
            version=d.version,
        )
