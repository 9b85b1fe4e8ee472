"""Programs (K7): a bundle of N sessions of a kind (a service label and/or a session
kind), optionally with a named coach, bought as one and booked against.

A booking that a usable program of the customer matches is paid by the program before
any credits are looked at: the program's sessions are used, the booking's credits are
not. A cancellation within the policy gives the sessions back; a late one keeps them.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from frontdesk.contracts.credits import ProgramProgressed, ProgramPurchased
from frontdesk.credits.domain.catalogue import CatalogueItem, expiry_for
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken

SESSION_KINDS = ("class", "event", "appointment")
MAX_SESSIONS = 1000


def _label(value: str | None) -> str | None:
    """Service labels match without regard to case or surrounding spaces."""
    return value.strip().casefold() if value is not None else None


def _require_kind(service: str | None, session_kind: str | None) -> None:
    if service is None and session_kind is None:
        raise RuleBroken("service", "give a service, a session_kind, or both")
    if session_kind is not None and session_kind not in SESSION_KINDS:
        raise RuleBroken("session_kind", f"one of {', '.join(SESSION_KINDS)}")


@dataclasses.dataclass(kw_only=True, eq=False)
class ProgramProduct(CatalogueItem):
    """What the tenant sells: N sessions of a kind, a price, a validity."""

    description: str | None = None
    sessions: int
    service: str | None = None
    session_kind: str | None = None
    staff_id: uuid.UUID | None = None
    price_minor: int
    currency: str
    validity_days: int | None = None

    @classmethod
    def new(cls, tenant_id: uuid.UUID, values: Mapping[str, Any]) -> Self:
        _require_kind(values.get("service"), values.get("session_kind"))
        return super().new(tenant_id, values)

    def edit(self, changes: Mapping[str, Any]) -> None:
        merged = {"service": self.service, "session_kind": self.session_kind, **changes}
        _require_kind(merged["service"], merged["session_kind"])
        super().edit(changes)


@dataclasses.dataclass(frozen=True)
class SessionFacts:
    """What a booking tells of the session it is for."""

    service: str | None
    session_kind: str | None  # class, event or appointment
    staff_id: uuid.UUID | None
    starts_at: datetime
    sessions: int = 1  # seats


class ProgramStatus(StrEnum):
    active = "active"
    voided = "voided"  # the customer was deleted


@dataclasses.dataclass(kw_only=True, eq=False)
class Program(Aggregate):
    customer_id: uuid.UUID
    product_id: uuid.UUID | None = None
    name: str
    sessions_total: int
    sessions_used: int = 0
    service: str | None = None
    session_kind: str | None = None
    staff_id: uuid.UUID | None = None
    price_minor: int = 0
    currency: str
    expires_at: datetime | None = None
    status: ProgramStatus = ProgramStatus.active
    purchased_by: str
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def __post_init__(self) -> None:
        self.status = ProgramStatus(self.status)

    @classmethod
    def bought(
        cls,
        product: ProgramProduct | None,
        *,
        tenant_id: uuid.UUID,
        customer_id: uuid.UUID,
        actor: str,
        now: datetime,
        program_id: uuid.UUID | None = None,
    ) -> Program:
        """Bought as one from an active program product, on its terms (later edits of the
        product do not reach it)."""
        if product is None or not product.active:
            raise RuleBroken("product_id", "no such active program product")
        program = cls(
            id=program_id or uuid.uuid4(),
            tenant_id=tenant_id,
            customer_id=customer_id,
            product_id=product.id,
            name=product.name,
            sessions_total=product.sessions,
            service=product.service,
            session_kind=product.session_kind,
            staff_id=product.staff_id,
            price_minor=product.price_minor,
            currency=product.currency,
            expires_at=expiry_for(product.validity_days, now),
            purchased_by=actor,
        )
        program.record(
            ProgramPurchased(
                program_id=program.id,
                customer_id=customer_id,
                product_id=product.id,
                name=program.name,
                sessions=program.sessions_total,
                service=program.service,
                session_kind=program.session_kind,
                staff_id=program.staff_id,
                price_minor=program.price_minor,
                currency=program.currency,
                expires_at=program.expires_at,
                purchased_by=actor,
            )
        )
        return program

    @property
    def sessions_left(self) -> int:
        return self.sessions_total - self.sessions_used

    def state(self, now: datetime) -> str:
        """active, completed (every session used), expired or voided."""
        if self.status == ProgramStatus.voided:
            return "voided"
        if self.sessions_left == 0:
            return "completed"
        if self.expires_at is not None and self.expires_at <= now:
            return "expired"
        return "active"

    def covers(self, session: SessionFacts, now: datetime) -> bool:
        """Usable (active, not expired, sessions left) and of the session's kind: its
        service (if the program names one), its kind (if named), its coach (if named)."""
        if self.state(now) != "active" or self.sessions_left < session.sessions:
            return False
        if self.service is not None and _label(self.service) != _label(session.service):
            return False
        if self.session_kind is not None and self.session_kind != session.session_kind:
            return False
        return self.staff_id is None or self.staff_id == session.staff_id

    def order(self) -> tuple[bool, datetime | None, datetime | None, str]:
        """Earliest expiry first, programs without expiry last, then oldest first."""
        return (self.expires_at is None, self.expires_at, self.created_at, str(self.id))

    def use(self, booking_id: uuid.UUID, sessions: int) -> None:
        if sessions > self.sessions_left:
            raise ConflictError("the program has no sessions left", field="sessions")
        self.change(sessions_used=self.sessions_used + sessions)
        self._progressed(booking_id, "used")

    def give_back(self, booking_id: uuid.UUID, sessions: int) -> None:
        """A cancellation within the policy: the sessions are the customer's again (even
        after the program expired, so an extension would bring them back)."""
        self.change(sessions_used=max(self.sessions_used - sessions, 0))
        self._progressed(booking_id, "returned")

    def void(self) -> None:
        self.change(status=ProgramStatus.voided)

    def _progressed(self, booking_id: uuid.UUID, change: str) -> None:
        self.record(
            ProgramProgressed(
                program_id=self.id,
                customer_id=self.customer_id,
                booking_id=booking_id,
                change=change,
                sessions_used=self.sessions_used,
                sessions_total=self.sessions_total,
            )
        )


def choose(programs: Iterable[Program], session: SessionFacts, now: datetime) -> Program | None:
    """The program that pays for ``session``: of those that cover it, the one expiring
    first (programs without expiry last, then the oldest)."""
    covering = sorted((p for p in programs if p.covers(session, now)), key=Program.order)
    return covering[0] if covering else None
