"""Credit packages: buy or grant, top up, deduct, rename, pause, resume, extend, read,
and the expiry sweep. Each command goes through the customer's ``Ledger`` and commits."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

from frontdesk.credits.adapters.catalogue import ProductRepository
from frontdesk.credits.adapters.common import CreatedKey
from frontdesk.credits.adapters.packages import PackageRepository
from frontdesk.credits.adapters.tables import idempotency_keys
from frontdesk.credits.application.accounts import Ledger, utcnow
from frontdesk.credits.domain import SYSTEM
from frontdesk.credits.domain.catalogue import CreditProduct
from frontdesk.credits.domain.packages import Grant, Package, PackageStatus, TopUp
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.kit.uow import UnitOfWork

# --- purchase ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class PurchaseRequest:
    """What was asked: from a product (``product_id``), or a custom grant (``credits``
    and the grant's terms; staff only)."""

    customer_id: uuid.UUID | None = None
    product_id: uuid.UUID | None = None
    name: str | None = None
    credits: int | None = None
    validity_days: int | None = None
    expires_at: datetime | None = None
    price_minor: int = 0
    currency: str = "EUR"
    reason: str | None = None


GRANT_ONLY = ("expires_at", "name", "validity_days")


@dataclasses.dataclass(frozen=True)
class Purchase:
    customer_id: uuid.UUID
    product_id: uuid.UUID | None = None
    grant: Grant | None = None
    reason: str | None = None

    @classmethod
    def of(cls, principal: Principal, asked: PurchaseRequest) -> Purchase:
        """A customer buys from a product for itself; staff sell from a product or grant."""
        if principal.is_customer:
            own = principal.customer_scope(asked.customer_id)
            assert own is not None
            if asked.product_id is None or asked.credits is not None:
                raise RuleBroken("product_id", "customers buy from a product")
            return cls(own, product_id=asked.product_id, reason=asked.reason)
        if asked.customer_id is None:
            raise RuleBroken("customer_id", "required")
        if (asked.product_id is None) == (asked.credits is None):
            raise RuleBroken(
                "product_id", "give either product_id or credits (a custom grant), not both"
            )
        if asked.product_id is not None:
            for name in GRANT_ONLY:
                if getattr(asked, name) is not None:
                    raise RuleBroken(name, "only for a custom grant (without product_id)")
            return cls(asked.customer_id, product_id=asked.product_id, reason=asked.reason)
        assert asked.credits is not None
        grant = Grant(
            name=asked.name or "Credit grant",
            credits=asked.credits,
            validity_days=asked.validity_days,
            expires_at=asked.expires_at,
            price_minor=asked.price_minor,
            currency=asked.currency,
        )
        return cls(asked.customer_id, grant=grant, reason=asked.reason)

    def request(self) -> dict[str, Any]:
        """What an Idempotency-Key remembers of the purchase."""
        return {
            "customer_id": self.customer_id,
            "product_id": self.product_id,
            "grant": self.grant.__dict__ if self.grant else None,
        }


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The package, and whether this call made the change (False: an ``Idempotency-Key``
    replay that changed nothing)."""

    package: Package
    created: bool


async def purchase(
    uow: UnitOfWork,
    principal: Principal,
    asked: PurchaseRequest,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Buy from a product or grant credits. The same ``idempotency_key`` answers the
    first package again and buys nothing."""
    request = Purchase.of(principal, asked)
    now = now or utcnow()
    tenant_id = principal.tenant_id
    package_id = uuid.uuid4()
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "purchase", idempotency_key, request.request(), package_id, what="purchase"
        )
        if earlier is not None:
            package = await PackageRepository(uow.session, tenant_id).require(earlier)
            principal.ensure_sees(package.customer_id, "package")
            return Outcome(package, created=False)
    source: Grant | CreditProduct | None = request.grant
    if source is None:
        assert request.product_id is not None
        source = await ProductRepository(uow.session, tenant_id).get(request.product_id)
    package = Package.bought(
        source,
        tenant_id=tenant_id,
        customer_id=request.customer_id,
        actor=principal.sub,
        now=now,
        reason=request.reason,
        package_id=package_id,
    )
    ledger = await Ledger.open(uow, tenant_id, request.customer_id, principal.sub, now)
    await ledger.add(package)
    await ledger.close("grant" if request.grant else "purchase")
    await uow.commit()
    return Outcome(package, created=True)


# --- changes to one package --------------------------------------------------------


