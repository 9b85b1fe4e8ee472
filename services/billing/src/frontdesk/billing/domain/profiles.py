"""The tenant's billing profile: the seller's details copied onto every document at
issue, the currency, language and time zone documents are made in, the default tax rate
and whether prices include it, payment terms and the number prefixes.

What staff set here wins; a field they never set comes from the tenant as the gateway
told it (``TenantCopy``: name, seller, currency, language, zone), else the deployment's
defaults below."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from frontdesk.billing.domain.tenants import TenantCopy
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import RuleBroken

MAX_TERMS_DAYS = 365


@dataclasses.dataclass(kw_only=True, eq=False)
class BillingProfile(Aggregate):
    """One per tenant (``id`` is the tenant's id); defaults until staff set it."""

    seller_name: str | None = None
    seller_address: str | None = None
    seller_tax_id: str | None = None
    seller_email: str | None = None
    seller_phone: str | None = None
    currency: str = "EUR"
    locale: str = "en"
    timezone: str = "UTC"
    default_tax_rate_bp: int = 0
    prices_include_tax: bool = True
    payment_terms_days: int = 14
    invoice_prefix: str = ""
    credit_note_prefix: str = "CN-"
    staff_set: list[str] = dataclasses.field(default_factory=list)
    updated_at: datetime | None = None

    def edit(self, changes: Mapping[str, Any]) -> None:
        invoice_prefix = changes.get("invoice_prefix", self.invoice_prefix)
        if invoice_prefix == changes.get("credit_note_prefix", self.credit_note_prefix):
            # Counters are kept per document anyway; equal prefixes would only confuse readers.
            raise RuleBroken("credit_note_prefix", "must differ from the invoice prefix")
        days = changes.get("payment_terms_days", self.payment_terms_days)
        if not 0 <= days <= MAX_TERMS_DAYS:
            raise RuleBroken("payment_terms_days", f"must be 0 to {MAX_TERMS_DAYS}")
        self.change(**changes, staff_set=sorted({*self.staff_set, *changes}))

    def with_tenant(self, tenant: TenantCopy | None) -> BillingProfile:
        """The profile documents use: what staff set here, else the tenant's copy."""
        if tenant is None:
            return self
        values = {
            name: value
            for name, value in tenant.profile_values().items()
            if name not in self.staff_set and value is not None
        }
        if not values:
            return self
        return dataclasses.replace(self, **values)

    def today(self, now: datetime) -> date:
        """The date it is at the business (its time zone), for issue and due dates."""
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def due_on(self, issued_on: date) -> date:
        return issued_on + timedelta(days=self.payment_terms_days)

    def seller(self) -> dict[str, Any]:
        """The seller's details as a document keeps them."""
        return {
            "name": self.seller_name,
            "address": self.seller_address,
            "tax_id": self.seller_tax_id,
            "email": self.seller_email,
            "phone": self.seller_phone,
        }
