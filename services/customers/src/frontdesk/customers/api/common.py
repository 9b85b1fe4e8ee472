"""What every router of the service shares (HTTP only): the typed runtime, who may call,
``If-Match``, the list filters' types and the shapes of the cursors the lists give out."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Response
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, Strict
from sqlalchemy import RowMapping

from frontdesk.customers.domain.customer import clean_tag
from frontdesk.customers.domain.listing import Sort
from frontdesk.customers.settings import CustomersSettings
from frontdesk.kit.auth import Permission, Principal, require, require_admin
from frontdesk.kit.pagination import CursorInt, bad_cursor, decode_cursor, encode_cursor
from frontdesk.kit.service import Runtime, runtime_dependency

CustomersRuntime = Annotated[Runtime[CustomersSettings], Depends(runtime_dependency)]

Editor = Annotated[Principal, Depends(require(Permission.add_participants))]
Admin = Annotated[Principal, Depends(require_admin())]
NoteReader = Annotated[Principal, Depends(require(Permission.view_notes))]


def answer(
    model: BaseModel, *, status_code: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``model`` as JSON, serialised once by pydantic's core. (The route's ``response_model``
    still documents it; returning it would have FastAPI dump, validate and serialise it
    again.)"""
    return Response(
        model.model_dump_json(),
        status_code=status_code,
        media_type="application/json",
        headers=headers,
    )


# -- list filters -------------------------------------------------------------------------

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    """A calendar date as ISO text only: a number would be read as a Unix epoch."""
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("must be an ISO 8601 date (YYYY-MM-DD)")
    return value


# Any day of the calendar bounds a filter on when records were registered (its ends mean
# "no bound"; the query never adds a day past the last one).
FilterDate = Annotated[date, BeforeValidator(_iso_date)]


def _tags(raw: list[str]) -> list[str]:
    return [clean_tag(tag) for tag in raw]


# Tags to filter by, compared as they are stored (a bad one names ``tag``).
TagFilter = Annotated[list[str], AfterValidator(_tags)]


# -- cursors ------------------------------------------------------------------------------


def _utc(value: datetime) -> datetime:
    """In UTC (a time without an offset is UTC), within what PostgreSQL can compare."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("time out of range") from None


def _no_nul(value: str) -> str:
    if "\x00" in value:
        raise ValueError("NUL cannot be compared")
    return value


# What a cursor's key may hold: the sort keys the lists give out (a time without activity
# sorts at year 1 or 9999, so any storable time), never anything the database cannot take.
CursorTime = Annotated[datetime, Strict(), AfterValidator(_utc)]
CursorText = Annotated[str, Strict(), AfterValidator(_no_nul)]
CursorInt4 = Annotated[CursorInt, Field(ge=-(2**31), lt=2**31)]
# A search's relevance: a finite number (its match, 0 or 1, plus a similarity up to 1).
CursorScore = Annotated[float, Strict(), Field(allow_inf_nan=False, ge=0, le=2)]

K = TypeVar("K")


class _ListCursor(BaseModel, Generic[K]):
    """A list cursor: its sort order, and the sort key and id of the page's last row."""

    model_config = ConfigDict(strict=True)

    s: str
    k: K
    i: uuid.UUID


_LIST_KEYS: dict[str, Any] = {
    "last_activity": _ListCursor[CursorTime],
    "last_name": _ListCursor[CursorText],
    "revenue": _ListCursor[CursorInt],
    "bookings": _ListCursor[CursorInt4],
    "purchased_credits": _ListCursor[CursorInt4],
    "created": _ListCursor[CursorTime],
    "relevance": _ListCursor[CursorScore],
}


def list_cursor(cursor: str | None, sort: Sort) -> tuple[Any, uuid.UUID] | None:
    """Where the page after ``cursor`` starts; 400 naming ``cursor`` for one this list did
    not give out, or gave out for another sort order."""
    if not cursor:
        return None
    key = decode_cursor(cursor, _LIST_KEYS[sort.name])
    if key.s != sort.token:
        raise bad_cursor("this cursor belongs to another sort order")
    return key.k, key.i


def list_cursor_of(sort: Sort, row: RowMapping) -> str:
    return encode_cursor({"s": sort.token, "k": row["sort_key"], "i": row["id"]})


class _ActivityCursor(BaseModel):
    model_config = ConfigDict(strict=True)

    t: CursorTime
    i: uuid.UUID


def activity_cursor(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if not cursor:
        return None
    key = decode_cursor(cursor, _ActivityCursor)
    return key.t, key.i


def activity_cursor_of(row: RowMapping) -> str:
    return encode_cursor({"t": row["occurred_at"], "i": row["id"]})
