"""Duplicates and merges (C13): candidates with a score and reasons, the merge of two
records (everything moved, logged, published) and its undo within the set period."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from frontdesk.customers.adapters.assets import AssetRepository
from frontdesk.customers.adapters.customers import CustomerRepository
from frontdesk.customers.adapters.households import HouseholdRepository
from frontdesk.customers.adapters.merges import MergeRepository
from frontdesk.customers.adapters.summaries import SummaryRepository
from frontdesk.customers.domain.customer import Customer
from frontdesk.customers.domain.merge import Merge, duplicate_score
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import ConflictError, NotFoundError
from frontdesk.kit.uow import UnitOfWork

SHOWN = 20


@dataclass(frozen=True)
class Candidate:
    customer_id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None
    phone: str | None
    score: float
    reasons: dict[str, float]


async def duplicates(
    uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID
) -> list[Candidate]:
    """Others likely to be the same person, best first: the same normalised email, the
    same E.164 phone, a similar name (each a reason with its strength)."""
    customer = await CustomerRepository(uow.session, principal.tenant_id).require(customer_id)
    if customer.erased or customer.merged:
        return []
    found: list[Candidate] = []
    for row in await MergeRepository(uow.session, principal.tenant_id).candidates(customer_id):
        reasons: dict[str, float] = {}
        if row["same_email"]:
            reasons["email"] = 1.0
        if row["same_phone"]:
            reasons["phone"] = 1.0
        similarity = float(row["name_similarity"] or 0)
        if similarity >= 0.5:
            reasons["name"] = round(similarity, 4)
        if reasons:
            found.append(
                Candidate(
                    customer_id=row["id"],
                    first_name=row["first_name"],
                    last_name=row["last_name"],
                    email=row["email"],
                    phone=row["phone"],
                    score=duplicate_score(reasons),
                    reasons=reasons,
                )
            )
    found.sort(key=lambda c: (-c.score, str(c.customer_id)))
    return found[:SHOWN]


async def _pair(
    repo: CustomerRepository, survivor_id: uuid.UUID, merged_id: uuid.UUID
) -> tuple[Customer, Customer]:
    """Both records, locked in id order (two merges at once never deadlock)."""
    found = {c.id: c for c in await repo.get_many_for_update([survivor_id, merged_id])}
    if survivor_id not in found:
        raise NotFoundError.of("customer")
    if merged_id not in found:
        raise NotFoundError("No such customer to merge.", field="merged_id")
    return found[survivor_id], found[merged_id]


async def merge(
    uow: UnitOfWork,
    principal: Principal,
    survivor_id: uuid.UUID,
    merged_id: uuid.UUID,
    *,
    undo_days: int,
) -> Merge:
    """``merged_id`` into ``survivor_id``: the merged record is marked (never erased); its
    notes, bookings, memberships, timeline, assets, tags, custom field values and summary
    figures move to the survivor; the log remembers what moved; others learn of it by
    ``customers.customer.merged`` and move what they hold."""
    tenant = principal.tenant_id
    records = CustomerRepository(uow.session, tenant)
    survivor, merged = await _pair(records, survivor_id, merged_id)
    if survivor.id != merged.id and await HouseholdRepository(uow.session, tenant).linked(
        merged.id
    ):
        raise ConflictError(
            "The record to merge is in a household; unlink it first.", field="merged_id"
        )
    now = datetime.now(UTC)
    log = Merge.start(survivor, merged, by=principal.sub, now=now, undo_days=undo_days)
    merges = MergeRepository(uow.session, tenant)
    before = await merges.summaries(survivor.id, merged.id)
    moved: dict[str, Any] = await merges.move_rows(merged.id, survivor.id)
    moved["assets"] = await _move_assets(uow, tenant, merged.id, survivor.id, None)
    empty: dict[str, Any] = {}
    await merges.add_figures(survivor.id, merged.id, before.get(merged.id, empty))
    summaries = SummaryRepository(uow.session, tenant)
    for customer_id in sorted((survivor.id, merged.id)):
        await summaries.recompute_bookings(customer_id)
    log.moved = {
        **log.moved,
        **moved,
        "summaries": {
            "survivor": before.get(survivor.id, empty),
            "merged": before.get(merged.id, empty),
        },
    }
    for customer in (survivor, merged):
        await records.save(customer)
        uow.publish_recorded(customer)
    await merges.add(log)
    uow.publish_recorded(log)
    await uow.commit()
    return log


async def _move_assets(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    source: uuid.UUID,
    target: uuid.UUID,
    only: list[str] | None,
) -> list[str]:
    """The source's assets (``only`` these ids, when given) to the target, each announced
    (``AssetChanged``) so an appointment naming it follows."""
    repo = AssetRepository(uow.session, tenant_id)
    ids = set(only) if only is not None else None
    moved: list[str] = []
    for asset in await repo.of_customer(source):
        if ids is not None and str(asset.id) not in ids:
            continue
        asset.move_to(target)
        await repo.save(asset)
        uow.publish_recorded(asset)
        moved.append(str(asset.id))
    return sorted(moved)


async def undo(uow: UnitOfWork, principal: Principal, merge_id: uuid.UUID) -> Merge:
    """Both records back as they were and exactly what the merged one held back with it
    (what the survivor gained since stays); ``customers.customer.unmerged`` tells the
    others to do the same. Refused once undone or after the period."""
    tenant = principal.tenant_id
    merges = MergeRepository(uow.session, tenant)
    log = await merges.require(merge_id, for_update=True)
    records = CustomerRepository(uow.session, tenant)
    survivor, merged = await _pair(records, log.survivor_id, log.merged_id)
    log.undo(survivor, merged, by=principal.sub, now=datetime.now(UTC))
    await merges.summaries(survivor.id, merged.id)  # locked, as the merge did
    await merges.move_back(survivor.id, merged.id, log.moved)
    await _move_assets(uow, tenant, survivor.id, merged.id, list(log.moved.get("assets", [])))
    before = log.moved.get("summaries")
    if before:
        await merges.restore_figures(survivor.id, merged.id, before)
    summaries = SummaryRepository(uow.session, tenant)
    for customer_id in sorted((survivor.id, merged.id)):
        await summaries.recompute_bookings(customer_id)
    for customer in (survivor, merged):
        await records.save(customer)
        uow.publish_recorded(customer)
    await merges.save(log)
    uow.publish_recorded(log)
    await uow.commit()
    return log


async def get(uow: UnitOfWork, principal: Principal, merge_id: uuid.UUID) -> Merge:
    return await MergeRepository(uow.session, principal.tenant_id).require(merge_id)


async def of_customer(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> list[Merge]:
    """The merges a record took part in (as survivor or merged), newest first."""
    await CustomerRepository(uow.session, principal.tenant_id).require(customer_id)
    return await MergeRepository(uow.session, principal.tenant_id).of_customer(customer_id)
