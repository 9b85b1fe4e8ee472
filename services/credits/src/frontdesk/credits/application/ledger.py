"""Use cases on credit packages and the ledger, each inside the caller's unit of work.

The API and the consumers share these. Every change to a customer's credits
goes through a ``Ledger``: it locks the customer's account row first (so one
customer's changes run one at a time and locks are always taken in the same
order: booking debit row, account, packages by expiry), records history
entries, recounts the account and publishes ``BalanceChanged`` with the
account's next version.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping

from frontdesk.contracts.credits import (
    BalanceChanged,
    CreditsRefunded,
    DebitRejected,
    DebitSucceeded,
    PackageDebit,
    PackagePurchased,
    PackageToppedUp,
)
from frontdesk.credits.adapters.repository import (
    AccountRepository,
    BookingDebitRepository,
    CatalogueRepository,
    HistoryRepository,
    PackageRepository,
    due_packages,
)
from frontdesk.credits.adapters.tables import credit_packages, idempotency_keys
from frontdesk.credits.domain import Missing, RuleBroken
from frontdesk.credits.domain import packages as rules
from frontdesk.credits.domain.packages import Allocation, PackageStatus
from frontdesk.kit.etags import check_if_match
from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.kit.uow import UnitOfWork

SYSTEM = "system"


def utcnow() -> datetime:
    return datetime.now(UTC)


class Ledger:
    """The changes to one customer's credits within one transaction."""

    def __init__(
        self,
        uow: UnitOfWork,
        tenant_id: uuid.UUID,
        customer_id: uuid.UUID,
        actor: str,
        now: datetime,
    ) -> None:
        self.uow = uow
        self.tenant_id = tenant_id
        self.customer_id = customer_id
        self.actor = actor
        self.now = now
        self.accounts = AccountRepository(uow.session, tenant_id)
        self.packages = PackageRepository(uow.session, tenant_id)
        self._entries: list[dict[str, Any]] = []
        self.purchased = 0

    async def open(self, *, allow_closed: bool = False) -> RowMapping:
        account = await self.accounts.lock(self.customer_id)
        if account["closed_at"] is not None and not allow_closed:
            raise RuleBroken("customer_id", "the customer was deleted", conflict=True)
        return account

    def record(
        self,
        package: RowMapping,
        kind: str,
        delta: int,
        reason: str | None = None,
        *,
        booking_id: uuid.UUID | None = None,
        balance_after: int | None = None,
        entry_id: uuid.UUID | None = None,
        price_minor: int | None = None,
        currency: str | None = None,
    ) -> None:
        """One history entry; a sale (purchase, grant, paid top-up) carries its price."""
        self._entries.append(
            {
                "id": entry_id or uuid.uuid4(),
                "customer_id": self.customer_id,
                "package_id": package["id"],
                "booking_id": booking_id,
                "kind": kind,
                "delta": delta,
                "balance_after": package["balance"] if balance_after is None else balance_after,
                "reason": reason,
                "actor": self.actor,
                "price_minor": price_minor,
                "currency": currency if price_minor is not None else None,
            }
        )

    async def close(self, reason: str, extra: dict[str, Any] | None = None) -> RowMapping:
        """Recount the account, write the history, publish the new balance."""
        account = await self.accounts.refresh(
            self.customer_id, self.now, purchased=self.purchased, extra=extra
        )
        for entry in self._entries:
            entry["available_after"] = account["available"]
        await HistoryRepository(self.uow.session, self.tenant_id).add_many(self._entries)
        self._entries = []
        self.uow.publish(
            BalanceChanged(
                customer_id=self.customer_id,
                available=account["available"],
                paused=account["paused"],
                purchased_total=account["purchased_total"],
                reason=reason,
            ),
            tenant_id=self.tenant_id,
            aggregate_id=self.customer_id,
            aggregate_version=account["version"],
        )
        return account


# --- purchase ------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """A package that comes from no product (staff only)."""

    name: str
    credits: int
    validity_days: int | None = None
    expires_at: datetime | None = None
    price_minor: int = 0
    currency: str = "EUR"


@dataclass(frozen=True)
class Purchase:
    customer_id: uuid.UUID
    product_id: uuid.UUID | None = None
    grant: Grant | None = None
    reason: str | None = None

    def request(self) -> dict[str, Any]:
        """What an Idempotency-Key remembers of the purchase."""
        return {
            "customer_id": self.customer_id,
            "product_id": self.product_id,
            "grant": self.grant.__dict__ if self.grant else None,
        }


