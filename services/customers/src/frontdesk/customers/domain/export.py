"""CSV export rules (C10): columns, money formatting, formula neutralisation."""

from __future__ import annotations

import functools
import re
import sys
import unicodedata
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

# Cells a spreadsheet would read as a formula (or that hide one behind a control char).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Phones are stored validated as E.164: "+" and digits only, which no spreadsheet runs.
E164 = re.compile(r"\+[1-9][0-9]{6,14}")
ZERO_DECIMAL = {"JPY", "KRW", "CLP", "ISK", "VND", "XAF", "XOF", "HUF"}

COLUMNS = [
    "first_name",
    "last_name",
    "email",
    "phone",
    "status",
    "tags",
    "bookings",
    "lifetime_spend",
    "currency",
    "first_booking",
    "last_booking",
    "credits",
]


# The export runs in the database (COPY): ``adapters.listing.export_statement`` writes
# these rules as SQL, and a test keeps the two in step.
TEXT_COLUMNS = (0, 1, 2, 3, 4, 5, 8)  # cells a user typed (or a currency): neutralised


@functools.cache
def invisible_ranges() -> tuple[tuple[int, int], ...]:
    """The code point ranges of Unicode format characters (category Cf: zero-width, bidi
    marks), which ``_first_visible`` passes over."""
    ranges: list[tuple[int, int]] = []
    for point in range(sys.maxunicode + 1):
        if unicodedata.category(chr(point)) == "Cf":
            if ranges and ranges[-1][1] == point - 1:
                ranges[-1] = (ranges[-1][0], point)
            else:
                ranges.append((point, point))
    return tuple(ranges)


def _first_visible(value: str) -> str:
    """The cell as a spreadsheet may read it: compatibility forms folded (NFKC turns a
    fullwidth equals sign, U+FF1D, into ``=``) and leading invisible characters (zero-width, bidi
    marks: Unicode format characters) passed over."""
    folded = unicodedata.normalize("NFKC", value)
    start = 0
    while start < len(folded) and unicodedata.category(folded[start]) == "Cf":
        start += 1
    return folded[start:]


def neutralise(value: str) -> str:
    """A cell starting like a formula gets a leading apostrophe (OWASP CSV injection),
    also when the formula hides behind invisible characters or fullwidth forms."""
    if value.startswith(FORMULA_START) or _first_visible(value).startswith(FORMULA_START):
        return "'" + value
    return value


def format_money(amount_minor: int, currency: str | None) -> str:
    if currency in ZERO_DECIMAL:
        return str(amount_minor)
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(amount_minor), 100)
    return f"{sign}{units}.{cents:02d}"


def cells(row: Any, zone: str = "UTC") -> list[str]:
    """A row's cells; times in ``zone`` (the tenant's), with their offset."""

    def when(value: datetime | None) -> str:
        return value.astimezone(ZoneInfo(zone)).isoformat() if value is not None else ""

    raw = [
        row["first_name"],
        row["last_name"],
        row["email"] or "",
        row["phone"] or "",
        row["status"],
        ";".join(row["tags"]),
        str(row["bookings_count"]),
        format_money(row["lifetime_spend_minor"], row["currency"]),
        row["currency"] or "",
        when(row["first_booking_at"]),
        when(row["last_booking_at"]),
        str(row["credits_available"]),
    ]
    # Only text the user typed can start a formula; numbers are ours, but negative
    # amounts are written as-is by format_money and stay numeric for spreadsheets.
    # An E.164 phone stays as it is, so a mailing tool reads a usable number.
    return [
        c if i in (6, 7, 11) or (i == 3 and E164.fullmatch(c)) else neutralise(c)
        for i, c in enumerate(raw)
    ]
