"""Customers as billing knows them (from customers' events), and the bill-to details an
invoice copies at issue."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Mapping
from typing import Any

BILL_TO_FIELDS = ("name", "address", "email", "tax_id")
# What erasure keeps of an issued document's bill-to details: what the law requires on
# an invoice (the buyer's name and address, a business buyer's tax id).
KEPT_ON_ERASURE = ("name", "address", "tax_id")


@dataclasses.dataclass(frozen=True)
class KnownCustomer:
    customer_id: uuid.UUID
    first_name: str
    last_name: str
    email: str | None = None

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


def bill_to(
    customer_id: uuid.UUID,
    known: KnownCustomer | None,
    given: Mapping[str, Any] | None,
) -> dict[str, Any]:
    """What the invoice says about its buyer: the details given on the draft, else what
    billing knows of the customer now (a customer it has not heard of yet by id)."""
    details: dict[str, Any] = dict.fromkeys(BILL_TO_FIELDS)
    if known is not None:
        details["name"] = known.name
        details["email"] = known.email
    for key, value in (given or {}).items():
        if key in details and value is not None:
            details[key] = value
    if not details["name"]:
        details["name"] = f"Customer {str(customer_id)[:8]}"
    return details


def scrubbed(details: Mapping[str, Any] | None) -> dict[str, Any] | None:
    """Bill-to details after erasure: the legally required part only."""
    if details is None:
        return None
    return {key: (details.get(key) if key in KEPT_ON_ERASURE else None) for key in details}
