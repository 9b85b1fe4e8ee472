"""The browser's session: the signed-in user's tokens in an encrypted, HttpOnly,
SameSite=Strict cookie (no server-side store), a CSRF token for its forms, and one
message to show after a redirect.

The access token is short-lived; the refresh token works once. Two requests of one
browser that both find the access token stale must not both present the refresh token
(the second would look like a stolen copy and end the session), so a refresh is done
once per process under a lock and its result is kept briefly for the other requests.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import secrets
import time
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography.fernet import Fernet, InvalidToken

# A cookie older than the refresh token's life is useless anyway.
MAX_AGE_SECONDS = 30 * 24 * 3600
# Refresh this long before the access token expires (clocks and slow requests).
REFRESH_MARGIN_SECONDS = 30.0
# How long a refresh's result is handed to other requests that still carry the old token.
SHARED_REFRESH_SECONDS = 60.0


@dataclass
class Session:
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))
    access_token: str | None = None
    refresh_token: str | None = None
    # Unix time the access token stops working.
    expires_at: float = 0.0
    flash: dict[str, str] | None = None

    @property
    def signed_in(self) -> bool:
        return self.access_token is not None

    def stale(self) -> bool:
        return self.signed_in and time.time() > self.expires_at - REFRESH_MARGIN_SECONDS

    def take_tokens(self, answer: dict[str, Any]) -> None:
        """A login, refresh or redeemed link answer (``TokenOut``)."""
        self.access_token = str(answer["access_token"])
        self.refresh_token = str(answer["refresh_token"])
        self.expires_at = time.time() + float(answer["expires_in"])

    def sign_out(self) -> None:
        self.access_token = self.refresh_token = None
        self.expires_at = 0.0
        self.csrf = secrets.token_urlsafe(24)


class Codec:
    """Session <-> cookie value: Fernet (AES with an HMAC), keyed from the deployment's
    secret, so a cookie can be neither read nor forged in the browser."""

    def __init__(self, secret: str, purpose: str) -> None:
        digest = hashlib.sha256(f"frontdesk-console:{purpose}:{secret}".encode()).digest()
        self._fernet = Fernet(base64.urlsafe_b64encode(digest))

    def dump(self, session: Session) -> str:
        return self._fernet.encrypt(json.dumps(asdict(session)).encode()).decode()

    def load(self, value: str | None) -> Session | None:
        if not value:
            return None
        try:
            raw = json.loads(self._fernet.decrypt(value.encode(), ttl=MAX_AGE_SECONDS))
            return Session(**raw)
        except (InvalidToken, ValueError, TypeError):
            return None


class Refreshes:
    """One refresh per refresh token in this process; its answer shared for a minute."""

    def __init__(self) -> None:
        self._locks: dict[str, asyncio.Lock] = {}
        self._done: dict[str, tuple[float, dict[str, Any]]] = {}

    @staticmethod
    def _key(refresh_token: str) -> str:
        return hashlib.sha256(refresh_token.encode()).hexdigest()

    def _forget_old(self) -> None:
        now = time.monotonic()
        for key in [k for k, (at, _) in self._done.items() if now - at > SHARED_REFRESH_SECONDS]:
            self._done.pop(key, None)
            lock = self._locks.get(key)
            if lock is not None and not lock.locked():
                self._locks.pop(key, None)

    async def run(self, refresh_token: str, call: Any) -> dict[str, Any] | None:
        """The new tokens (``call(refresh_token)`` at most once per token), or None when
        the refresh was refused."""
        self._forget_old()
        key = self._key(refresh_token)
        lock = self._locks.setdefault(key, asyncio.Lock())
        async with lock:
            done = self._done.get(key)
            if done is not None:
                return done[1]
            answer: dict[str, Any] | None = await call(refresh_token)
            if answer is not None:
                self._done[key] = (time.monotonic(), answer)
            return answer


REFRESHES = Refreshes()
