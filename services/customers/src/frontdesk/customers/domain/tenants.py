"""The tenant's own settings (issue 12), as the gateway announces them: what stands in for
the deployment-wide defaults here (the region phone numbers are read in, the zone local
times are written in). No framework code here."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

import phonenumbers

from frontdesk.contracts.identity import TenantChanged
from frontdesk.kit.types import canonical_zones


@dataclasses.dataclass(frozen=True, kw_only=True)
class TenantSettings:
    """The copy kept of a tenant (``identity.tenant.changed``), with the version and time
    of the event it came from: a copy is replaced only by a newer one."""

    tenant_id: uuid.UUID
    name: str
    default_country: str
    language: str
    currency: str
    time_zone: str
    version: int
    occurred_at: datetime

    @classmethod
    def of(cls, event: TenantChanged, *, version: int, occurred_at: datetime) -> TenantSettings:
        return cls(
            tenant_id=event.tenant_id,
            name=event.name,
            default_country=event.default_country.strip().upper(),
            language=event.language,
            currency=event.currency,
            time_zone=event.time_zone,
            version=version,
            occurred_at=occurred_at,
        )

    def newer_than(self, other: TenantSettings) -> bool:
        """Later by the gateway's version of the tenant; at the same version (a replay),
        by the time of the event."""
        return (self.version, self.occurred_at) > (other.version, other.occurred_at)


def phone_region(copy: TenantSettings | None, fallback: str) -> str:
    """Where a phone number written without a country code is read: the tenant's country,
    else the deployment's region (also when the country is one phonenumbers does not
    know, so a bad announcement never stops anyone from being registered)."""
    if copy is not None and copy.default_country in phonenumbers.SUPPORTED_REGIONS:
        return copy.default_country
    return fallback


def time_zone(copy: TenantSettings | None, fallback: str) -> str:
    """The zone local times are shown in: the tenant's, else the deployment's."""
    if copy is not None and copy.time_zone in canonical_zones():
        return copy.time_zone
    return fallback
