"""The customer record: register, find-or-create, read, edit, tag, bulk actions, delete,
erase, and the access request."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import RowMapping

from frontdesk.customers.adapters.custom_fields import DefinitionRepository
from frontdesk.customers.adapters.customers import (
    MEMBERSHIP_FIELDS,
    NEXT_SESSION_FIELDS,
    SUMMARY_FIELDS,
    CustomerRecords,
    CustomerRepository,
)
from frontdesk.customers.adapters.notes import NoteRepository
from frontdesk.customers.adapters.summaries import SummaryRepository
from frontdesk.customers.application import tenants
from frontdesk.customers.domain.assets import Asset
from frontdesk.customers.domain.custom_fields import clean_values
from frontdesk.customers.domain.customer import (
    BulkChange,
    Customer,
    clean_contact,
    clean_tag,
)
from frontdesk.customers.domain.engagement import Engagement, engagement
from frontdesk.customers.domain.notes import Note
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import ConflictError, NotFoundError, RuleBroken
from frontdesk.kit.uow import UnitOfWork

# An access request returns the whole timeline.
EVERYTHING = 100_000


@dataclass(frozen=True)
class Detail:
    """The record with what other services told us about the customer, and (for staff)
    its likely duplicates."""

    customer: Customer
    summary: Mapping[str, Any] | None
    engagement: Engagement
    next_session: Mapping[str, Any] | None
    membership: Mapping[str, Any] | None
    possible_duplicates: list[uuid.UUID]
    household_payer_id: uuid.UUID | None = None
    household_member_ids: list[uuid.UUID] = field(default_factory=list)
    assets: list[Asset] = field(default_factory=list)


@dataclass(frozen=True)
class Held:
    """Everything this service holds about a customer (an access request)."""

    detail: Detail
    notes: list[Note]
    bookings: list[RowMapping]
    memberships: list[RowMapping]
    activity: list[RowMapping]


@dataclass(frozen=True)
class BulkOutcome:
    selected: int
    changed: int
    request_id: uuid.UUID | None = None


async def detail(uow: UnitOfWork, principal: Principal, customer: Customer) -> Detail:
    """What the record's detail shows besides the record, read in one statement."""
    row = await CustomerRecords(uow.reads, principal.tenant_id).record(
        customer.id, datetime.now(UTC), duplicates=not principal.is_customer
    )
    return _detail(customer, row)


