"""The tenant as the gateway owns it (``identity.tenant.changed``), kept as a copy. It
stands in where the tenant's own sender settings say nothing: the venue's name in
messages is the tenant's name, their language the tenant's, and a booking whose
location zone is not told (older producers send the bare ``UTC`` default) is in the
tenant's zone. Without a copy the deployment's settings hold (``default_language``,
UTC). A copy is replaced only by a newer one (the tenant's ``aggregate_version``)."""

from __future__ import annotations

import dataclasses
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from frontdesk.notifications.domain.senders import SenderSettings, Venue

UNTOLD_ZONES = frozenset({"", "UTC"})


def known_zone(name: str | None) -> bool:
    try:
        ZoneInfo(name or "")
    except (ZoneInfoNotFoundError, ValueError):
        return False
    return True


@dataclasses.dataclass(frozen=True)
class TenantCopy:
    name: str
    version: int
    language: str | None = None
    time_zone: str | None = None
    default_country: str | None = None
    currency: str | None = None


def venue(settings: SenderSettings, tenant: TenantCopy | None) -> Venue:
    """The venue as templates name it: the sender settings', else the tenant's name."""
    own = settings.venue
    if own.name or tenant is None:
        return own
    return dataclasses.replace(own, name=tenant.name)


def language(settings: SenderSettings, tenant: TenantCopy | None, default: str) -> str:
    """Messages' language: the sender settings', else the tenant's, else the deployment's."""
    return settings.language or (tenant.language if tenant else None) or default


def booking_zone(told: str | None, tenant: TenantCopy | None) -> str:
    """A booking's zone: the location's as scheduling told it, else the tenant's."""
    if told and told not in UNTOLD_ZONES and known_zone(told):
        return told
    if tenant is not None and tenant.time_zone and known_zone(tenant.time_zone):
        return tenant.time_zone
    return told or "UTC"
