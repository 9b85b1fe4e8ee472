"""The shared input types every schema of every service uses, so bad input is one 422
naming its field everywhere and never a 500 deeper down.

- ``Line`` / ``Multiline``: text without control characters (NUL cannot be stored), bidi
  overrides or zero-width characters (they disguise names and CSV cells); ``Multiline``
  keeps line breaks and tabs for notes.
- ``Name``: a ``Line`` trimmed with inner whitespace collapsed, never empty.
- ``BoundedDatetime``: a date-time between 1900 and 2200, which PostgreSQL and every
  date sum the domain does (an expiry extended by years) can hold. Only ISO 8601 text or
  a datetime: a bare number is not read as an epoch. A naive value is allowed (services
  that take local wall-clock times read it in the location's zone); ``AwareDatetime``
  requires an offset.
- ``StrictInt`` / ``StrictBool``: JSON integers and booleans only (``true`` is not 1,
  ``"1"`` and ``100.0`` are not integers); ``Count`` is a non-negative ``StrictInt``
  within PostgreSQL's integer.
- ``TimeZoneName``: a canonical IANA zone (``Europe/Berlin``, ``UTC``): not ``localtime``,
  ``Factory``, ``posixrules`` or the legacy aliases such as ``US/Eastern``.
"""

from __future__ import annotations

import re
import unicodedata
import zoneinfo
from datetime import UTC, date, datetime
from functools import cache
from importlib import resources
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, Field, Strict

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1

# Bidi embeddings, overrides and isolates; zero-width space, joiners and the BOM; word joiner.
_INVISIBLE = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f"
    "\u200b\u200c\u200d\u2060\ufeff"
)


def unprintable(value: str, *, multiline: bool = False) -> str | None:
    """Why ``value`` cannot be stored as text, or None when it can."""
    allowed = "\n\r\t" if multiline else ""
    for ch in value:
        if ch in _INVISIBLE:
            return "must not contain invisible or direction-changing characters"
        category = unicodedata.category(ch)
        if category == "Cc" and ch not in allowed:
            return "must not contain control characters"
        if category in ("Cs", "Co", "Cn") or (category == "Cf" and not multiline):
            return "must not contain unassigned, private or formatting characters"
    return None


def _text(*, multiline: bool) -> AfterValidator:
    def check(value: str) -> str:
        problem = unprintable(value, multiline=multiline)
        if problem:
            raise ValueError(problem)
        return value

    return AfterValidator(check)


def _collapse(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be empty")
    return value


Line = Annotated[str, _text(multiline=False)]
Multiline = Annotated[str, _text(multiline=True)]
Name = Annotated[str, _text(multiline=False), AfterValidator(_collapse)]

StrictInt = Annotated[int, Strict(), Field(ge=-INT64_MAX - 1, le=INT64_MAX)]
StrictBool = Annotated[bool, Strict()]
Count = Annotated[int, Strict(), Field(ge=0, le=INT32_MAX)]
PositiveCount = Annotated[int, Strict(), Field(ge=1, le=INT32_MAX)]
MinorUnits = Annotated[int, Strict(), Field(ge=0, le=INT64_MAX // 1000)]

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)


_NUMBER = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")


def _no_numbers(value: Any) -> Any:
    """Pydantic would read a number (or a query string holding one) as a Unix epoch."""
    if isinstance(value, bool | int | float) or (
        isinstance(value, str) and _NUMBER.fullmatch(value)
    ):
        raise ValueError("must be an ISO 8601 date, not a number")
    return value


def _bounded(value: datetime) -> datetime:
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    # Compare in UTC after a safe shift: year 1 with +14:00 would underflow first.
    if not (EARLIEST <= aware <= LATEST):
        raise ValueError(f"must be between {EARLIEST:%Y} and {LATEST:%Y}")
    return value


def _bounded_date(value: date) -> date:
    if not (EARLIEST.date() <= value <= LATEST.date()):
        raise ValueError(f"must be between {EARLIEST:%Y} and {LATEST:%Y}")
    return value


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("must carry a UTC offset (e.g. 2027-01-31T18:00:00+01:00)")
    return value


BoundedDatetime = Annotated[datetime, BeforeValidator(_no_numbers), AfterValidator(_bounded)]
AwareDatetime = Annotated[
    datetime, BeforeValidator(_no_numbers), AfterValidator(_aware), AfterValidator(_bounded)
]
BoundedDate = Annotated[date, BeforeValidator(_no_numbers), AfterValidator(_bounded_date)]


def in_bounds(value: datetime) -> bool:
    """Whether a computed instant (an expiry pushed by days) stays storable."""
    try:
        _bounded(value)
    except ValueError:
        return False
    return True


_AREAS = re.compile(
    r"^(Africa|America|Antarctica|Arctic|Asia|Atlantic|Australia|Europe|Indian|Pacific)/[A-Za-z0-9_+\-/]+$"
)


@cache
def canonical_zones() -> frozenset[str]:
    """Zones the IANA database defines (``Z`` lines of tzdata.zi) or names for a country
    (zone.tab: Europe/Amsterdam, now a link, is still what the Dutch choose), never its
    legacy aliases (Asia/Calcutta, Europe/Kiev, US/Eastern), plus UTC."""
    folder = resources.files("tzdata").joinpath("zoneinfo")
    source = folder.joinpath("tzdata.zi").read_text()
    defined = {line.split()[1] for line in source.splitlines() if line.startswith("Z ")}
    for line in folder.joinpath("zone.tab").read_text().splitlines():
        if line and not line.startswith("#"):
            defined.add(line.split("\t")[2])
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name == "UTC" or (name in defined and _AREAS.match(name))
    )


def _zone(value: str) -> str:
    if value not in canonical_zones():
        raise ValueError("must be a canonical IANA time zone such as Europe/Berlin or UTC")
    return value


TimeZoneName = Annotated[
    str,
    Field(min_length=1, max_length=64, examples=["Europe/Berlin"]),
    AfterValidator(_zone),
]
