"""What every router of the credits service shares: runtime, rule errors, cursors, visibility."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import Depends
from pydantic import BaseModel
from sqlalchemy import RowMapping

from frontdesk.credits.domain import Missing, RuleBroken
from frontdesk.kit import pagination
from frontdesk.kit.auth import CurrentPrincipal, Permission, Principal, require
from frontdesk.kit.problems import Conflict, Forbidden, InvalidInput, NotFound

CreditsManager = Annotated[Principal, Depends(require(Permission.manage_credits))]


@contextlib.contextmanager
def rules(not_found: str = "Not found.") -> Iterator[None]:
    """Broken rules answer 422 (bad input) or 409 (wrong state) naming the field."""
    try:
        yield
    except RuleBroken as error:
        cls = Conflict if error.conflict else InvalidInput
        raise cls.for_field(error.field, str(error)) from None
    except Missing:
        raise NotFound(not_found) from None


def customer_scope(principal: Principal, customer_id: uuid.UUID | None) -> uuid.UUID | None:
    """The customer a read is limited to: a customer token sees only itself
    (asking for anyone else looks like nothing is there)."""
    if principal.is_customer:
        own = principal.customer_id
        if own is None or (customer_id is not None and customer_id != own):
            raise NotFound("No such customer.")
        return own
    return customer_id


def visible(principal: Principal, customer_id: uuid.UUID, what: str) -> None:
    if principal.is_customer and principal.customer_id != customer_id:
        raise NotFound(f"No such {what}.")


def staff_only(principal: CurrentPrincipal) -> Principal:
    if principal.is_customer:
        raise Forbidden("This action is for staff.")
    return principal


# --- keyset cursors ------------------------------------------------------------------


def encode_cursor(*key: Any) -> str:
    return pagination.encode_cursor(list(key))


def created_after(row: RowMapping) -> str:
    """The cursor after a row of a list in creation order."""
    return encode_cursor(row["created_at"], row["id"])


def seq_after(row: RowMapping) -> str:
    """The cursor after a row of a history (in ``seq`` order)."""
    return encode_cursor(row["seq"])


def _decode(cursor: str) -> list[Any]:
    value = pagination.decode_cursor(cursor)
    if not isinstance(value, list):
        raise pagination.bad_cursor()
    return value


def created_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    value = _decode(cursor)
    try:
        created_at, row_id = value
        return datetime.fromisoformat(created_at), uuid.UUID(row_id)
    except (ValueError, TypeError):
        raise pagination.bad_cursor() from None


def seq_cursor(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    value = _decode(cursor)
    if len(value) != 1 or not isinstance(value[0], int):
        raise pagination.bad_cursor()
    return value[0]


class PageOut(BaseModel):
    next_cursor: str | None = None
