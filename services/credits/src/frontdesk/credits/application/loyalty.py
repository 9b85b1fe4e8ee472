"""Loyalty (K6): the tenant's rule, points earned on billing's paid invoices and reversed
on its refunds (each once, by the invoice's and the refund's id), redemptions for credits
or a discount voucher, the balance and the history.

Lock order: a customer's loyalty account, then (a redemption for credits) their credit
account through the ``Ledger``.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from frontdesk.contracts.billing import InvoicePaid, PaymentRefunded
from frontdesk.contracts.credits import LoyaltyVoucherIssued
from frontdesk.credits.adapters.loyalty import LoyaltyRepository, LoyaltyRuleRepository
from frontdesk.credits.adapters.tables import idempotency_keys
from frontdesk.credits.application.accounts import Ledger, utcnow
from frontdesk.credits.domain import SYSTEM
from frontdesk.credits.domain.loyalty import (
    LoyaltyAccount,
    LoyaltyEntry,
    LoyaltyRule,
    Redemption,
    reversal_for,
)
from frontdesk.credits.domain.packages import Grant, Package
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import NotFoundError, RuleBroken
from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.kit.uow import UnitOfWork

REWARD_NAME = "Loyalty reward"

# --- the rule ----------------------------------------------------------------------------


async def rule(uow: UnitOfWork, principal: Principal) -> LoyaltyRule:
    found = await LoyaltyRuleRepository(uow.session, principal.tenant_id).current()
    if found is None:
        raise NotFoundError("This studio has no loyalty rule (no points are earned).")
    return found


async def set_rule(uow: UnitOfWork, principal: Principal, values: Mapping[str, Any]) -> LoyaltyRule:
    """The tenant's rule from now on (points already earned stay)."""
    wanted = LoyaltyRule(tenant_id=principal.tenant_id, updated_by=principal.sub, **values)
    saved = await LoyaltyRuleRepository(uow.session, principal.tenant_id).put(wanted)
    await uow.commit()
    return saved


async def remove_rule(uow: UnitOfWork, principal: Principal) -> None:
    """No rule, no loyalty: nothing is earned or redeemed (balances and history stay)."""
    if not await LoyaltyRuleRepository(uow.session, principal.tenant_id).remove():
        raise NotFoundError("This studio has no loyalty rule.")
    await uow.commit()


# --- saving a change -----------------------------------------------------------------------


async def _save(
    uow: UnitOfWork, repo: LoyaltyRepository, account: LoyaltyAccount, actor: str
) -> LoyaltyAccount:
    events = account.events()
    await repo.save(account, actor)
    for event in events:
        uow.publish(
            event,
            tenant_id=account.tenant_id,
            aggregate_id=account.customer_id,
            aggregate_version=account.version,
        )
    return account


# --- billing's events ---------------------------------------------------------------------


async def invoice_paid(uow: UnitOfWork, tenant_id: uuid.UUID, event: InvoicePaid) -> None:
    """Points on what was paid, by the tenant's rule at the time; once per invoice."""
    found = await LoyaltyRuleRepository(uow.session, tenant_id).current()
    points = found.points_for(event.paid_minor, event.currency) if found else 0
    if points <= 0:
        return
    repo = LoyaltyRepository(uow.session, tenant_id)
    account = await repo.lock(event.customer_id)
    if await repo.has_source("earned", event.invoice_id):
        return  # earned already (the same invoice paid event again)
    account.earn(
        points, invoice_id=event.invoice_id, amount_minor=event.paid_minor, currency=event.currency
    )
    await _save(uow, repo, account, SYSTEM)
    await uow.commit()


async def payment_refunded(
    uow: UnitOfWork, tenant_id: uuid.UUID, event: PaymentRefunded, refund_id: uuid.UUID
) -> None:
    """Points of the refunded invoice taken back in proportion to the money refunded
    (once per refund); more than the balance takes it to zero and records the shortfall."""
    if event.invoice_id is None:
        return  # money that paid no invoice earned no points
    repo = LoyaltyRepository(uow.session, tenant_id)
    earned = [e for e in await repo.of_invoice(event.invoice_id) if e["kind"] == "earned"]
    if not earned:
        return
    holder = earned[0]["customer_id"]  # whoever holds the points now (merges move them)
    account = await repo.lock(holder)
    if await repo.has_source("reversed", refund_id):
        return
    reversals = [e for e in await repo.of_invoice(event.invoice_id) if e["kind"] == "reversed"]
    points = reversal_for(
        earned[0]["delta"],
        earned[0]["amount_minor"],
        sum(e["amount_minor"] for e in reversals),
        sum(e["shortfall"] - e["delta"] for e in reversals),
        event.amount_minor,
    )
    account.reverse(
        points,
        refund_id=refund_id,
        invoice_id=event.invoice_id,
        amount_minor=event.amount_minor,
        currency=event.currency,
    )
    await _save(uow, repo, account, SYSTEM)
    await uow.commit()


