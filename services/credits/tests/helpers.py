import uuid
from typing import Any

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
