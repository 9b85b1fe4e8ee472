"""Signing keys (the deployment's, not a tenant's): stored with the private half
encrypted by a passphrase (PKCS#8), and made with ``cryptography``."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import RowMapping, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdesk.gateway.adapters.tables import signing_keys
from frontdesk.kit.auth import SigningKey
from frontdesk.kit.upsert import insert as pg_insert


def generate(algorithm: str) -> SigningKey:
    private: Any = (
        Ed25519PrivateKey.generate()
        if algorithm == "EdDSA"
        else rsa.generate_private_key(public_exponent=65537, key_size=3072)
    )
    return SigningKey(f"{algorithm.lower()}-{uuid.uuid4().hex[:16]}", algorithm, private)


def _passphrase(secret: str) -> bytes:
    return hashlib.sha256(b"frontdesk-signing-key:" + secret.encode()).digest()


def seal(key: SigningKey, secret: str) -> str:
    return key.private_key.private_bytes(  # type: ignore[no-any-return]
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(_passphrase(secret)),
    ).decode()


def unseal(row: RowMapping, secret: str) -> SigningKey:
    private = serialization.load_pem_private_key(row["private_pem"].encode(), _passphrase(secret))
    return SigningKey(row["kid"], row["algorithm"], private)


class SigningKeyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self) -> RowMapping | None:
        t = signing_keys
        return (
            (await self.session.execute(select(t).where(t.c.status == "active"))).mappings().first()
        )

    async def add_active(self, key: SigningKey, secret: str) -> bool:
        """Store ``key`` as the active one; False when another process made one first."""
        t = signing_keys
        stmt = (
            pg_insert(t)
            .values(
                kid=key.kid,
                algorithm=key.algorithm,
                private_pem=seal(key, secret),
                public_jwk=key.public_jwk(),
                status="active",
            )
            .on_conflict_do_nothing()
            .returning(t.c.kid)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def retire_active(self, now: datetime) -> None:
        t = signing_keys
        await self.session.execute(
            update(t).where(t.c.status == "active").values(status="retired", retired_at=now)
        )

    async def all(self) -> Sequence[RowMapping]:
        t = signing_keys
        return (
            (await self.session.execute(select(t).order_by(t.c.created_at.desc()))).mappings().all()
        )

    async def delete(self, kids: Sequence[str]) -> None:
        if kids:
            await self.session.execute(delete(signing_keys).where(signing_keys.c.kid.in_(kids)))