async def purchase(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    request: Purchase,
    *,
    actor: str,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[RowMapping, bool]:
    """Buy from a product or grant credits; (package, created). The same
    ``idempotency_key`` answers the first package again and buys nothing."""
    now = now or utcnow()
    package_id = uuid.uuid4()
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "purchase", idempotency_key, request.request(), package_id, what="purchase"
        )
        if earlier is not None:
            package = await PackageRepository(uow.session, tenant_id).get(earlier)
            assert package is not None
            return package, False
    if (request.product_id is None) == (request.grant is None):
        raise RuleBroken("product_id", "give either product_id or a custom grant (credits)")
    if request.product_id is not None:
        product = await CatalogueRepository.products(uow.session, tenant_id).get(request.product_id)
        if product is None or not product["active"]:
            raise RuleBroken("product_id", "no such active product")
        name, credits = product["name"], product["credits"]
        price_minor, currency = product["price_minor"], product["currency"]
        expires_at = rules.expiry_for(product["validity_days"], now)
        kind = "purchase"
    else:
        grant = request.grant
        assert grant is not None
        rules.require_positive("credits", grant.credits)
        if grant.validity_days is not None and grant.expires_at is not None:
            raise RuleBroken("expires_at", "give validity_days or expires_at, not both")
        expires_at = grant.expires_at or rules.expiry_for(grant.validity_days, now)
        if expires_at is not None and expires_at <= now:
            raise RuleBroken("expires_at", "must be in the future")
        name, credits = grant.name, grant.credits
        price_minor, currency = grant.price_minor, grant.currency
        kind = "grant"
    ledger = Ledger(uow, tenant_id, request.customer_id, actor, now)
    await ledger.open()
    package = await ledger.packages.add(
        {
            "id": package_id,
            "customer_id": request.customer_id,
            "product_id": request.product_id,
            "name": name,
            "credits_total": credits,
            "balance": credits,
            "price_minor": price_minor,
            "currency": currency,
            "expires_at": expires_at,
            "purchased_by": actor,
        }
    )
    ledger.record(
        package, kind, credits, request.reason, price_minor=price_minor, currency=currency
    )
    ledger.purchased += credits
    uow.publish(
        PackagePurchased(
            package_id=package_id,
            customer_id=request.customer_id,
            product_id=request.product_id,
            name=name,
            credits=credits,
            price_minor=price_minor,
            currency=currency,
            expires_at=expires_at,
            purchased_by=actor,
        ),
        tenant_id=tenant_id,
        aggregate_id=package_id,
        aggregate_version=package["version"],
    )
    await ledger.close(kind)
    return package, True


# --- changes to one package --------------------------------------------------------


async def _change(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    actor: str,
    now: datetime | None,
    apply: Callable[[Ledger, RowMapping], Any],
    customer_id: uuid.UUID | None = None,
) -> RowMapping:
    now = now or utcnow()
    packages = PackageRepository(uow.session, tenant_id)
    found = await packages.get(package_id)
    if found is None or (customer_id is not None and found["customer_id"] != customer_id):
        raise Missing("package")
    ledger = Ledger(uow, tenant_id, found["customer_id"], actor, now)
    await ledger.open(allow_closed=True)
    current = await packages.get(package_id, for_update=True)
    assert current is not None
    reason, row = await apply(ledger, current)
    await ledger.close(reason)
    return row  # type: ignore[no-any-return]


@dataclass(frozen=True)
class TopUp:
    """Credits added to a package the customer holds.

    Either ``credits`` (a free staff adjustment, or a sale when ``price_minor`` is
    given; ``currency`` defaults to the package's) or ``product_id`` (a sale of the
    active product's credits at its price). Priced or not, it publishes
    ``PackageToppedUp``; billing invoices the priced ones.
    """

    credits: int | None = None
    product_id: uuid.UUID | None = None
    price_minor: int | None = None
    currency: str | None = None

    def request(self, package_id: uuid.UUID) -> dict[str, Any]:
        """What an Idempotency-Key remembers of the top-up."""
        return {"package_id": package_id, **self.__dict__}