# --- redemptions --------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Redeemed:
    id: uuid.UUID  # the redemption
    customer_id: uuid.UUID
    redeemed_for: str
    points: int
    balance: int
    created: bool  # False: an Idempotency-Key replay that redeemed nothing
    credits: int | None = None
    package_id: uuid.UUID | None = None
    voucher_id: uuid.UUID | None = None
    amount_minor: int | None = None
    currency: str | None = None

    @classmethod
    def of(
        cls,
        entry: Mapping[Any, Any] | LoyaltyEntry,
        customer_id: uuid.UUID,
        balance: int,
        *,
        created: bool,
    ) -> Redeemed:
        found = entry if isinstance(entry, Mapping) else dataclasses.asdict(entry)
        return cls(
            id=found["source_id"],
            customer_id=customer_id,
            redeemed_for=found["redeemed_for"],
            points=-found["delta"],
            balance=balance,
            created=created,
            **{
                k: found[k]
                for k in ("credits", "package_id", "voucher_id", "amount_minor", "currency")
            },
        )


async def redeem(
    uow: UnitOfWork,
    principal: Principal,
    asked: Redemption,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Redeemed:
    """Spend points: ``credits`` become a package (the purchase path, price 0, so nothing
    is invoiced) or ``points`` a discount voucher (``LoyaltyVoucherIssued``)."""
    owner = principal.customer_scope(asked.customer_id)
    if owner is None:
        raise RuleBroken("customer_id", "required")
    asked = dataclasses.replace(asked, customer_id=owner)
    tenant_id = principal.tenant_id
    repo = LoyaltyRepository(uow.session, tenant_id)
    redemption_id = uuid.uuid4()
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        earlier = await keys.claim(
            "loyalty", idempotency_key, dataclasses.asdict(asked), redemption_id, what="redemption"
        )
        if earlier is not None:
            account = await repo.get(owner)
            balance = account.balance if account else 0
            earlier_entry = await repo.entry("redeemed", earlier)
            return Redeemed.of(earlier_entry, owner, balance, created=False)
    current = await LoyaltyRuleRepository(uow.session, tenant_id).current()
    cost = asked.cost(current)
    assert current is not None
    account = await repo.lock(owner)
    now = now or utcnow()
    if asked.redeem_for == "credits":
        assert asked.credits is not None
        account.require_points(cost)  # before any credits are made
        ledger = await Ledger.open(uow, tenant_id, owner, principal.sub, now)
        grant = Grant(name=REWARD_NAME, credits=asked.credits, currency=current.currency)
        package = Package.bought(
            grant,
            tenant_id=tenant_id,
            customer_id=owner,
            actor=principal.sub,
            now=now,
            reason=f"{cost} loyalty points redeemed",
        )
        await ledger.add(package)
        await ledger.close("loyalty")
        entry = account.redeem(
            cost,
            redemption_id=redemption_id,
            redeemed_for="credits",
            credits=asked.credits,
            package_id=package.id,
        )
    else:
        voucher_id = uuid.uuid4()
        worth = current.discount_worth(cost)
        entry = account.redeem(
            cost,
            redemption_id=redemption_id,
            redeemed_for="discount",
            voucher_id=voucher_id,
            amount_minor=worth,
            currency=current.currency,
        )
        await repo.add_voucher(
            {
                "id": voucher_id,
                "customer_id": owner,
                "points": cost,
                "amount_minor": worth,
                "currency": current.currency,
                "issued_by": principal.sub,
            }
        )
        uow.publish(
            LoyaltyVoucherIssued(
                voucher_id=voucher_id,
                customer_id=owner,
                points=cost,
                amount_minor=worth,
                currency=current.currency,
                issued_by=principal.sub,
            ),
            tenant_id=tenant_id,
            aggregate_id=voucher_id,
            aggregate_version=1,
        )
    await _save(uow, repo, account, principal.sub)
    await uow.commit()
    return Redeemed.of(entry, owner, account.balance, created=True)


# --- queries ------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Standing:
    customer_id: uuid.UUID
    balance: int
    version: int
    totals: dict[str, int]
    vouchers: Sequence[Mapping[Any, Any]]


async def standing(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> Standing:
    """The customer's points, what was earned, reversed (and fell short) and redeemed, and
    the discount vouchers issued."""
    owner = principal.customer_scope(customer_id)
    assert owner is not None
    repo = LoyaltyRepository(uow.session, principal.tenant_id)
    account = await repo.get(owner)
    return Standing(
        customer_id=owner,
        balance=account.balance if account else 0,
        version=account.version if account else 0,
        totals=await repo.totals(owner),
        vouchers=await repo.vouchers(owner),
    )


async def history(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID,
    *,
    after_seq: int | None = None,
    limit: int,
) -> Sequence[Mapping[Any, Any]]:
    """Every earning, reversal and redemption, oldest first (one row past ``limit``)."""
    return await LoyaltyRepository(uow.session, principal.tenant_id).history_page(
        limit + 1, after_seq, customer_id=principal.customer_scope(customer_id)
    )
