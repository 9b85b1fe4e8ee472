"""A credit package: what a customer bought or was granted, and every change to it.

Each change keeps its own line of the credit history (an ``Entry``, written by the
application with the account's balance after it) and records the events it causes.
"""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from frontdesk.contracts.credits import PackagePurchased, PackageToppedUp
from frontdesk.credits.domain.catalogue import CreditProduct, expiry_for, on_sale
from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.kit.types import LATEST, in_bounds

MAX_CREDITS = 100_000  # in one purchase, grant, top-up or debit
MAX_PACKAGE_CREDITS = 2**31 - 1  # what one package may ever hold (a 32-bit column)
MAX_DAYS = 3650  # validity, or one extension: ten years


class PackageStatus(StrEnum):
    active = "active"
    paused = "paused"
    expired = "expired"
    voided = "voided"  # the customer was deleted


CLOSED = frozenset({PackageStatus.expired, PackageStatus.voided})
# History kinds that count into the account's ``purchased_total``.
SALES = frozenset({"purchase", "grant", "top_up"})


def require_positive(field: str, credits: int) -> None:
    if credits <= 0:
        raise RuleBroken(field, "must be greater than 0")
    if credits > MAX_CREDITS:
        raise RuleBroken(field, f"at most {MAX_CREDITS}")


def days_after(start: datetime, days: int) -> datetime | None:
    """``start`` plus ``days``, or None when that is past what may be stored."""
    try:
        later = start + timedelta(days=days)
    except OverflowError:
        return None
    return later if in_bounds(later) else None


def require_storable(field: str, value: datetime) -> None:
    if value.tzinfo is None:
        raise RuleBroken(field, "must carry a time zone")
    if not in_bounds(value):
        raise RuleBroken(field, f"must be before {LATEST:%Y}")


@dataclasses.dataclass(frozen=True)
class Entry:
    """One line of the credit history: what a change did to one package."""

    package_id: uuid.UUID
    kind: str
    delta: int
    balance_after: int  # the package's balance after the change
    reason: str | None = None
    booking_id: uuid.UUID | None = None
    price_minor: int | None = None  # what a sale cost
    currency: str | None = None  # only with price_minor
    id: uuid.UUID = dataclasses.field(default_factory=uuid.uuid4)


@dataclasses.dataclass(frozen=True)
class Grant:
    """A package that comes from no product (staff only)."""

    name: str
    credits: int
    validity_days: int | None = None
    expires_at: datetime | None = None
    price_minor: int = 0
    currency: str = "EUR"

    def expiry(self, now: datetime) -> datetime | None:
        require_positive("credits", self.credits)
        if self.validity_days is not None and self.expires_at is not None:
            raise RuleBroken("expires_at", "give validity_days or expires_at, not both")
        if self.expires_at is not None:
            require_storable("expires_at", self.expires_at)
        if self.validity_days is not None and not 0 < self.validity_days <= MAX_DAYS:
            raise RuleBroken("validity_days", f"must be 1 to {MAX_DAYS}")
        expires_at = self.expires_at or expiry_for(self.validity_days, now)
        if expires_at is not None and expires_at <= now:
            raise RuleBroken("expires_at", "must be in the future")
        return expires_at


@dataclasses.dataclass(frozen=True)
class Sale:
    """Credits a top-up adds, and what they cost (None: a free adjustment)."""

    credits: int
    price_minor: int | None = None
    currency: str | None = None
    product_id: uuid.UUID | None = None


@dataclasses.dataclass(frozen=True)
class TopUp:
    """Credits added to a package the customer holds: ``credits`` (a free staff
    adjustment, or a sale when ``price_minor`` is given; ``currency`` defaults to the
    package's) or ``product_id`` (the active product's credits at its price)."""

    credits: int | None = None
    product_id: uuid.UUID | None = None
    price_minor: int | None = None
    currency: str | None = None

    def request(self, package_id: uuid.UUID) -> dict[str, Any]:
        """What an Idempotency-Key remembers of the top-up."""
        return {"package_id": package_id, **dataclasses.asdict(self)}

    def check(self) -> None:
        """The rules that need no product."""
        if (self.credits is None) == (self.product_id is None):
            raise RuleBroken("credits", "give either credits or product_id, not both")
        if self.product_id is not None:
            for name in ("price_minor", "currency"):
                if getattr(self, name) is not None:
                    raise RuleBroken(name, "comes from the product (without product_id only)")
        elif self.currency is not None and self.price_minor is None:
            raise RuleBroken("currency", "only with price_minor")

    def sale(self, product: CreditProduct | None = None) -> Sale:
        """What is added and sold; ``product`` is the one ``product_id`` names."""
        self.check()
        if self.product_id is not None:
            sold = on_sale(product)
            sale = Sale(sold.credits, sold.price_minor, sold.currency, sold.id)
        else:
            assert self.credits is not None
            sale = Sale(self.credits, self.price_minor, self.currency)
        require_positive("credits", sale.credits)
        if sale.price_minor is not None and sale.price_minor < 0:
            raise RuleBroken("price_minor", "must not be negative")
        return sale


