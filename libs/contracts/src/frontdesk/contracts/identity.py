"""Events published by the gateway's identity part (``services/gateway``): tenants,
accounts and logins, and the account emails it asks notifications to send."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict

from frontdesk.contracts.base import Event


class Seller(BaseModel):
    """Who sells, as an invoice names it."""

    model_config = ConfigDict(frozen=True)

    legal_name: str | None = None
    address_lines: list[str] = []
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None  # ISO 3166-1 alpha-2
    tax_id: str | None = None
    email: str | None = None
    phone: str | None = None


class TenantChanged(Event):
    """The tenant was created or an owner changed it; carries every current value, so a
    consumer keeps a copy by replacing what it had (older ``aggregate_version`` loses)."""

    TYPE = "identity.tenant.changed"

    tenant_id: uuid.UUID
    name: str
    slug: str
    default_country: str  # ISO 3166-1 alpha-2: the region for phone numbers
    language: str  # ISO 639-1
    currency: str  # ISO 4217
    time_zone: str  # IANA
    seller: Seller = Seller()
    changed: list[str] = []
    created: bool = False


class CustomerAccountCreated(Event):
    """A customer of the tenant has a self-service account now."""

    TYPE = "identity.customer_account.created"

    account_id: uuid.UUID
    customer_id: uuid.UUID


class LoginSucceeded(Event):
    """Someone signed in (a customer's login counts as activity)."""

    TYPE = "identity.login.succeeded"

    account_id: uuid.UUID
    kind: Literal["staff", "customer"]
    customer_id: uuid.UUID | None = None
    role: str
    method: Literal["password", "link", "invitation", "password_reset"]
    session_id: uuid.UUID


AccountEmailKind = Literal["staff_invitation", "welcome", "login_link", "password_reset"]


class AccountEmailRequested(Event):
    """Notifications is asked to send an account email. ``request_id`` is the idempotency
    key of the send; ``link`` carries a one-time secret and is valid until ``expires_at``
    (a message log should not keep it longer)."""

    TYPE = "identity.account_email.requested"

    request_id: uuid.UUID
    kind: AccountEmailKind
    email: str
    name: str | None = None
    account_id: uuid.UUID
    customer_id: uuid.UUID | None = None
    link: str | None = None
    expires_at: AwareDatetime | None = None
    language: str = "en"
    tenant_name: str
