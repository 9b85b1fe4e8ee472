"""Opaque keyset cursors: the sort key of the last row, as url-safe base64 JSON."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Query

from frontdesk.kit.problems import Problem

# Every list of every service pages alike: ``limit`` rows (1 to MAX_PAGE, DEFAULT_PAGE
# unless given) after the opaque ``cursor`` of the previous page.
DEFAULT_PAGE = 50
MAX_PAGE = 200
PageLimit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"rows per page (1 to {MAX_PAGE})")]


Row = TypeVar("Row")


def split_page(
    rows: Sequence[Row], limit: int, cursor_of: Callable[[Row], str]
) -> tuple[list[Row], str | None]:
    """``rows`` read with ``limit + 1``: the page, and the cursor of its last row when more
    follow (looking one row ahead, so the last page is never an empty one)."""
    page = list(rows[:limit])
    return page, cursor_of(page[-1]) if len(rows) > limit and page else None


def bad_cursor(message: str = "not a cursor this list gave out") -> Problem:
    return Problem.for_field("cursor", message, title="Bad cursor")


def encode_cursor(key: Any) -> str:
    """``key`` is any JSON-able value; datetimes become ISO text, and values orjson does not
    know (asyncpg's own UUID type) become their text."""
    return base64.urlsafe_b64encode(orjson.dumps(key, default=str)).decode().rstrip("=")


def decode_cursor(cursor: str) -> Any:
    """The key given to ``encode_cursor``; a cursor that is not one answers 400 naming it."""
    try:
        return orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, TypeError):
        raise bad_cursor() from None
