"""Opaque keyset cursors: the sort key of the last row, as url-safe base64 JSON, signed."""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
from collections.abc import Callable, Sequence
from typing import Annotated, Any, TypeVar

import orjson
from fastapi import Query
from pydantic import Field, Strict, TypeAdapter, ValidationError

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


# Cursors are signed (HMAC-SHA256, truncated) so a list only ever reads keys it gave out:
# a forged cursor (2**63, ``true``, year 9999) is a 400, never a query that fails.
_SIGNATURE_BYTES = 12
_key = hashlib.sha256(b"frontdesk-cursor:unconfigured").digest()


def configure(secret: str) -> None:
    """Sign cursors with a key derived from this deployment's secret (the Runtime calls it)."""
    global _key
    _key = hmac.new(secret.encode(), b"frontdesk-cursor", hashlib.sha256).digest()


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(payload: bytes) -> bytes:
    return hmac.new(_key, payload, hashlib.sha256).digest()[:_SIGNATURE_BYTES]


def encode_cursor(key: Any) -> str:
    """``key`` is any JSON-able value; datetimes become ISO text, and values orjson does not
    know (asyncpg's own UUID type) become their text."""
    payload = orjson.dumps(key, default=str)
    return f"{_b64(payload)}.{_b64(_sign(payload))}"


@functools.cache
def _adapter(shape: Any) -> TypeAdapter[Any]:
    return TypeAdapter(shape)


def decode_cursor(cursor: str, shape: Any = None) -> Any:
    """The key given to ``encode_cursor``, checked against ``shape`` (a type such as
    ``tuple[AwareDatetime, uuid.UUID]``) when given; a cursor this deployment did not sign,
    or of another shape, answers 400 naming it."""
    try:
        body, signature = cursor.split(".", 1)
        payload = _unb64(body)
        if not hmac.compare_digest(_unb64(signature), _sign(payload)):
            raise bad_cursor()
        if shape is None:
            return orjson.loads(payload)
        return _adapter(shape).validate_json(payload)
    except (binascii.Error, ValueError, TypeError, ValidationError):
        raise bad_cursor() from None


# A cursor's integer (a sequence number, an offset) as PostgreSQL's bigint holds it.
CursorInt = Annotated[int, Strict(), Field(ge=-(2**63), lt=2**63)]