async def top_up(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    request: TopUp,
    *,
    actor: str,
    reason: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> tuple[RowMapping, bool]:
    """Add credits to a package; (package, topped up). The same ``idempotency_key``
    answers the package again and adds nothing."""
    top_up_id = uuid.uuid4()
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "top_up", idempotency_key, request.request(package_id), top_up_id, what="top-up"
        )
        if earlier is not None:
            package = await PackageRepository(uow.session, tenant_id).get(package_id)
            if package is None:
                raise Missing("package")
            return package, False
    if (request.credits is None) == (request.product_id is None):
        raise RuleBroken("credits", "give either credits or product_id, not both")
    product_id = request.product_id
    price_minor, currency = request.price_minor, request.currency
    if product_id is not None:
        for name in ("price_minor", "currency"):
            if getattr(request, name) is not None:
                raise RuleBroken(name, "comes from the product (without product_id only)")
        product = await CatalogueRepository.products(uow.session, tenant_id).get(product_id)
        if product is None or not product["active"]:
            raise RuleBroken("product_id", "no such active product")
        credits: int = product["credits"]
        price_minor, currency = product["price_minor"], product["currency"]
    else:
        assert request.credits is not None
        credits = request.credits
        if currency is not None and price_minor is None:
            raise RuleBroken("currency", "only with price_minor")
    rules.require_positive("credits", credits)
    if price_minor is not None and price_minor < 0:
        raise RuleBroken("price_minor", "must not be negative")

    async def apply(ledger: Ledger, package: RowMapping) -> tuple[str, RowMapping]:
        rules.require_open(package, "top up")
        if package["credits_total"] + credits > rules.MAX_PACKAGE_CREDITS:
            raise RuleBroken("credits", "the package cannot hold more credits", conflict=True)
        row = await ledger.packages.update(
            package["id"],
            {
                "balance": credit_packages.c.balance + credits,
                "credits_total": credit_packages.c.credits_total + credits,
            },
        )
        sold_in = currency or package["currency"]
        ledger.record(
            row,
            "top_up",
            credits,
            reason,
            entry_id=top_up_id,
            price_minor=price_minor,
            currency=sold_in,
        )
        ledger.purchased += credits
        ledger.uow.publish(
            PackageToppedUp(
                top_up_id=top_up_id,
                package_id=row["id"],
                customer_id=row["customer_id"],
                product_id=product_id,
                name=row["name"],
                credits=credits,
                price_minor=price_minor or 0,
                currency=sold_in,
                expires_at=row["expires_at"],
                topped_up_by=ledger.actor,
            ),
            tenant_id=ledger.tenant_id,
            aggregate_id=row["id"],
            aggregate_version=row["version"],
        )
        return "top_up", row

    return await _change(uow, tenant_id, package_id, actor, now, apply), True


