"""One booking's debit in the booking saga, kept once per booking whatever the
redeliveries: ``debited`` (credits taken), ``rejected`` (reason), then ``refunded`` or
``forfeited`` when the booking ends; ``closed`` is the tombstone of a booking that
ended before its request arrived (that request is then never debited).

Its events carry the booking as aggregate, versioned by saga step: the outcome of the
request is version 1, the refund version 2.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any

from frontdesk.contracts import Event
from frontdesk.contracts.credits import (
    CreditsRefunded,
    DebitRejected,
    DebitSucceeded,
    PackageDebit,
)
from frontdesk.credits.domain.accounts import Allocation, CreditAccount
from frontdesk.credits.domain.packages import Package

OUTCOME_VERSION = 1
REFUND_VERSION = 2


class DebitStatus(StrEnum):
    debited = "debited"
    rejected = "rejected"
    refunded = "refunded"
    forfeited = "forfeited"
    closed = "closed"


def _debits(allocations: Iterable[Allocation]) -> list[PackageDebit]:
    return [PackageDebit(package_id=a.package_id, credits=a.credits) for a in allocations]


@dataclasses.dataclass(kw_only=True, eq=False)
class BookingDebit:
    booking_id: uuid.UUID
    customer_id: uuid.UUID | None
    credits: int = 0
    status: DebitStatus
    reason: str | None = None
    debits: list[Allocation] = dataclasses.field(default_factory=list)
    settled_at: datetime | None = None  # refunded, forfeited or closed
    payer_id: uuid.UUID | None = None  # whose credits pay, when not the customer's own
    program_id: uuid.UUID | None = None  # the program that paid instead of credits
    program_sessions: int = 0
    _events: list[tuple[Event, int]] = dataclasses.field(
        default_factory=list, init=False, repr=False
    )

    def __post_init__(self) -> None:
        self.status = DebitStatus(self.status)

    @classmethod
    def requested(
        cls,
        booking_id: uuid.UUID,
        customer_id: uuid.UUID | None,
        credits: int,
        payer_id: uuid.UUID | None = None,
    ) -> BookingDebit:
        """The booking's claim, taken before the outcome is known (``debited`` until
        the account says otherwise). ``payer_id``: a household's payer whose credits pay
        for the customer (kept only when it is someone else)."""
        return cls(
            booking_id=booking_id,
            customer_id=customer_id,
            credits=credits,
            status=DebitStatus.debited,
            payer_id=payer_id if payer_id != customer_id else None,
        )

    @property
    def holder_id(self) -> uuid.UUID | None:
        """Whose credits pay (and get the refund): the payer's, else the customer's."""
        return self.payer_id or self.customer_id

    def _payer(self) -> dict[str, Any]:
        return {"payer_customer_id": self.payer_id} if self.payer_id else {}

    @classmethod
    def tombstone(
        cls, booking_id: uuid.UUID, customer_id: uuid.UUID | None, cause: str, now: datetime
    ) -> BookingDebit:
        """A booking that ended before its request arrived."""
        return cls(
            booking_id=booking_id,
            customer_id=customer_id,
            status=DebitStatus.closed,
            reason=cause,
            settled_at=now,
        )

    @classmethod
    def from_row(cls, row: Mapping[str, Any] | Any) -> BookingDebit:
        return cls(
            booking_id=row["booking_id"],
            customer_id=row["customer_id"],
            credits=row["credits"],
            status=row["status"],
            reason=row["reason"],
            debits=[
                Allocation(uuid.UUID(str(d["package_id"])), int(d["credits"]))
                for d in row["debits"]
            ],
            settled_at=row["settled_at"],
            payer_id=row.get("payer_id"),
            program_id=row.get("program_id"),
            program_sessions=row.get("program_sessions") or 0,
        )

    def to_row(self) -> dict[str, Any]:
        return {
            "booking_id": self.booking_id,
            "customer_id": self.customer_id,
            "credits": self.credits,
            "status": self.status.value,
            "reason": self.reason,
            "debits": [
                {"package_id": str(a.package_id), "credits": a.credits} for a in self.debits
            ],
            "settled_at": self.settled_at,
            "payer_id": self.payer_id,
            "program_id": self.program_id,
            "program_sessions": self.program_sessions,
        }

    def collect_events(self) -> list[tuple[Event, int]]:
        """The events to publish, each with its aggregate version."""
        events, self._events = self._events, []
        return events

    # --- the request -------------------------------------------------------------------

    def answer_again(self, customer_id: uuid.UUID | None, credits: int) -> str:
        """A request for a booking already on record: a tombstone rejects it (the booking
        is over; nothing is taken), anything else is a duplicate that changes nothing."""
        if self.status != DebitStatus.closed:
            return "duplicate"
        self._events.append(
            (
                DebitRejected(
                    booking_id=self.booking_id,
                    customer_id=customer_id,
                    credits=credits,
                    reason="booking_closed",
                ),
                OUTCOME_VERSION,
            )
        )
        return "rejected"

    def refusal(self) -> str | None:
        """Why the request cannot be paid before any account is looked at."""
        if self.customer_id is None:
            # Guests have no credits: they pay another way (or book once linked).
            return "no_customer"
        if self.credits < 0:
            return "invalid_credits"
        return None

    def reject(self, reason: str) -> None:
        self.status = DebitStatus.rejected
        self.reason = reason
        self._events.append(
            (
                DebitRejected(
                    booking_id=self.booking_id,
                    customer_id=self.customer_id,
                    credits=self.credits,
                    reason=reason,
                    **self._payer(),
                ),
                OUTCOME_VERSION,
            )
        )

    def pay(self, account: CreditAccount, packages: Iterable[Package], now: datetime) -> None:
        """Take the credits from the customer's packages, or reject with the reason."""
        reason = self.refusal() or ("customer_unknown" if account.closed else None)
        if reason is not None:
            self.reject(reason)
            return
        plan = account.debit(packages, self.credits, now, booking_id=self.booking_id)
        if plan is None:
            self.reject("insufficient_credits")
            return
        assert self.customer_id is not None
        self.debits = plan
        self._events.append(
            (
                DebitSucceeded(
                    booking_id=self.booking_id,
                    customer_id=self.customer_id,
                    credits=self.credits,
                    debits=_debits(plan),
                    **self._payer(),
                ),
                OUTCOME_VERSION,
            )
        )

    def pay_with_program(self, program_id: uuid.UUID, sessions: int) -> None:
        """A program of the customer pays the booking (``sessions`` of it) instead of
        credits: no credits are taken."""
        assert self.customer_id is not None
        self.program_id = program_id
        self.program_sessions = sessions
        self._events.append(
            (
                DebitSucceeded(
                    booking_id=self.booking_id,
                    customer_id=self.customer_id,
                    credits=0,
                    program_id=program_id,
                    program_sessions=sessions,
                ),
                OUTCOME_VERSION,
            )
        )

    # --- the end of the booking ------------------------------------------------------

    def settle(self, *, refund: bool, cause: str, now: datetime) -> list[Allocation]:
        """The booking ended (cancelled or rejected): refund its debit once, or forfeit
        it. Answers what goes back to which package (nothing when nothing was taken,
        when it was settled already, or when it is forfeited)."""
        if self.status != DebitStatus.debited:
            return []
        self.reason = cause
        self.settled_at = now
        if not refund:
            self.status = DebitStatus.forfeited
            return []
        assert self.customer_id is not None
        self.status = DebitStatus.refunded
        program = (
            {"program_id": self.program_id, "program_sessions": self.program_sessions}
            if self.program_id
            else {}
        )
        self._events.append(
            (
                CreditsRefunded(
                    booking_id=self.booking_id,
                    customer_id=self.customer_id,
                    credits=sum(a.credits for a in self.debits),
                    debits=_debits(self.debits),
                    reason=cause,
                    **self._payer(),
                    **program,
                ),
                REFUND_VERSION,
            )
        )
        return list(self.debits)
