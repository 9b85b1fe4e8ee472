"""Request and response bodies (never ORM rows on the wire).

Every request field uses the kit's input types: text without control, NUL, bidi or
zero-width characters; strict integers and booleans (``true``, ``"1"`` and ``1.0`` are
not counts); date-times with an offset, between 1900 and 2200.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field

from frontdesk.credits.domain.packages import MAX_CREDITS, MAX_DAYS
from frontdesk.credits.domain.programs import MAX_SESSIONS
from frontdesk.kit.money import CurrencyCode
from frontdesk.kit.types import (
    AwareDatetime,
    Count,
    MinorUnits,
    Multiline,
    Name,
    PositiveCount,
    StrictBool,
)

Title = Annotated[Name, Field(min_length=1, max_length=200)]
Label = Annotated[Name, Field(min_length=1, max_length=100)]
Reason = Annotated[Multiline, Field(max_length=500)]
Description = Annotated[Multiline, Field(max_length=2000)]
Credits = Annotated[PositiveCount, Field(le=MAX_CREDITS)]
PriceMinor = Annotated[MinorUnits, Field(le=10**12, description="integer minor units")]
Days = Annotated[PositiveCount, Field(le=MAX_DAYS)]
Percent = Annotated[Count, Field(le=100)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Out(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    @classmethod
    def of(cls, found: Any) -> Self:
        """From a domain object, or a history row."""
        if isinstance(found, Mapping):
            return cls.model_validate({k: found[k] for k in cls.model_fields if k in found})
        return cls.model_validate(found, from_attributes=True)


class PageOut(BaseModel):
    next_cursor: str | None = None


# --- products ------------------------------------------------------------------------


class ProductCreate(_In):
    name: Title
    description: Description | None = None
    credits: Credits
    price_minor: PriceMinor
    currency: CurrencyCode = "EUR"
    validity_days: Days | None = None
    active: StrictBool = True


class ProductPatch(_In):
    name: Title | None = None
    description: Description | None = None
    credits: Credits | None = None
    price_minor: PriceMinor | None = None
    currency: CurrencyCode | None = None
    validity_days: Days | None = None
    active: StrictBool | None = None


class ProductOut(_Out):
    id: uuid.UUID
    name: str
    description: str | None
    credits: int
    price_minor: int
    currency: str
    validity_days: int | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ProductPage(PageOut):
    items: list[ProductOut]


# --- packages ------------------------------------------------------------------------


class PackagePurchase(_In):
    """From a product (``product_id``), or a custom grant (``credits`` and friends; staff)."""

    customer_id: uuid.UUID | None = Field(
        default=None, description="required for staff; a customer token buys for itself"
    )
    product_id: uuid.UUID | None = None
    name: Title | None = None
    credits: Credits | None = None
    validity_days: Days | None = None
    expires_at: AwareDatetime | None = None
    price_minor: PriceMinor = 0
    currency: CurrencyCode = "EUR"
    reason: Reason | None = None


class PackagePatch(_In):
    name: Title
    reason: Reason | None = None


class CreditsChange(_In):
    credits: Credits
    reason: Reason | None = None


class TopUpIn(_In):
    """``credits`` alone is a free adjustment; with ``price_minor`` the credits are sold
    (``currency`` defaults to the package's). ``product_id`` instead sells the active
    product's credits at its price. Sold top-ups reach billing (``PackageToppedUp``)."""

    credits: Credits | None = None
    product_id: uuid.UUID | None = None
    price_minor: PriceMinor | None = None
    currency: CurrencyCode | None = None
    reason: Reason | None = None


class ReasonIn(_In):
    reason: Reason | None = None


class ExtendIn(_In):
    expires_at: AwareDatetime | None = None
    days: Days | None = None
    reason: Reason | None = None


class PackageOut(_Out):
    id: uuid.UUID
    customer_id: uuid.UUID
    product_id: uuid.UUID | None
    name: str
    credits_total: int
    balance: int
    expired_credits: int
    price_minor: int
    currency: str
    status: str
    expires_at: datetime | None
    paused_at: datetime | None
    purchased_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class PackagePage(PageOut):
    items: list[PackageOut]


class BalanceOut(_Out):
    customer_id: uuid.UUID
    available: int
    paused: int
    purchased_total: int
    version: int


class HistoryEntryOut(_Out):
    seq: int
    id: uuid.UUID
    customer_id: uuid.UUID
    package_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    kind: str
    delta: int
    balance_after: int
    available_after: int
    reason: str | None
    actor: str
    created_at: datetime
    price_minor: int | None = Field(
        default=None, description="what a sale (purchase, grant, paid top-up) cost"
    )
    currency: str | None = None


class HistoryPage(PageOut):
    items: list[HistoryEntryOut]


# --- membership plans and memberships -------------------------------------------------


class PlanCreate(_In):
    name: Title
    discount_percent: Percent
    included_services: list[Label] = Field(default_factory=list, max_length=100)
    priority_label: Label | None = None
    duration_days: Days
    active: StrictBool = True


class PlanPatch(_In):
    name: Title | None = None
    discount_percent: Percent | None = None
    included_services: list[Label] | None = Field(default=None, max_length=100)
    priority_label: Label | None = None
    duration_days: Days | None = None
    active: StrictBool | None = None


class PlanOut(_Out):
    id: uuid.UUID
    name: str
    discount_percent: int
    included_services: list[str]
    priority_label: str | None
    duration_days: int
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class PlanPage(PageOut):
    items: list[PlanOut]


class MembershipAssign(_In):
    customer_id: uuid.UUID
    plan_id: uuid.UUID
    starts_at: AwareDatetime | None = None
    reason: Reason | None = None


class PlanChangeIn(_In):
    plan_id: uuid.UUID
    reason: Reason | None = None


class MembershipOut(_Out):
    id: uuid.UUID
    customer_id: uuid.UUID
    plan_id: uuid.UUID
    plan_name: str
    discount_percent: int
    included_services: list[str]
    priority_label: str | None
    duration_days: int
    starts_at: datetime
    expires_at: datetime
    status: str
    frozen_at: datetime | None
    assigned_by: str
    version: int
    created_at: datetime
    updated_at: datetime


class MembershipPage(PageOut):
    items: list[MembershipOut]


class MembershipHistoryOut(_Out):
    seq: int
    membership_id: uuid.UUID
    customer_id: uuid.UUID
    action: str
    plan_id: uuid.UUID
    plan_name: str
    previous_plan_id: uuid.UUID | None
    starts_at: datetime
    expires_at: datetime
    status: str
    actor: str
    reason: str | None
    created_at: datetime


class MembershipHistoryPage(PageOut):
    items: list[MembershipHistoryOut]


# --- programs (K7) --------------------------------------------------------------------

SessionKind = Literal["class", "event", "appointment"]
Sessions = Annotated[PositiveCount, Field(le=MAX_SESSIONS)]


class ProgramProductCreate(_In):
    """N sessions of a kind: a ``service`` label (as sessions and appointments name it)
    and/or a ``session_kind``; optionally with one coach (``staff_id``)."""

    name: Title
    description: Description | None = None
    sessions: Sessions
    service: Label | None = None
    session_kind: SessionKind | None = None
    staff_id: uuid.UUID | None = None
    price_minor: PriceMinor
    currency: CurrencyCode = "EUR"
    validity_days: Days | None = None
    active: StrictBool = True


class ProgramProductPatch(_In):
    name: Title | None = None
    description: Description | None = None
    sessions: Sessions | None = None
    service: Label | None = None
    session_kind: SessionKind | None = None
    staff_id: uuid.UUID | None = None
    price_minor: PriceMinor | None = None
    currency: CurrencyCode | None = None
    validity_days: Days | None = None
    active: StrictBool | None = None


class ProgramProductOut(_Out):
    id: uuid.UUID
    name: str
    description: str | None
    sessions: int
    service: str | None
    session_kind: str | None
    staff_id: uuid.UUID | None
    price_minor: int
    currency: str
    validity_days: int | None
    active: bool
    version: int
    created_at: datetime
    updated_at: datetime


class ProgramProductPage(PageOut):
    items: list[ProgramProductOut]


class ProgramPurchase(_In):
    customer_id: uuid.UUID | None = Field(
        default=None, description="required for staff; a customer token buys for itself"
    )
    product_id: uuid.UUID


class ProgramOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    product_id: uuid.UUID | None
    name: str
    service: str | None
    session_kind: str | None
    staff_id: uuid.UUID | None
    sessions_total: int
    sessions_used: int
    sessions_left: int
    state: str = Field(description="active, completed, expired or voided")
    next_session_at: datetime | None = Field(
        description="the earliest confirmed booking paid by the program still to come"
    )
    expires_at: datetime | None
    price_minor: int
    currency: str
    purchased_by: str
    version: int
    created_at: datetime

    @classmethod
    def of(cls, progress: Any) -> ProgramOut:
        program = progress.program
        return cls(
            **{
                name: getattr(program, name)
                for name in cls.model_fields
                if name not in ("sessions_left", "state", "next_session_at")
            },
            sessions_left=progress.sessions_left,
            state=progress.state,
            next_session_at=progress.next_session_at,
        )


class ProgramPage(PageOut):
    items: list[ProgramOut]


# --- loyalty (K6) ---------------------------------------------------------------------

Rate = Annotated[PositiveCount, Field(le=1_000_000)]


class LoyaltyRuleIn(_In):
    """``points_per_unit`` points for every ``unit_minor`` minor units paid in ``currency``
    (``unit_minor`` 100: per euro); ``points_per_credit`` points buy one credit, each point
    is worth ``discount_minor_per_point`` minor units of discount (null: not offered)."""

    currency: CurrencyCode
    points_per_unit: Rate
    unit_minor: Rate = 100
    points_per_credit: Rate | None = None
    discount_minor_per_point: Rate | None = None


class LoyaltyRuleOut(_Out):
    currency: str
    points_per_unit: int
    unit_minor: int
    points_per_credit: int | None
    discount_minor_per_point: int | None
    version: int
    updated_by: str
    updated_at: datetime | None


class RedemptionIn(_In):
    """``redeem_for: "credits"`` with ``credits`` (they cost ``points_per_credit`` each), or
    ``redeem_for: "discount"`` with ``points`` (a voucher worth
    ``discount_minor_per_point`` each)."""

    customer_id: uuid.UUID | None = Field(
        default=None, description="required for staff; a customer token redeems its own"
    )
    redeem_for: Literal["credits", "discount"]
    credits: Credits | None = None
    points: Annotated[PositiveCount, Field(le=10_000_000)] | None = None


class LoyaltyEntryOut(_Out):
    seq: int
    id: uuid.UUID
    customer_id: uuid.UUID
    kind: str
    delta: int
    shortfall: int
    balance_after: int
    source_id: uuid.UUID
    invoice_id: uuid.UUID | None
    amount_minor: int | None
    currency: str | None
    redeemed_for: str | None
    credits: int | None
    package_id: uuid.UUID | None
    voucher_id: uuid.UUID | None
    actor: str
    created_at: datetime


class RedemptionOut(BaseModel):
    id: uuid.UUID = Field(description="the redemption (its history entry's source_id)")
    customer_id: uuid.UUID
    redeemed_for: str
    points: int
    balance: int = Field(description="points left after it")
    credits: int | None = None
    package_id: uuid.UUID | None = None
    voucher_id: uuid.UUID | None = None
    amount_minor: int | None = None
    currency: str | None = None


class VoucherOut(_Out):
    id: uuid.UUID
    points: int
    amount_minor: int
    currency: str
    issued_by: str
    created_at: datetime


class LoyaltyAccountOut(BaseModel):
    customer_id: uuid.UUID
    balance: int
    version: int
    earned: int
    reversed: int
    shortfall: int = Field(description="points refunds could not take back (already spent)")
    redeemed: int
    vouchers: list[VoucherOut]


class LoyaltyHistoryPage(PageOut):
    items: list[LoyaltyEntryOut]
