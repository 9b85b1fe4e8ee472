"""Subscribable calendar feeds: calendar apps cannot send a bearer token, so a feed is a
secret URL. Only the secret's SHA-256 is kept; the secret is shown once."""

from __future__ import annotations

import hashlib
import re
import secrets

_SECRET = re.compile(r"^[A-Za-z0-9_-]{32,128}$")


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def could_be_secret(text: str) -> bool:
    """Whether ``text`` has the shape of a secret we give out (anything else: no feed)."""
    return _SECRET.match(text) is not None


def feed_name(name: str | None) -> str | None:
    """A feed's name as shown in calendar apps; blank: none."""
    return name.strip() if name and name.strip() else None
