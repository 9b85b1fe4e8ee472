"""Signing keys: one active key signs every new access token; a retired key stays in the
JWKS until every token it signed has expired, so a rotation invalidates nothing."""

from __future__ import annotations

from datetime import datetime, timedelta

# Published a little past the last expiry, for clocks that disagree.
GRACE = timedelta(minutes=2)


def due_for_rotation(created_at: datetime, now: datetime, rotate_days: float) -> bool:
    return now - created_at >= timedelta(days=rotate_days)


def still_published(retired_at: datetime | None, now: datetime, access_ttl_seconds: int) -> bool:
    """Whether a retired key may still verify tokens it signed before retiring."""
    return retired_at is None or now - retired_at < timedelta(seconds=access_ttl_seconds) + GRACE
