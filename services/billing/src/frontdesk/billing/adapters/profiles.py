"""The tenant's billing profile (one row per tenant; the defaults, version 1, until
staff change it)."""

from __future__ import annotations

import uuid
from typing import Any

from frontdesk.billing.adapters.tables import billing_profiles as t
from frontdesk.billing.domain.profiles import BillingProfile
from frontdesk.kit.db import AggregateRepository
from frontdesk.kit.upsert import insert


class ProfileRepository(AggregateRepository[BillingProfile]):
    table = t
    aggregate = BillingProfile
    what = "billing profile"

    def _where(self, row_id: uuid.UUID) -> Any:
        return t.c.tenant_id == self.tenant_id

    def _defaults(self) -> BillingProfile:
        return BillingProfile(id=self.tenant_id, tenant_id=self.tenant_id)

    async def current(self) -> BillingProfile:
        """The tenant's profile, or the defaults until staff set one."""
        found = await self.get(self.tenant_id)
        return found or self._defaults()

    async def lock(self) -> BillingProfile:
        """The profile, written with the defaults first if it was never set, locked."""
        values = {k: v for k, v in self._defaults().to_row().items() if v is not None}
        await self.session.execute(insert(t).values(**values).on_conflict_do_nothing())
        return await self.require(self.tenant_id, for_update=True)
