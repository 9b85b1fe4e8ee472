import uuid
from typing import Any

from sqlalchemy import text

from frontdesk.kit.auth import Principal, Role

ADMIN = "admin"


async def make_product(client, tokens, **overrides: Any) -> dict[str, Any]:
    body = {
        "name": "10 classes",
        "credits": 10,
        "price_minor": 9900,
        "currency": "EUR",
        "validity_days": 90,
        **overrides,
    }
    r = await client.post("/v1/credit-products", json=body, headers=tokens.headers(ADMIN))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def grant(
    client, tokens, customer_id: uuid.UUID, credits: int, **extra: Any
) -> dict[str, Any]:
    body = {
        "customer_id": str(customer_id),
        "credits": credits,
        "name": f"{credits} credits",
        **extra,
    }
    r = await client.post("/v1/credit-packages", json=body, headers=tokens.headers(ADMIN))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


def acting(tokens, sub: str = "t") -> Principal:
    """The principal an application command is called with directly (an admin)."""
    return Principal(sub=sub, tenant_id=tokens.tenant_id, role=Role.admin)


async def make_plan(client, tokens, **overrides: Any) -> dict[str, Any]:
    body = {"name": "Gold", "discount_percent": 10, "duration_days": 30, **overrides}
    r = await client.post("/v1/membership-plans", json=body, headers=tokens.headers(ADMIN))
    assert r.status_code == 201, r.text
    return r.json()  # type: ignore[no-any-return]


async def row_counts(runtime, tenant_id: uuid.UUID, tables: tuple[str, ...]) -> dict[str, int]:
    """Rows of the tenant in each table (what a refused request must not have written)."""
    async with runtime.engine.connect() as conn:
        return {
            table: (
                await conn.execute(
                    text(f"SELECT count(*) FROM {table} WHERE tenant_id = :t"), {"t": tenant_id}
                )
            ).scalar()
            for table in tables
        }
