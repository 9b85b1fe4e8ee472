"""What every router of the billing service shares (HTTP only): who may manage or read
billing, cursor shapes, documented answers, PDF answers."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import Depends, Response

from frontdesk.billing.settings import BillingSettings
from frontdesk.kit.auth import CurrentPrincipal, Permission, Principal, require
from frontdesk.kit.pagination import CursorInt, decode_cursor, encode_cursor, split_page
from frontdesk.kit.problems import PROBLEM_JSON, Forbidden, ProblemBody
from frontdesk.kit.service import Runtime, runtime_dependency
from frontdesk.kit.types import AwareDatetime

BillingManager = Annotated[Principal, Depends(require(Permission.manage_billing))]


async def billing_reader(principal: CurrentPrincipal) -> Principal:
    """A customer reads its own documents; staff need ``manage_billing``."""
    if not principal.is_customer and not principal.can(Permission.manage_billing):
        raise Forbidden("Billing needs the 'manage_billing' permission.")
    return principal


BillingReader = Annotated[Principal, Depends(billing_reader)]
BillingRuntime = Annotated[Runtime[BillingSettings], Depends(runtime_dependency)]


def pdf_response(name: str, content: bytes) -> Response:
    return Response(
        content,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


PDF_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/pdf": {}}, "description": "The document as a PDF"}
}

# --- keyset cursors: signed by the kit, read back against their shape -------------------

CreatedCursor = tuple[AwareDatetime, uuid.UUID]  # lists in creation order
SeqCursor = tuple[CursorInt]  # the journal and statements in seq order


class Created(Protocol):
    @property
    def id(self) -> uuid.UUID: ...

    @property
    def created_at(self) -> Any: ...


C = TypeVar("C", bound=Created)


def created_after(cursor: str | None) -> CreatedCursor | None:
    if cursor is None:
        return None
    key: CreatedCursor = decode_cursor(cursor, CreatedCursor)
    return key


def created_page(items: Sequence[C], limit: int) -> tuple[list[C], str | None]:
    return split_page(items, limit, lambda item: encode_cursor([item.created_at, item.id]))


def seq_after(cursor: str | None) -> int | None:
    return None if cursor is None else int(decode_cursor(cursor, SeqCursor)[0])


def seq_cursor(seq: int | None) -> str | None:
    return None if seq is None else encode_cursor([seq])


def problem(description: str) -> dict[str, Any]:
    return {"model": ProblemBody, "content": {PROBLEM_JSON: {}}, "description": description}
