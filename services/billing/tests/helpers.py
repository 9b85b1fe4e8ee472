import uuid
from typing import Any

from sqlalchemy import text

ADMIN = "admin"


def line(price: int, **extra: Any) -> dict[str, Any]:
    return {"description": "Personal training", "unit_price_minor": price, **extra}


async def draft(
    client, tokens, customer_id: uuid.UUID | None = None, **body: Any
) -> dict[str, Any]:
    payload = {
        "customer_id": str(customer_id or uuid.uuid4()),
        "lines": [line(10_000, tax_rate_bp=1900)],
        **body,
    }
    r = await client.post("/v1/invoices", json=payload, headers=tokens.headers(ADMIN))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def issued(
    client, tokens, customer_id: uuid.UUID | None = None, **body: Any
) -> dict[str, Any]:
    made = await draft(client, tokens, customer_id, **body)
    r = await client.post(f"/v1/invoices/{made['id']}/issue", headers=tokens.headers(ADMIN))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def pay(client, tokens, invoice_id: str, amount: int, method: str = "cash") -> dict[str, Any]:
    r = await client.post(
        "/v1/payments",
        json={"invoice_id": invoice_id, "amount_minor": amount, "method": method},
        headers=tokens.headers(ADMIN),
    )
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def invoice(client, tokens, invoice_id: str) -> dict[str, Any]:
    r = await client.get(f"/v1/invoices/{invoice_id}", headers=tokens.headers(ADMIN))
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def position(client, tokens, customer_id: Any) -> dict[str, Any]:
    r = await client.get(
        f"/v1/ledger/position?customer_id={customer_id}", headers=tokens.headers(ADMIN)
    )
    assert r.status_code == 200, r.text
    found = r.json()
    return found[0] if found else {}  # type: ignore[no-any-return]


async def postings_sum(runtime, tenant_id: uuid.UUID, customer_id: Any) -> int:
    """The customer's balance straight from the postings table (receivable and credit)."""
    async with runtime.engine.connect() as conn:
        return int(
            (
                await conn.execute(
                    text(
                        "SELECT coalesce(sum(amount_minor), 0) FROM postings WHERE tenant_id = :t "
                        "AND customer_id = :c AND account IN ('receivable', 'customer_credit')"
                    ),
                    {"t": tenant_id, "c": uuid.UUID(str(customer_id))},
                )
            ).scalar()
        )


async def row_counts(runtime, tenant_id: uuid.UUID, tables: tuple[str, ...]) -> dict[str, int]:
    async with runtime.engine.connect() as conn:
        return {
            table: (
                await conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}
                )
            ).scalar()
            for table in tables
        }
