"""Households (C14): a member (a child) linked to one payer (a parent) who books and pays
for them. No framework code here."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from frontdesk.contracts.customers import HouseholdLinked, HouseholdUnlinked
from frontdesk.customers.domain.customer import Customer
from frontdesk.kit.errors import ConflictError, RuleBroken
from frontdesk.kit.types import unprintable

RELATION_MAX = 50


def clean_relation(raw: str | None) -> str | None:
    """A free word for the link ("child", "partner"), trimmed; blank means none."""
    if raw is None or not raw.strip():
        return None
    relation = " ".join(raw.split()).lower()
    problem = unprintable(relation)
    if problem:
        raise RuleBroken("relation", problem)
    if len(relation) > RELATION_MAX:
        raise RuleBroken("relation", f"at most {RELATION_MAX} characters")
    return relation


def link(
    payer: Customer,
    member: Customer,
    *,
    current_payer: uuid.UUID | None,
    payer_chain: Sequence[uuid.UUID],
    relation: str | None,
) -> HouseholdLinked:
    """The link of ``member`` to ``payer``, or why not: a member has at most one payer
    (``current_payer``), and no one pays for their own payer, however far up
    (``payer_chain``: the payer's payer, that one's payer, ...)."""
    if payer.id == member.id:
        raise RuleBroken("member_id", "A customer cannot pay for themselves.")
    for who, customer in (("payer", payer), ("member", member)):
        if customer.erased or customer.merged:
            raise ConflictError(f"The {who} record was erased or merged; it cannot be linked.")
    if current_payer == payer.id:
        raise ConflictError("This member is already linked to this payer.")
    if current_payer is not None:
        raise ConflictError(
            f"This member already has a payer ({current_payer}); unlink them first."
        )
    if member.id in payer_chain:
        raise ConflictError("The member pays for this payer already: the link would be a cycle.")
    return HouseholdLinked(payer_id=payer.id, member_id=member.id, relation=relation)


def unlink(payer_id: uuid.UUID, member_id: uuid.UUID) -> HouseholdUnlinked:
    return HouseholdUnlinked(payer_id=payer_id, member_id=member_id)
