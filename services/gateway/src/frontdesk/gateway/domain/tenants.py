"""The tenant: a business (a studio chain is one tenant). The gateway owns it; every change
is announced with all current values (``identity.tenant.changed``) so the other services
keep a copy (phone region, local times, language, invoice currency and seller)."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Self

from frontdesk.contracts.identity import Seller, TenantChanged
from frontdesk.kit.aggregate import Aggregate

FIELDS = ("name", "slug", "default_country", "language", "currency", "time_zone", "seller")


@dataclasses.dataclass(kw_only=True, eq=False)
class Tenant(Aggregate):
    slug: str
    name: str
    default_country: str
    language: str
    currency: str
    time_zone: str
    seller: dict[str, Any] = dataclasses.field(default_factory=dict)
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def new(cls, values: Mapping[str, Any]) -> Self:
        tenant_id = uuid.uuid4()
        tenant = cls(id=tenant_id, tenant_id=tenant_id, **values)
        tenant.record(tenant.announcement(changed=list(FIELDS), created=True))
        return tenant

    def edit(self, changes: Mapping[str, Any]) -> None:
        changed = [name for name, value in changes.items() if getattr(self, name) != value]
        if not changed:
            return
        self.change(**{name: changes[name] for name in changed})
        self.record(self.announcement(changed=changed))

    def announcement(self, *, changed: list[str], created: bool = False) -> TenantChanged:
        return TenantChanged(
            tenant_id=self.id,
            name=self.name,
            slug=self.slug,
            default_country=self.default_country,
            language=self.language,
            currency=self.currency,
            time_zone=self.time_zone,
            seller=Seller.model_validate(self.seller),
            changed=changed,
            created=created,
        )