async def get(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> Detail:
    """A customer token reaches only its own record; others look absent. One statement:
    the record and everything its detail shows."""
    principal.ensure_sees(customer_id, "customer")
    row = await CustomerRecords(uow.reads, principal.tenant_id).record(
        customer_id, datetime.now(UTC), duplicates=not principal.is_customer
    )
    if row is None:
        raise NotFoundError.of("customer")
    return _detail(Customer.from_row(row), row)


def _detail(customer: Customer, row: Mapping[str, Any] | None) -> Detail:
    """``Detail`` from a row of ``CustomerRepository.record``."""

    def part(prefix: str, fields: Sequence[str], key: str) -> dict[str, Any] | None:
        if row is None or row[key] is None or row[key] is False:
            return None
        return {name: row[f"{prefix}{name}"] for name in fields}

    summary = part("summary_", SUMMARY_FIELDS, "has_summary")
    return Detail(
        customer=customer,
        summary=summary,
        engagement=(
            engagement(summary["bookings_count"], summary["last_booking_at"], datetime.now(UTC))
            if summary is not None
            else Engagement.none
        ),
        next_session=part("next_", NEXT_SESSION_FIELDS, "next_booking_id"),
        membership=part("membership_", MEMBERSHIP_FIELDS, "membership_membership_id"),
        possible_duplicates=list(row.get("possible_duplicates") or []) if row else [],
        household_payer_id=row.get("household_payer_id") if row else None,
        household_member_ids=list(row.get("household_member_ids") or []) if row else [],
        assets=_assets(row.get("assets") if row else None),
    )


def _assets(raw: Any) -> list[Asset]:
    """The record's assets, read as JSON with the record (``CustomerRepository.record``)."""
    if raw is None:
        return []
    rows = json.loads(raw) if isinstance(raw, str) else raw
    return [Asset.from_row(item) for item in rows]


async def _custom_values(
    uow: UnitOfWork,
    tenant_id: uuid.UUID,
    values: Mapping[str, Any],
    current: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """``values["custom_fields"]`` checked against the tenant's definitions (C16)."""
    definitions = await DefinitionRepository(uow.session, tenant_id).by_key()
    return clean_values(definitions, values.get("custom_fields") or {}, current)


async def region_of(uow: UnitOfWork, principal: Principal, fallback: str) -> str:
    """Where phones without a country code are read: the tenant's country (issue 12), else
    the deployment's region."""
    return await tenants.phone_region(uow, principal.tenant_id, fallback)


async def _create(uow: UnitOfWork, customer: Customer) -> Customer:
    await CustomerRepository(uow.session, customer.tenant_id).add(customer)
    uow.publish_recorded(customer)
    return customer


async def _find_or_create(
    uow: UnitOfWork, tenant_id: uuid.UUID, contact: Mapping[str, Any], *, source: str
) -> tuple[Customer, bool]:
    """The oldest customer with this (normalised) email, or a new one: never two.

    An advisory lock on (tenant, email) held to the end of the transaction serialises
    concurrent calls, so the second one sees the first one's record.
    """
    repo = CustomerRepository(uow.session, tenant_id)
    await repo.lock_email(contact["email"])
    found = await repo.oldest_with_email(contact["email"])
    if found is not None and found.merged_into is not None:
        # Only a merged record has the email: its survivor is the customer now.
        found = await repo.get(found.merged_into)
    if found is not None:
        return found, False
    return await _create(uow, Customer.register(tenant_id, contact, source=source)), True


async def register(
    uow: UnitOfWork, principal: Principal, values: Mapping[str, Any], *, default_region: str
) -> Detail:
    """A new record; likely duplicates are flagged, never blocked."""
    contact = clean_contact(values, await region_of(uow, principal, default_region))
    contact["custom_fields"] = await _custom_values(uow, principal.tenant_id, values, None)
    customer = Customer.register(principal.tenant_id, contact, source="staff")
    await _create(uow, customer)
    out = await detail(uow, principal, customer)
    await uow.commit()
    return out


async def find_or_create(
    uow: UnitOfWork, principal: Principal, values: Mapping[str, Any], *, default_region: str
) -> tuple[Detail, bool]:
    """The oldest customer with this email in the tenant, or a new one (True)."""
    contact = clean_contact(values, await region_of(uow, principal, default_region))
    customer, created = await _find_or_create(uow, principal.tenant_id, contact, source="staff")
    out = await detail(uow, principal, customer)
    await uow.commit()
    return out, created


async def resolve_guest(
    uow: UnitOfWork, tenant_id: uuid.UUID, contact: Mapping[str, Any]
) -> tuple[Customer, bool]:
    """A booking guest's customer (``guest_contact``), found or created. A step of the
    booking's handling, which commits it with the rest."""
    return await _find_or_create(uow, tenant_id, contact, source="booking")


async def update(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID,
    changes: Mapping[str, Any],
    *,
    default_region: str,
    expected_version: int | None = None,
) -> Detail:
    """A PATCH: only the fields given, against ``expected_version`` (``If-Match``)."""
    principal.ensure_sees(customer_id, "customer")
    cleaned = clean_contact(changes, await region_of(uow, principal, default_region))
    repo = CustomerRepository(uow.session, principal.tenant_id)
    customer = await repo.require(customer_id, for_update=True)
    if "custom_fields" in changes:
        cleaned["custom_fields"] = await _custom_values(
            uow, principal.tenant_id, changes, customer.custom_fields
        )
    customer.edit(cleaned, expected_version=expected_version)
    return await _save(uow, principal, customer)


async def tag(
    uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID, raw_tag: str, *, add: bool
) -> Detail:
    """Adds the tag (trimmed, lower-cased; twice changes nothing) or removes it."""
    cleaned = clean_tag(raw_tag)
    customer = await CustomerRepository(uow.session, principal.tenant_id).require(
        customer_id, for_update=True
    )
    if add:
        customer.add_tag(cleaned)
    else:
        customer.remove_tag(cleaned)
    return await _save(uow, principal, customer)


async def _save(uow: UnitOfWork, principal: Principal, customer: Customer) -> Detail:
    await CustomerRepository(uow.session, principal.tenant_id).save(customer)
    uow.publish_recorded(customer)
    out = await detail(uow, principal, customer)
    await uow.commit()
    return out


async def bulk(
    uow: UnitOfWork, principal: Principal, change: BulkChange, ids: Sequence[uuid.UUID]
) -> BulkOutcome:
    """One action on a selection, all or nothing. Status and tag changes publish the same
    per-customer events as single edits; a message is one request to notifications."""
    selected = list(dict.fromkeys(ids))
    repo = CustomerRepository(uow.session, principal.tenant_id)
    found = await repo.get_many_for_update(selected)
    known = {customer.id for customer in found}
    missing = [str(i) for i in selected if i not in known]
    if missing:
        raise RuleBroken("ids", "unknown customers: " + ", ".join(missing))
    erased = [str(customer.id) for customer in found if customer.erased]
    if erased:
        raise ConflictError("Erased customers cannot be changed or messaged: " + ", ".join(erased))
    if change.is_message:
        request_id = uuid.uuid4()
        uow.publish(
            change.message(request_id, selected, principal.sub),
            tenant_id=principal.tenant_id,
            aggregate_id=request_id,
            aggregate_version=1,
        )
        await uow.commit()
        return BulkOutcome(selected=len(selected), changed=0, request_id=request_id)
    changed = 0
    for customer in found:
        change.apply_to(customer)
        if customer.changed:
            await repo.save(customer)
            uow.publish_recorded(customer)
            changed += 1
    await uow.commit()
    return BulkOutcome(selected=len(selected), changed=changed)


async def delete(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> None:
    """The record with its notes, summary, bookings and activity; others learn of it."""
    repo = CustomerRepository(uow.session, principal.tenant_id)
    customer = await repo.require(customer_id, for_update=True)
    await repo.delete(customer_id)
    customer.delete()
    uow.publish_recorded(customer)
    await uow.commit()


async def erase(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> Detail:
    """GDPR erasure: personal data scrubbed, notes deleted; the anonymous record and its
    numbers stay. Every other service scrubs on the published event."""
    customer = await CustomerRepository(uow.session, principal.tenant_id).require(
        customer_id, for_update=True
    )
    customer.erase(datetime.now(UTC))
    await NoteRepository(uow.session, principal.tenant_id).delete_all(customer_id)
    return await _save(uow, principal, customer)


async def held(uow: UnitOfWork, principal: Principal, customer_id: uuid.UUID) -> Held:
    """Everything this service holds about the customer, private notes included."""
    customer = await CustomerRepository(uow.session, principal.tenant_id).require(customer_id)
    notes = NoteRepository(uow.session, principal.tenant_id)
    summaries = SummaryRepository(uow.session, principal.tenant_id)
    return Held(
        detail=await detail(uow, principal, customer),
        notes=await notes.timeline(customer_id, None),
        bookings=await summaries.bookings(customer_id),
        memberships=await summaries.memberships(customer_id),
        activity=await notes.activity(
            customer_id, notes_for=None, include_notes=False, after=None, limit=EVERYTHING
        ),
    )
