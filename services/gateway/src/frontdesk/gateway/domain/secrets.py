"""One-time secrets handed to a person (refresh tokens, invitation, reset and sign-in
links): ``<tenant id>.<random>``. Only their SHA-256 digest is stored, so a copy of the
database signs nobody in; the tenant part lets every lookup filter by tenant."""

from __future__ import annotations

import hashlib
import re
import secrets
import uuid

_SHAPE = re.compile(r"([0-9a-f]{32})\.([A-Za-z0-9_-]{43})")


def new_secret(tenant_id: uuid.UUID) -> str:
    return f"{tenant_id.hex}.{secrets.token_urlsafe(32)}"


def digest(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


def read_secret(secret: str) -> tuple[uuid.UUID, bytes] | None:
    """The tenant a secret belongs to and its digest; None when it is not one of ours."""
    found = _SHAPE.fullmatch(secret)
    if found is None:
        return None
    return uuid.UUID(found.group(1)), digest(secret)