@dataclasses.dataclass(kw_only=True, eq=False)
class Package(Aggregate):
    customer_id: uuid.UUID
    product_id: uuid.UUID | None = None
    name: str
    credits_total: int  # bought or granted, plus top-ups
    balance: int
    expired_credits: int = 0
    price_minor: int = 0
    currency: str
    status: PackageStatus = PackageStatus.active
    expires_at: datetime | None = None
    paused_at: datetime | None = None
    purchased_by: str
    created_at: datetime | None = None  # None until saved: the database stamps it
    updated_at: datetime | None = None
    _entries: list[Entry] = dataclasses.field(default_factory=list, init=False, repr=False)

    def __post_init__(self) -> None:
        self.status = PackageStatus(self.status)

    # --- a new package -----------------------------------------------------------------

    @classmethod
    def bought(
        cls,
        source: CreditProduct | Grant | None,
        *,
        tenant_id: uuid.UUID,
        customer_id: uuid.UUID,
        actor: str,
        now: datetime,
        reason: str | None = None,
        package_id: uuid.UUID | None = None,
    ) -> Package:
        """Bought from an active product, on its terms, or a custom grant (staff) with its
        own name, credits, price and expiry."""
        terms: CreditProduct | Grant
        if isinstance(source, Grant):
            terms, kind, product_id, expires_at = source, "grant", None, source.expiry(now)
        else:
            terms = on_sale(source)
            kind, product_id, expires_at = "purchase", terms.id, terms.expiry_from(now)
        package = cls(
            id=package_id or uuid.uuid4(),
            tenant_id=tenant_id,
            customer_id=customer_id,
            product_id=product_id,
            name=terms.name,
            credits_total=terms.credits,
            balance=terms.credits,
            price_minor=terms.price_minor,
            currency=terms.currency,
            expires_at=expires_at,
            purchased_by=actor,
        )
        package._enter(
            kind, terms.credits, reason, price_minor=terms.price_minor, currency=terms.currency
        )
        package.record(
            PackagePurchased(
                package_id=package.id,
                customer_id=customer_id,
                product_id=product_id,
                name=terms.name,
                credits=terms.credits,
                price_minor=terms.price_minor,
                currency=terms.currency,
                expires_at=expires_at,
                purchased_by=actor,
            )
        )
        return package

    # --- what it is ------------------------------------------------------------------

    def is_usable(self, now: datetime) -> bool:
        """Active, not empty, not past its expiry (even before the sweep has run)."""
        return (
            self.status == PackageStatus.active
            and self.balance > 0
            and (self.expires_at is None or self.expires_at > now)
        )

    def debit_order(self) -> tuple[bool, datetime | None, datetime | None, str]:
        """Earliest expiry first; packages without expiry last; then oldest first."""
        return (self.expires_at is None, self.expires_at, self.created_at, str(self.id))

    def collect_entries(self) -> list[Entry]:
        entries, self._entries = self._entries, []
        return entries

    def _enter(
        self,
        kind: str,
        delta: int,
        reason: str | None = None,
        *,
        balance_after: int | None = None,
        booking_id: uuid.UUID | None = None,
        price_minor: int | None = None,
        currency: str | None = None,
        entry_id: uuid.UUID | None = None,
    ) -> str:
        """One history entry; a sale (purchase, grant, top-up) carries its price. Answers
        its kind (what the change was)."""
        self._entries.append(
            Entry(
                package_id=self.id,
                kind=kind,
                delta=delta,
                balance_after=self.balance if balance_after is None else balance_after,
                reason=reason,
                booking_id=booking_id,
                price_minor=price_minor,
                currency=currency if price_minor is not None else None,
                id=entry_id or uuid.uuid4(),
            )
        )
        return kind

    def _require_open(self, action: str) -> None:
        if self.status in CLOSED:
            raise ConflictError(f"cannot {action} a package that is {self.status}", field="status")

    # --- staff changes: each answers the kind of change it made ------------------------

    def top_up(
        self, sale: Sale, *, top_up_id: uuid.UUID, actor: str, reason: str | None = None
    ) -> str:
        """Adds the sale's credits; the package keeps its purchase terms and expiry, the
        top-up's price goes on its own entry (``top_up_id``) and event."""
        self._require_open("top up")
        if self.credits_total + sale.credits > MAX_PACKAGE_CREDITS:
            raise ConflictError("the package cannot hold more credits", field="credits")
        self.change(
            balance=self.balance + sale.credits, credits_total=self.credits_total + sale.credits
        )
        sold_in = sale.currency or self.currency
        kind = self._enter(
            "top_up",
            sale.credits,
            reason,
            entry_id=top_up_id,
            price_minor=sale.price_minor,
            currency=sold_in,
        )
        self.record(
            PackageToppedUp(
                top_up_id=top_up_id,
                package_id=self.id,
                customer_id=self.customer_id,
                product_id=sale.product_id,
                name=self.name,
                credits=sale.credits,
                price_minor=sale.price_minor or 0,
                currency=sold_in,
                expires_at=self.expires_at,
                topped_up_by=actor,
            )
        )
        return kind

    def deduct(self, credits: int, reason: str | None = None) -> str:
        require_positive("credits", credits)
        self._require_open("deduct from")
        if self.balance < credits:
            raise ConflictError(f"only {self.balance} credits left", field="credits")
        self.change(balance=self.balance - credits)
        return self._enter("deduct", -credits, reason)

    def rename(self, name: str, reason: str | None = None) -> str:
        previous = self.name
        self.change(name=name)
        return self._enter("renamed", 0, reason or f"renamed from {previous!r}")

    def pause(self, now: datetime, reason: str | None = None) -> str:
        self._require_open("pause")
        if self.status == PackageStatus.paused:
            raise ConflictError("the package is already paused", field="status")
        self.change(status=PackageStatus.paused, paused_at=now)
        return self._enter("paused", 0, reason)

    def resume(self, now: datetime, reason: str | None = None) -> str:
        """The expiry moves later by the time the package was paused."""
        if self.status != PackageStatus.paused:
            raise ConflictError("the package is not paused", field="status")
        expires_at = self.expires_at
        if expires_at is not None and self.paused_at is not None:
            expires_at += max(now - self.paused_at, timedelta(0))
        self.change(status=PackageStatus.active, paused_at=None, expires_at=expires_at)
        return self._enter("resumed", 0, reason)

    def extend(
        self,
        *,
        expires_at: datetime | None = None,
        days: int | None = None,
        now: datetime,
        reason: str | None = None,
    ) -> str:
        """A later expiry: an explicit date or ``days`` added to the current one (or to
        now, when it lapsed); an expired package comes back with its expired credits."""
        if self.status == PackageStatus.voided:
            raise ConflictError("the package is voided", field="status")
        if (expires_at is None) == (days is None):
            raise RuleBroken("expires_at", "give exactly one of expires_at or days")
        current = self.expires_at
        if days is not None:
            if current is None:
                raise RuleBroken("days", "the package never expires; give expires_at instead")
            if not 0 < days <= MAX_DAYS:
                raise RuleBroken("days", f"must be 1 to {MAX_DAYS}")
            new = days_after(max(current, now), days)
            if new is None:
                raise RuleBroken("days", f"the expiry would pass {LATEST:%Y}")
        else:
            assert expires_at is not None
            require_storable("expires_at", expires_at)
            new = expires_at
            if current is not None and new <= current:
                raise RuleBroken("expires_at", "must be later than the current expiry")
        if new <= now:
            raise RuleBroken("expires_at", "must be in the future")
        if self.status == PackageStatus.expired:
            restored = self.expired_credits
            self.change(
                status=PackageStatus.active, expires_at=new, balance=restored, expired_credits=0
            )
            return self._enter("reactivated", restored, reason)
        self.change(expires_at=new)
        return self._enter("extended", 0, reason)

    # --- the system's changes --------------------------------------------------------

    def expire(self) -> None:
        """Past its expiry: zeroed, the amount kept in ``expired_credits``."""
        lost = self.balance
        self.change(status=PackageStatus.expired, balance=0, expired_credits=lost)
        self._enter("expired", -lost)

    def void(self, reason: str) -> None:
        """The customer was deleted: nothing is left to use."""
        lost = self.balance
        self.change(status=PackageStatus.voided, balance=0, paused_at=None)
        self._enter("voided", -lost, reason)

    def debit(self, credits: int, *, booking_id: uuid.UUID) -> None:
        self.change(balance=self.balance - credits)
        self._enter("debit", -credits, booking_id=booking_id)

    def refund(self, credits: int, *, booking_id: uuid.UUID, cause: str) -> None:
        """Credits of a booking given back. A package closed meanwhile takes them and
        closes again (two entries), so an expired one can still be brought back."""
        if self.status not in CLOSED:
            self.change(balance=self.balance + credits)
            self._enter("refund", credits, cause, booking_id=booking_id)
            return
        kept = credits if self.status == PackageStatus.expired else 0
        self.change(expired_credits=self.expired_credits + kept)
        self._enter("refund", credits, cause, booking_id=booking_id, balance_after=credits)
        self._enter(
            str(self.status), -credits, "refunded to a closed package", booking_id=booking_id
        )
