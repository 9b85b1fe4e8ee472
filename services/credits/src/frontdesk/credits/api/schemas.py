"""Request and response bodies (never ORM rows on the wire)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from frontdesk.credits.api.common import PageOut
from frontdesk.credits.domain.packages import MAX_CREDITS
from frontdesk.kit.money import CurrencyCode


def _clean(value: str) -> str:
    cleaned = " ".join(value.split())
    if not cleaned:
        raise ValueError("must not be blank")
    return cleaned


Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_clean)]
Label = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_clean)]
Reason = Annotated[str, Field(max_length=500)]
Credits = Annotated[int, Field(gt=0, le=MAX_CREDITS)]
PriceMinor = Annotated[int, Field(ge=0, le=10**12, description="integer minor units")]
Days = Annotated[int, Field(gt=0, le=3650)]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _of(cls: type[BaseModel], row: Any) -> Any:
    return cls(**{k: row[k] for k in cls.model_fields})


# --- products ------------------------------------------------------------------------


class ProductCreate(_In):
    name: Name
    description: str | None = Field(default=None, max_length=2000)
    credits: Credits
    price_minor: PriceMinor
    currency: CurrencyCode = "EUR"
    validity_days: Days | None = None
    active: bool = True


class ProductPatch(_In):
    name: Name | None = None
    description: str | None = Field(default=None, max_length=2000)
    credits: Credits | None = None
    price_minor: PriceMinor | None = None
    currency: CurrencyCode | None = None
    validity_days: Days | None = None
    active: bool | None = None


class ProductOut(BaseModel):
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

    @classmethod
    def of(cls, row: Any) -> ProductOut:
        return _of(cls, row)  # type: ignore[no-any-return]


class ProductPage(PageOut):
    items: list[ProductOut]


# --- packages ------------------------------------------------------------------------


class PackagePurchase(_In):
    """From a product (``product_id``), or a custom grant (``credits`` and friends; staff)."""

    customer_id: uuid.UUID | None = Field(
        default=None, description="required for staff; a customer token buys for itself"
    )
    product_id: uuid.UUID | None = None
    name: Name | None = None
    credits: Credits | None = None
    validity_days: Days | None = None
    expires_at: AwareDatetime | None = None
    price_minor: PriceMinor = 0
    currency: CurrencyCode = "EUR"
    reason: Reason | None = None


class PackagePatch(_In):
    name: Name
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


class PackageOut(BaseModel):
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

    @classmethod
    def of(cls, row: Any) -> PackageOut:
        return _of(cls, row)  # type: ignore[no-any-return]


class PackagePage(PageOut):
    items: list[PackageOut]


class BalanceOut(BaseModel):
    customer_id: uuid.UUID
    available: int
    paused: int
    purchased_total: int
    version: int


class HistoryEntryOut(BaseModel):
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

    @classmethod
    def of(cls, row: Any) -> HistoryEntryOut:
        return _of(cls, row)  # type: ignore[no-any-return]


class HistoryPage(PageOut):
    items: list[HistoryEntryOut]


# --- membership plans and memberships -------------------------------------------------


Service = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_clean)]


class PlanCreate(_In):
    name: Name
    discount_percent: int = Field(ge=0, le=100)
    included_services: list[Service] = Field(default_factory=list, max_length=100)
    priority_label: Label | None = None
    duration_days: Days
    active: bool = True


class PlanPatch(_In):
    name: Name | None = None
    discount_percent: int | None = Field(default=None, ge=0, le=100)
    included_services: list[Service] | None = Field(default=None, max_length=100)
    priority_label: Label | None = None
    duration_days: Days | None = None
    active: bool | None = None


class PlanOut(BaseModel):
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

    @classmethod
    def of(cls, row: Any) -> PlanOut:
        return _of(cls, row)  # type: ignore[no-any-return]


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


class MembershipOut(BaseModel):
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

    @classmethod
    def of(cls, row: Any) -> MembershipOut:
        return _of(cls, row)  # type: ignore[no-any-return]


class MembershipPage(PageOut):
    items: list[MembershipOut]


class MembershipHistoryOut(BaseModel):
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

    @classmethod
    def of(cls, row: Any) -> MembershipHistoryOut:
        return _of(cls, row)  # type: ignore[no-any-return]


class MembershipHistoryPage(PageOut):
    items: list[MembershipHistoryOut]