async def deduct(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    credits: int,
    *,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> RowMapping:
    rules.require_positive("credits", credits)

    async def apply(ledger: Ledger, package: RowMapping) -> tuple[str, RowMapping]:
        rules.require_open(package, "deduct from")
        if package["balance"] < credits:
            raise RuleBroken("credits", f"only {package['balance']} credits left", conflict=True)
        row = await ledger.packages.update(
            package["id"], {"balance": credit_packages.c.balance - credits}
        )
        ledger.record(row, "deduct", -credits, reason)
        return "deduct", row

    return await _change(uow, tenant_id, package_id, actor, now, apply)


async def rename(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    name: str,
    *,
    actor: str,
    reason: str | None = None,
    if_match: str | None = None,
    now: datetime | None = None,
) -> RowMapping:
    """A new name; ``if_match`` (an ETag) answers 412 if the package changed since."""

    async def apply(ledger: Ledger, package: RowMapping) -> tuple[str, RowMapping]:
        check_if_match(if_match, package["version"], "package")
        row = await ledger.packages.update(package["id"], {"name": name})
        ledger.record(row, "renamed", 0, reason or f"renamed from {package['name']!r}")
        return "renamed", row

    return await _change(uow, tenant_id, package_id, actor, now, apply)


async def pause(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    *,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> RowMapping:
    async def apply(ledger: Ledger, package: RowMapping) -> tuple[str, RowMapping]:
        rules.pause(package)
        row = await ledger.packages.update(
            package["id"], {"status": "paused", "paused_at": ledger.now}
        )
        ledger.record(row, "paused", 0, reason)
        return "paused", row

    return await _change(uow, tenant_id, package_id, actor, now, apply)


async def resume(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    *,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> RowMapping:
    async def apply(ledger: Ledger, package: RowMapping) -> tuple[str, RowMapping]:
        expires_at = rules.resumed_expiry(package, ledger.now)
        row = await ledger.packages.update(
            package["id"], {"status": "active", "paused_at": None, "expires_at": expires_at}
        )
        ledger.record(row, "resumed", 0, reason)
        return "resumed", row

    return await _change(uow, tenant_id, package_id, actor, now, apply)


async def extend(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    package_id: uuid.UUID,
    *,
    expires_at: datetime | None = None,
    days: int | None = None,
    actor: str,
    reason: str | None = None,
    now: datetime | None = None,
) -> RowMapping:
    """A later expiry; extending an expired package brings its expired credits back."""

    async def apply(ledger: Ledger, package: RowMapping) -> tuple[str, RowMapping]:
        new = rules.extended_expiry(package, expires_at=expires_at, days=days, now=ledger.now)
        if package["status"] == PackageStatus.expired:
            restored = package["expired_credits"]
            row = await ledger.packages.update(
                package["id"],
                {"status": "active", "expires_at": new, "balance": restored, "expired_credits": 0},
            )
            ledger.record(row, "reactivated", restored, reason)
            return "reactivated", row
        row = await ledger.packages.update(package["id"], {"expires_at": new})
        ledger.record(row, "extended", 0, reason)
        return "extended", row

    return await _change(uow, tenant_id, package_id, actor, now, apply)


# --- the booking saga ----------------------------------------------------------------


@dataclass
class DebitOutcome:
    status: str  # debited, rejected, duplicate
    reason: str | None = None
    debits: list[Allocation] = field(default_factory=list)


async def debit_for_booking(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    booking_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    credits: int,
    *,
    now: datetime | None = None,
) -> DebitOutcome:
    """Step 2 of the booking saga: take ``credits`` from the customer's usable
    packages, earliest expiry first, or reject; publish the outcome.

    The ``booking_debits`` row (unique per booking) makes this happen once per
    booking whatever the redeliveries. A booking already rejected or
    cancelled before its request arrived (a tombstone row) is not debited: it
    answers ``DebitRejected(reason="booking_closed")``.
    """
    now = now or utcnow()
    bookings = BookingDebitRepository(uow.session, tenant_id)
    publish: dict[str, Any] = {
        "tenant_id": tenant_id,
        "aggregate_id": booking_id,
        "aggregate_version": 1,
    }
    claimed = await bookings.claim(
        booking_id, {"customer_id": customer_id, "credits": credits, "status": "debited"}
    )
    if claimed is None:
        existing = await bookings.lock(booking_id)
        assert existing is not None
        if existing["status"] == "closed":
            uow.publish(
                DebitRejected(
                    booking_id=booking_id,
                    customer_id=customer_id,
                    credits=credits,
                    reason="booking_closed",
                ),
                **publish,
            )
            return DebitOutcome("rejected", "booking_closed")
        return DebitOutcome("duplicate", existing["status"])

    async def reject(reason: str) -> DebitOutcome:
        await bookings.update(booking_id, {"status": "rejected", "reason": reason})
        uow.publish(
            DebitRejected(
                booking_id=booking_id, customer_id=customer_id, credits=credits, reason=reason
            ),
            **publish,
        )
        return DebitOutcome("rejected", reason)

    if customer_id is None:
        # Guests have no credits: they pay another way (or book once linked to a customer).
        return await reject("no_customer")
    if credits < 0:
        return await reject("invalid_credits")
    ledger = Ledger(uow, tenant_id, customer_id, SYSTEM, now)
    account = await ledger.open(allow_closed=True)
    if account["closed_at"] is not None:
        return await reject("customer_unknown")
    usable = await ledger.packages.lock_usable(customer_id, now)
    plan = rules.plan_debit(usable, credits, now)
    if plan is None:
        return await reject("insufficient_credits")
    for allocation in plan:
        row = await ledger.packages.update(
            allocation.package_id, {"balance": credit_packages.c.balance - allocation.credits}
        )
        ledger.record(row, "debit", -allocation.credits, booking_id=booking_id)
    await bookings.update(
        booking_id,
        {"debits": [{"package_id": str(a.package_id), "credits": a.credits} for a in plan]},
    )
    if not plan:  # nothing to take (a free booking paid "with" 0 credits)
        uow.publish(
            DebitSucceeded(booking_id=booking_id, customer_id=customer_id, credits=0), **publish
        )
        return DebitOutcome("debited")
    uow.publish(
        DebitSucceeded(
            booking_id=booking_id,
            customer_id=customer_id,
            credits=credits,
            debits=[PackageDebit(package_id=a.package_id, credits=a.credits) for a in plan],
        ),
        **publish,
    )
    await ledger.close("debit")
    return DebitOutcome("debited", debits=plan)


async def settle_booking(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    booking_id: uuid.UUID,
    customer_id: uuid.UUID | None,
    *,
    refund: bool,
    cause: str,
    now: datetime | None = None,
) -> str:
    """A booking ended (cancelled or rejected): refund its debit once, or forfeit it.

    Without a debit on record, leaves a tombstone so a late request is never
    debited. Answers the booking debit's resulting status.
    """
    now = now or utcnow()
    bookings = BookingDebitRepository(uow.session, tenant_id)
    tombstone = await bookings.claim(
        booking_id,
        {"customer_id": customer_id, "status": "closed", "reason": cause, "settled_at": now},
    )
    if tombstone is not None:
        return "closed"
    existing = await bookings.lock(booking_id)
    assert existing is not None
    if existing["status"] != "debited":
        return str(existing["status"])  # nothing taken, or settled already
    if not refund:
        await bookings.update(
            booking_id, {"status": "forfeited", "reason": cause, "settled_at": now}
        )
        return "forfeited"
    owner: uuid.UUID = existing["customer_id"]
    ledger = Ledger(uow, tenant_id, owner, SYSTEM, now)
    await ledger.open(allow_closed=True)
    debits = rules.refund_targets(existing["debits"])
    locked = await ledger.packages.lock_many([d.package_id for d in debits])
    for debit in debits:
        package = locked[debit.package_id]
        if package["status"] in rules.CLOSED:
            # The package closed meanwhile: the refund lands and closes with it.
            values: dict[str, Any] = {}
            if package["status"] == PackageStatus.expired:
                values["expired_credits"] = credit_packages.c.expired_credits + debit.credits
            row = await ledger.packages.update(package["id"], values)
            ledger.record(
                row,
                "refund",
                debit.credits,
                cause,
                booking_id=booking_id,
                balance_after=debit.credits,
            )
            ledger.record(
                row,
                str(package["status"]),
                -debit.credits,
                "refunded to a closed package",
                booking_id=booking_id,
            )
            continue
        row = await ledger.packages.update(
            package["id"], {"balance": credit_packages.c.balance + debit.credits}
        )
        ledger.record(row, "refund", debit.credits, cause, booking_id=booking_id)
    await bookings.update(booking_id, {"status": "refunded", "reason": cause, "settled_at": now})
    uow.publish(
        CreditsRefunded(
            booking_id=booking_id,
            customer_id=owner,
            credits=sum(d.credits for d in debits),
            debits=[PackageDebit(package_id=d.package_id, credits=d.credits) for d in debits],
            reason=cause,
        ),
        tenant_id=tenant_id,
        aggregate_id=booking_id,
        aggregate_version=2,
    )
    await ledger.close("refund")
    return "refunded"


# --- customers' lifecycle ------------------------------------------------------------


async def close_account(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, *, now: datetime | None = None
) -> None:
    """The customer was deleted: void their open packages (history kept)."""
    now = now or utcnow()
    ledger = Ledger(uow, tenant_id, customer_id, SYSTEM, now)
    account = await ledger.open(allow_closed=True)
    if account["closed_at"] is not None:
        return
    for package in await ledger.packages.lock_open_of(customer_id):
        row = await ledger.packages.update(
            package["id"], {"status": "voided", "balance": 0, "paused_at": None}
        )
        ledger.record(row, "voided", -package["balance"], "customer deleted")
    await ledger.close("customer_deleted", extra={"closed_at": now})


async def scrub_customer(
    uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID, *, now: datetime | None = None
) -> None:
    """GDPR erasure: drop free text, keep the anonymous ledger (amounts, dates, ids)."""
    now = now or utcnow()
    accounts = AccountRepository(uow.session, tenant_id)
    await accounts.lock(customer_id)
    await HistoryRepository(uow.session, tenant_id).scrub_reasons(customer_id)
    await PackageRepository(uow.session, tenant_id).scrub_custom_names(customer_id)
    await accounts.mark(customer_id, {"erased_at": now})


# --- the expiry sweep ----------------------------------------------------------------


async def expire_due_packages(
    uow_factory: Callable[[], UnitOfWork], *, now: datetime | None = None, batch: int = 200
) -> int:
    """Expire every active package past its expiry, one customer per transaction."""
    now = now or utcnow()
    expired = 0
    while True:
        async with uow_factory() as uow:
            due = await due_packages(uow.session, now, batch)
        if not due:
            return expired
        for tenant_id, customer_id in due:
            async with uow_factory() as uow:
                ledger = Ledger(uow, tenant_id, customer_id, SYSTEM, now)
                await ledger.open(allow_closed=True)
                for package in await ledger.packages.lock_due(customer_id, now):
                    row = await ledger.packages.update(
                        package["id"],
                        {"status": "expired", "balance": 0, "expired_credits": package["balance"]},
                    )
                    ledger.record(row, "expired", -package["balance"])
                    expired += 1
                await ledger.close("expired")
                await uow.commit()
        if len(due) < batch:
            return expired
