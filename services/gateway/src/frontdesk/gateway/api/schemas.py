"""What the gateway's own routes take and give (never rows); strict, bounded input on the
kit's shared types, unknown fields refused."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any, Literal

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, EmailStr, Field

from frontdesk.gateway.application.logins import TokenPair
from frontdesk.gateway.domain.accounts import CustomerAccount, User
from frontdesk.gateway.domain.tenants import Tenant
from frontdesk.gateway.domain.webhooks import Delivery, WebhookEndpoint
from frontdesk.kit.auth import Permission
from frontdesk.kit.money import CurrencyCode
from frontdesk.kit.types import Line, Name, StrictBool, TimeZoneName


def _country(code: str) -> str:
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"{code} is not an ISO 3166-1 alpha-2 country code")
    return code


def _language(code: str) -> str:
    if pycountry.languages.get(alpha_2=code) is None:
        raise ValueError(f"{code} is not an ISO 639-1 language code")
    return code


Country = Annotated[str, Field(pattern=r"^[A-Z]{2}$", examples=["DE"]), AfterValidator(_country)]
Language = Annotated[str, Field(pattern=r"^[a-z]{2}$", examples=["de"]), AfterValidator(_language)]
Slug = Annotated[
    str,
    Field(
        pattern=r"^[a-z0-9](?:[a-z0-9-]{1,38}[a-z0-9])$",
        description="3 to 40 lower-case letters, digits and inner hyphens; logins name it",
        examples=["studio-mitte"],
    ),
]
Password = Annotated[str, Field(min_length=1, max_length=200)]
Secret = Annotated[str, Field(min_length=1, max_length=200)]
TenantRef = Annotated[
    Line, Field(min_length=1, max_length=64, description="the tenant's slug (or its id)")
]
Email = Annotated[EmailStr, Field(max_length=320)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- tokens ------------------------------------------------------------------------------


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    session_id: uuid.UUID
    tenant_id: uuid.UUID
    role: str

    @classmethod
    def of(cls, pair: TokenPair) -> TokenOut:
        return cls(
            access_token=pair.access_token,
            expires_in=pair.expires_in,
            refresh_token=pair.refresh_token,
            refresh_expires_in=pair.refresh_expires_in,
            session_id=pair.session_id,
            tenant_id=pair.tenant_id,
            role=pair.role.value,
        )


class LoginIn(Strict):
    tenant: TenantRef
    email: Email
    password: Password


class RefreshIn(Strict):
    refresh_token: Secret


class AccountRef(Strict):
    tenant: TenantRef
    email: Email


class PasswordResetIn(Strict):
    token: Secret
    password: Password


class InvitationAcceptIn(Strict):
    token: Secret
    password: Password
    name: Annotated[Name, Field(max_length=200)] | None = None


class RedeemIn(Strict):
    token: Secret


class CustomerPasswordIn(Strict):
    password: Password = Field(description="the new password: at least 10 characters")
    current_password: Password | None = Field(
        default=None,
        description="needed once a password is set, except in a session started by an "
        "emailed sign-in link a short while ago (FRONTDESK_PASSWORD_RESET_TTL_SECONDS, an "
        "hour by default): that is how a forgotten password is reset",
    )


class CustomerPasswordOut(BaseModel):
    password_set: bool
    changed_at: datetime | None
    # Other sessions of the account ended by this change (this one goes on).
    other_sessions_ended: int = 0

    @classmethod
    def of(cls, account: CustomerAccount, ended: int = 0) -> CustomerPasswordOut:
        return cls(
            password_set=account.has_password,
            changed_at=account.password_changed_at,
            other_sessions_ended=ended,
        )


class LoggedOut(BaseModel):
    sessions_ended: int


# --- tenants -----------------------------------------------------------------------------


class SellerIn(Strict):
    legal_name: Annotated[Line, Field(max_length=200)] | None = None
    address_lines: Annotated[list[Annotated[Line, Field(max_length=200)]], Field(max_length=4)] = []
    postal_code: Annotated[Line, Field(max_length=20)] | None = None
    city: Annotated[Line, Field(max_length=100)] | None = None
    country: Country | None = None
    tax_id: Annotated[Line, Field(max_length=50)] | None = None
    email: Email | None = None
    phone: Annotated[Line, Field(max_length=40)] | None = None


class OwnerIn(Strict):
    email: Email
    name: Annotated[Name, Field(max_length=200)]
    password: Password


class TenantCreate(Strict):
    name: Annotated[Name, Field(max_length=200)]
    slug: Slug
    default_country: Country
    language: Language = "en"
    currency: CurrencyCode
    time_zone: TimeZoneName
    seller: SellerIn = SellerIn()
    owner: OwnerIn


class TenantPatch(Strict):
    name: Annotated[Name, Field(max_length=200)] | None = None
    slug: Slug | None = None
    default_country: Country | None = None
    language: Language | None = None
    currency: CurrencyCode | None = None
    time_zone: TimeZoneName | None = None
    seller: SellerIn | None = None


class TenantOut(BaseModel):
    id: uuid.UUID
    slug: str
    name: str
    default_country: str
    language: str
    currency: str
    time_zone: str
    seller: dict[str, Any]
    version: int
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, tenant: Tenant) -> TenantOut:
        return cls(**{name: getattr(tenant, name) for name in cls.model_fields})


class SignedUp(BaseModel):
    tenant: TenantOut
    tokens: TokenOut


# --- users -------------------------------------------------------------------------------


class UserInvite(Strict):
    email: Email
    name: Annotated[Name, Field(max_length=200)]
    role: Literal["admin", "staff"] = "staff"
    permissions: Annotated[list[Permission], Field(max_length=10)] = []


class UserPatch(Strict):
    name: Annotated[Name, Field(max_length=200)] | None = None
    role: Literal["admin", "staff"] | None = None
    permissions: Annotated[list[Permission], Field(max_length=10)] | None = None


class UserOut(BaseModel):
    id: uuid.UUID
    email: str
    name: str
    role: str
    permissions: list[str]
    status: str
    last_login_at: datetime | None
    version: int
    created_at: datetime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(**{name: getattr(user, name) for name in cls.model_fields})


class UserPage(BaseModel):
    items: list[UserOut]
    next_cursor: str | None


class CustomerAccountCreate(Strict):
    customer_id: uuid.UUID


class CustomerAccountOut(BaseModel):
    id: uuid.UUID
    customer_id: uuid.UUID
    email: str
    last_login_at: datetime | None
    created_at: datetime | None

    @classmethod
    def of(cls, account: CustomerAccount) -> CustomerAccountOut:
        return cls(**{name: getattr(account, name) for name in cls.model_fields})


# --- webhooks ----------------------------------------------------------------------------

EventTypeName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[a-z0-9_.]+$")]


class EndpointCreate(Strict):
    url: Annotated[Line, Field(min_length=8, max_length=2000)]
    event_types: Annotated[list[EventTypeName], Field(min_length=1, max_length=100)]
    description: Annotated[Line, Field(max_length=500)] | None = None


class EndpointPatch(Strict):
    url: Annotated[Line, Field(min_length=8, max_length=2000)] | None = None
    event_types: Annotated[list[EventTypeName], Field(min_length=1, max_length=100)] | None = None
    description: Annotated[Line, Field(max_length=500)] | None = None
    active: StrictBool | None = None


class EndpointOut(BaseModel):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    version: int
    created_at: datetime | None
    updated_at: datetime | None

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointOut:
        return cls(**{name: getattr(endpoint, name) for name in cls.model_fields})


class EndpointCreated(EndpointOut):
    secret: str = Field(
        description="Verifies the signatures (Standard Webhooks); shown here and at /secret"
    )

    @classmethod
    def of(cls, endpoint: WebhookEndpoint) -> EndpointCreated:
        return cls(**{name: getattr(endpoint, name) for name in cls.model_fields})


class EndpointSecret(BaseModel):
    secret: str


class EndpointPage(BaseModel):
    items: list[EndpointOut]
    next_cursor: str | None


class DeliveryOut(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime | None

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryOut:
        return cls(**{name: getattr(delivery, name) for name in cls.model_fields})


class AttemptOut(BaseModel):
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int


class DeliveryDetail(DeliveryOut):
    payload: dict[str, Any]
    attempt_log: list[AttemptOut]


class DeliveryPage(BaseModel):
    items: list[DeliveryOut]
    next_cursor: str | None


class EventTypeOut(BaseModel):
    type: str
    version: int
    summary: str
    payload_schema: dict[str, Any]
