"""Issue 16: the export's cells are made by the database (COPY); the SQL and the Python rule
(``domain.export.cells``) are kept in step here, on the cells that are hard to get right."""

from datetime import UTC, datetime

from sqlalchemy import Integer, String, column, select, values
from sqlalchemy.dialects.postgresql import ARRAY, TIMESTAMP

from frontdesk.customers.adapters.listing import export_cells
from frontdesk.customers.domain.export import cells

TEXTS = [
    "Ada",
    "=1+1",
    "+vip",
    "-2",
    "@Smith",
    "\tx",
    "\rx",
    "'=quoted",
    '\u200b=HYPERLINK("http://x")',
    "\u202e=1+1",
    "\ufeff\u200d@SUM(A1)",
    "\uff1dcmd",
    "\uff0b1+2",
    "\uff0d2",
    "\uff20SUM",
    "\u200b\uff1d1",
    "\u200bAda",
    "Ada\uff1d",
    'Zoë, "the" one',
    "",
]
PHONES = [None, "+447911123456", "+1+cmd|' /C calc'!A0", "=1", "\uff0b44"]
TIMES = [
    None,
    datetime(2025, 6, 1, 12, 30, tzinfo=UTC),
    datetime(2025, 6, 1, 12, 30, 5, 120, tzinfo=UTC),
    datetime(1, 1, 2, tzinfo=UTC),
]
MONEY = [(0, None), (123456, "EUR"), (5, "EUR"), (-150, "GBP"), (1500, "JPY"), (-7, "HUF")]


def rows():
    n = max(len(TEXTS), len(PHONES), len(TIMES), len(MONEY))
    for i in range(n):
        text = TEXTS[i % len(TEXTS)]
        amount, currency = MONEY[i % len(MONEY)]
        yield {
            "first_name": text or "A",
            "last_name": TEXTS[(i + 3) % len(TEXTS)] or "B",
            "email": TEXTS[(i + 5) % len(TEXTS)] or None,
            "phone": PHONES[i % len(PHONES)],
            "status": "active",
            "tags": [t for t in (TEXTS[(i + 7) % len(TEXTS)], "vip") if t],
            "bookings_count": i,
            "lifetime_spend_minor": amount,
            "currency": currency,
            "first_booking_at": TIMES[i % len(TIMES)],
            "last_booking_at": TIMES[(i + 1) % len(TIMES)],
            "credits_available": i - 3,
        }


async def test_sql_cells_agree_with_the_domain_rule(runtime):
    data = list(rows())
    table = values(
        column("n", Integer),
        column("first_name", String),
        column("last_name", String),
        column("email", String),
        column("phone", String),
        column("status", String),
        column("tags", ARRAY(String)),
        column("bookings_count", Integer),
        column("lifetime_spend_minor", Integer),
        column("currency", String),
        column("first_booking_at", TIMESTAMP(timezone=True)),
        column("last_booking_at", TIMESTAMP(timezone=True)),
        column("credits_available", Integer),
        name="v",
    ).data([(i, *row.values()) for i, row in enumerate(data)])
    async with runtime.engine.connect() as conn:
        got = (await conn.execute(select(*export_cells(table.c)).order_by(table.c.n))).all()
    assert len(got) == len(data)
    for row, sql in zip(data, got, strict=True):
        # An empty cell is NULL in SQL, which CSV writes as nothing.
        assert [cell or "" for cell in sql] == cells(row), row
