"""The scheduling database: ``tables`` and one repository per aggregate, every query
filtered by tenant. ``Repositories`` gives one tenant's repositories on a unit of
work's session."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.scheduling.adapters.appointments import AppointmentRepository
from frontdesk.scheduling.adapters.bookings import BookingRepository
from frontdesk.scheduling.adapters.customers import CustomerRepository
from frontdesk.scheduling.adapters.feeds import FeedRepository
from frontdesk.scheduling.adapters.households import AssetRepository, HouseholdRepository
from frontdesk.scheduling.adapters.locations import LocationRepository
from frontdesk.scheduling.adapters.merges import MergeRepository
from frontdesk.scheduling.adapters.occupancy import OccupancyRepository
from frontdesk.scheduling.adapters.policies import PolicyRepository
from frontdesk.scheduling.adapters.rooms import RoomRepository
from frontdesk.scheduling.adapters.series import SeriesRepository
from frontdesk.scheduling.adapters.sessions import SessionRepository
from frontdesk.scheduling.adapters.staff import StaffRepository
from frontdesk.scheduling.adapters.tables import idempotency_keys


class Repositories:
    """One tenant's repositories, all on one session (the unit of work's)."""

    def __init__(self, session: AsyncSession, tenant_id: uuid.UUID) -> None:
        self.tenant_id = tenant_id
        self.locations = LocationRepository(session, tenant_id)
        self.rooms = RoomRepository(session, tenant_id)
        self.staff = StaffRepository(session, tenant_id)
        self.sessions = SessionRepository(session, tenant_id)
        self.bookings = BookingRepository(session, tenant_id)
        self.appointments = AppointmentRepository(session, tenant_id)
        self.occupancy = OccupancyRepository(session, tenant_id)
        self.customers = CustomerRepository(session, tenant_id)
        self.policies = PolicyRepository(session, tenant_id)
        self.feeds = FeedRepository(session, tenant_id)
        self.households = HouseholdRepository(session, tenant_id)
        self.assets = AssetRepository(session, tenant_id)
        self.merges = MergeRepository(session, tenant_id)
        self.series = SeriesRepository(session, tenant_id)
        self.idempotency = IdempotencyKeys(session, tenant_id, idempotency_keys)