async def _change(
    uow: UnitOfWork,
    principal: Principal,
    package_id: uuid.UUID,
    now: datetime | None,
    apply: Callable[[Package, datetime], str],
    *,
    expected_version: int | None = None,
) -> Package:
    """Lock the owner's account, then the package (at ``expected_version``, if given);
    ``apply`` changes it through the domain at a time and answers the kind of change;
    save, recount, publish, commit."""
    packages = PackageRepository(uow.session, principal.tenant_id)
    found = await packages.require(package_id)
    now = now or utcnow()
    ledger = await Ledger.open(
        uow, principal.tenant_id, found.customer_id, principal.sub, now, allow_closed=True
    )
    package = await packages.require(package_id, for_update=True)
    package.require_version(expected_version, "package")
    what = apply(package, now)
    await ledger.save(package)
    await ledger.close(what)
    await uow.commit()
    return package


async def top_up(
    uow: UnitOfWork,
    principal: Principal,
    package_id: uuid.UUID,
    request: TopUp,
    *,
    reason: str | None = None,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Outcome:
    """Add credits to a package: a free adjustment, a sale at a given price, or a
    product's credits at its price; each publishes ``PackageToppedUp``. The same
    ``idempotency_key`` answers the package again and adds nothing."""
    top_up_id = uuid.uuid4()
    tenant_id = principal.tenant_id
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "top_up", idempotency_key, request.request(package_id), top_up_id, what="top-up"
        )
        if earlier is not None:
            package = await PackageRepository(uow.session, tenant_id).require(package_id)
            return Outcome(package, created=False)
    request.check()
    product = None
    if request.product_id is not None:
        product = await ProductRepository(uow.session, tenant_id).get(request.product_id)
    sale = request.sale(product)
    package = await _change(
        uow,
        principal,
        package_id,
        now,
        lambda package, _: package.top_up(
            sale, top_up_id=top_up_id, actor=principal.sub, reason=reason
        ),
    )
    return Outcome(package, created=True)


async def deduct(
    uow: UnitOfWork,
    principal: Principal,
    package_id: uuid.UUID,
    credits: int,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> Package:
    return await _change(
        uow, principal, package_id, now, lambda package, _: package.deduct(credits, reason)
    )


async def rename(
    uow: UnitOfWork,
    principal: Principal,
    package_id: uuid.UUID,
    name: str,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    now: datetime | None = None,
) -> Package:
    """A new name; ``expected_version`` (from ``If-Match``) refuses a stale edit (412)."""
    return await _change(
        uow,
        principal,
        package_id,
        now,
        lambda package, _: package.rename(name, reason),
        expected_version=expected_version,
    )


async def pause(
    uow: UnitOfWork,
    principal: Principal,
    package_id: uuid.UUID,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> Package:
    return await _change(
        uow, principal, package_id, now, lambda package, at: package.pause(at, reason)
    )


async def resume(
    uow: UnitOfWork,
    principal: Principal,
    package_id: uuid.UUID,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> Package:
    """The expiry moves later by the time the package was paused."""
    return await _change(
        uow, principal, package_id, now, lambda package, at: package.resume(at, reason)
    )


async def extend(
    uow: UnitOfWork,
    principal: Principal,
    package_id: uuid.UUID,
    *,
    expires_at: datetime | None = None,
    days: int | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> Package:
    """A later expiry; extending an expired package brings its expired credits back."""
    return await _change(
        uow,
        principal,
        package_id,
        now,
        lambda package, at: package.extend(expires_at=expires_at, days=days, now=at, reason=reason),
    )


# --- queries ---------------------------------------------------------------------------


async def get(uow: UnitOfWork, principal: Principal, package_id: uuid.UUID) -> Package:
    package = await PackageRepository(uow.session, principal.tenant_id).require(package_id)
    principal.ensure_sees(package.customer_id, "package")
    return package


async def page(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None = None,
    status: PackageStatus | None = None,
    after: CreatedKey | None = None,
    limit: int,
) -> list[Package]:
    """Packages in creation order (one past ``limit``, to tell whether more follow); a
    customer sees only its own."""
    return await PackageRepository(uow.session, principal.tenant_id).page(
        limit + 1, after, customer_id=principal.customer_scope(customer_id), status=status
    )


# --- the expiry sweep ----------------------------------------------------------------


async def expire_due_packages(
    uow_factory: Callable[[], UnitOfWork], *, now: datetime | None = None, batch: int = 200
) -> int:
    """Expire every active package past its expiry, one customer per transaction."""
    now = now or utcnow()
    expired = 0
    while True:
        async with uow_factory() as uow:
            due = await PackageRepository.due_customers(uow.session, now, batch)
        if not due:
            return expired
        for tenant_id, customer_id in due:
            async with uow_factory() as uow:
                ledger = await Ledger.open(
                    uow, tenant_id, customer_id, SYSTEM, now, allow_closed=True
                )
                for package in await ledger.packages.lock_due(customer_id, now):
                    package.expire()
                    await ledger.save(package)
                    expired += 1
                await ledger.close("expired")
                await uow.commit()
        if len(due) < batch:
            return expired
