"""The tenant as the gateway owns it (``identity.tenant.changed``), kept as a copy: its
name, currency, language, time zone and seller details stand in for the billing
profile's fields that staff never set. A copy is replaced only by a newer one (the
tenant's ``aggregate_version``), so events arriving out of order leave the newest."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


@dataclasses.dataclass(frozen=True)
class TenantCopy:
    name: str
    version: int
    default_country: str | None = None
    language: str | None = None
    currency: str | None = None
    time_zone: str | None = None
    seller: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def address(self) -> str | None:
        """The seller's postal address as an invoice prints it, one line each."""
        s = self.seller
        town = " ".join(str(v) for v in (s.get("postal_code"), s.get("city")) if v)
        lines = [*(s.get("address_lines") or []), town, s.get("country") or ""]
        text = "\n".join(str(line).strip() for line in lines if line and str(line).strip())
        return text or None

    def zone(self) -> str | None:
        """The time zone, if it is one this machine knows (else the profile's stays)."""
        if not self.time_zone:
            return None
        try:
            ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            return None
        return self.time_zone

    def profile_values(self) -> dict[str, Any]:
        """The billing profile's fields this copy fills (None: it has nothing to say)."""
        s = self.seller
        return {
            "seller_name": s.get("legal_name") or self.name,
            "seller_address": self.address(),
            "seller_tax_id": s.get("tax_id"),
            "seller_email": s.get("email"),
            "seller_phone": s.get("phone"),
            "currency": (self.currency or "").upper() or None,
            "locale": self.language,
            "timezone": self.zone(),
        }
