"""Signing keys: the active one (made on first need), the JWKS (the active key and the
retired ones still verifying tokens they signed), rotation and the sweep."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from frontdesk.gateway.adapters.keys import SigningKeyRepository, generate, unseal
from frontdesk.gateway.domain.keys import due_for_rotation, still_published
from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit.auth import SigningKey
from frontdesk.kit.uow import UnitOfWork


def _secret(settings: GatewaySettings) -> str:
    return settings.signing_key_passphrase or settings.jwt_secret


async def active_key(uow: UnitOfWork, settings: GatewaySettings) -> SigningKey:
    """The key that signs now; the first call of a new deployment makes it."""
    repo = SigningKeyRepository(uow.session)
    row = await repo.active()
    if row is None:
        await repo.add_active(generate(settings.signing_algorithm), _secret(settings))
        await uow.commit()
        row = await repo.active()
        assert row is not None
    return unseal(row, _secret(settings))


async def jwks(uow: UnitOfWork, settings: GatewaySettings) -> dict[str, Any]:
    """The public keys that verify: the active one (made if there is none yet) and the
    retired ones whose tokens may still be valid."""
    now = datetime.now(UTC)
    repo = SigningKeyRepository(uow.session)
    if await repo.active() is None:
        await active_key(uow, settings)
    rows = await repo.all()
    return {
        "keys": [
            row["public_jwk"]
            for row in rows
            if still_published(row["retired_at"], now, settings.access_token_ttl_seconds)
        ]
    }


async def rotate(uow: UnitOfWork, settings: GatewaySettings) -> str:
    """A new key signs from now on; the old one verifies what it signed until that expires."""
    repo = SigningKeyRepository(uow.session)
    await repo.retire_active(datetime.now(UTC))
    key = generate(settings.signing_algorithm)
    await repo.add_active(key, _secret(settings))
    await uow.commit()
    return key.kid


async def maintain(
    uow: UnitOfWork, settings: GatewaySettings, now: datetime | None = None
) -> dict[str, Any]:
    """The worker's sweep: a key when none, a new one when the active one is old, and
    retired keys removed once nothing they signed can still be valid."""
    now = now or datetime.now(UTC)
    repo = SigningKeyRepository(uow.session)
    rows = await repo.all()
    active = next((r for r in rows if r["status"] == "active"), None)
    rotated = None
    if active is None or due_for_rotation(
        active["created_at"], now, settings.signing_key_rotate_days
    ):
        rotated = await rotate(uow, settings)
    expired = [
        r["kid"]
        for r in rows
        if r["status"] == "retired"
        and not still_published(r["retired_at"], now, settings.access_token_ttl_seconds)
    ]
    await repo.delete(expired)
    await uow.commit()
    return {"rotated": rotated, "removed": expired}
