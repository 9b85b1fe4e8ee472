"""Secrets stored at rest (a tenant's Twilio auth token): encrypted with Fernet
(``cryptography``) under ``FRONTDESK_SECRETS_KEY``, or a key derived from the JWT secret."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken

from frontdesk.notifications.settings import NotificationsSettings


class Secrets:
    def __init__(self, settings: NotificationsSettings) -> None:
        if settings.secrets_key is not None:
            key = settings.secrets_key.get_secret_value().encode()
        else:
            digest = hashlib.sha256(b"frontdesk-notifications:" + settings.jwt_secret.encode())
            key = base64.urlsafe_b64encode(digest.digest())
        self._fernet = Fernet(key)

    def seal(self, secret: str | None) -> str | None:
        return None if secret is None else self._fernet.encrypt(secret.encode()).decode()

    def open(self, sealed: str | None) -> str | None:
        """The secret, or None when it cannot be read (sealed under another key)."""
        if sealed is None:
            return None
        try:
            return self._fernet.decrypt(sealed.encode()).decode()
        except (InvalidToken, ValueError):
            return None
