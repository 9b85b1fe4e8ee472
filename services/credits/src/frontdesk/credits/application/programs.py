"""Programs (K7): the catalogue of program products, buying one as a whole, and each
customer's programs with their progress. Booking against them is the saga's
(``debits``)."""

from __future__ import annotations

import dataclasses
import uuid
from datetime import datetime

from frontdesk.credits.adapters.accounts import AccountRepository
from frontdesk.credits.adapters.common import CreatedKey
from frontdesk.credits.adapters.programs import ProgramProductRepository, ProgramRepository
from frontdesk.credits.adapters.tables import idempotency_keys
from frontdesk.credits.application.accounts import utcnow
from frontdesk.credits.application.catalogue import Catalogue
from frontdesk.credits.domain.programs import Program, ProgramProduct
from frontdesk.kit.auth import Principal
from frontdesk.kit.errors import RuleBroken
from frontdesk.kit.idempotency import IdempotencyKeys
from frontdesk.kit.uow import UnitOfWork

PROGRAM_PRODUCTS: Catalogue[ProgramProduct] = Catalogue(ProgramProductRepository, ProgramProduct)


@dataclasses.dataclass(frozen=True)
class Progress:
    """A program as the customer's view shows it: used / total, the next confirmed
    session still to come, the expiry, and its state."""

    program: Program
    state: str
    sessions_left: int
    next_session_at: datetime | None


@dataclasses.dataclass(frozen=True)
class Bought:
    program: Program
    created: bool  # False: an Idempotency-Key replay that bought nothing


async def purchase(
    uow: UnitOfWork,
    principal: Principal,
    customer_id: uuid.UUID | None,
    product_id: uuid.UUID,
    *,
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> Bought:
    """Buy a program as one, on the product's terms; publishes ``ProgramPurchased`` (billing
    may invoice it like a package). A customer buys for itself."""
    owner = principal.customer_scope(customer_id)
    if owner is None:
        raise RuleBroken("customer_id", "required")
    tenant_id = principal.tenant_id
    program_id = uuid.uuid4()
    programs = ProgramRepository(uow.session, tenant_id)
    if idempotency_key is not None:
        keys = IdempotencyKeys(uow.session, tenant_id, idempotency_keys)
        asked = {"customer_id": owner, "product_id": product_id}
        earlier = await keys.claim("program", idempotency_key, asked, program_id, what="purchase")
        if earlier is not None:
            return Bought(await programs.require(earlier), created=False)
    account = await AccountRepository(uow.session, tenant_id).get(owner)
    if account is not None:
        account.require_open()
    product = await ProgramProductRepository(uow.session, tenant_id).get(product_id)
    program = Program.bought(
        product,
        tenant_id=tenant_id,
        customer_id=owner,
        actor=principal.sub,
        now=now or utcnow(),
        program_id=program_id,
    )
    await programs.add(program)
    uow.publish_recorded(program)
    await uow.commit()
    return Bought(program, created=True)


async def _progress(
    programs: ProgramRepository, found: list[Program], now: datetime
) -> list[Progress]:
    upcoming = await programs.next_sessions([p.id for p in found], now)
    return [Progress(p, p.state(now), p.sessions_left, upcoming.get(p.id)) for p in found]


async def page(
    uow: UnitOfWork,
    principal: Principal,
    *,
    customer_id: uuid.UUID | None,
    after: CreatedKey | None = None,
    limit: int,
    now: datetime | None = None,
) -> list[Progress]:
    """Programs with their progress, oldest first (one past ``limit``); a customer sees
    only its own."""
    programs = ProgramRepository(uow.session, principal.tenant_id)
    found = await programs.page(limit + 1, after, customer_id=principal.customer_scope(customer_id))
    return await _progress(programs, found, now or utcnow())


async def get(
    uow: UnitOfWork, principal: Principal, program_id: uuid.UUID, *, now: datetime | None = None
) -> Progress:
    programs = ProgramRepository(uow.session, principal.tenant_id)
    program = await programs.require(program_id)
    principal.ensure_sees(program.customer_id, "program")
    return (await _progress(programs, [program], now or utcnow()))[0]


async def void_of(uow: UnitOfWork, tenant_id: uuid.UUID, customer_id: uuid.UUID) -> None:
    """The customer was deleted: their programs can no longer pay (the caller commits)."""
    programs = ProgramRepository(uow.session, tenant_id)
    for program in await programs.lock_open_of(customer_id):
        program.void()
        await programs.save(program)
