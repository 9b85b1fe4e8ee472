"""Outgoing webhooks: a tenant's endpoints, each for chosen event types, and deliveries.

- An endpoint's URL is HTTPS on a public host (plain http and private addresses only
  outside production, for development receivers).
- A delivery is one event to one endpoint, signed per Standard Webhooks with the
  endpoint's secret; its id (``webhook-id``) stays the same through every retry and replay,
  so a receiver can drop a repeat.
- A failed attempt (no answer, or not 2xx) is retried after growing delays (about a day in
  all); after the last the delivery is failed. A replay starts the schedule again.
"""

from __future__ import annotations

import base64
import dataclasses
import ipaddress
import secrets
import uuid
from collections.abc import Collection, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Self
from urllib.parse import urlsplit

from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError, RuleBroken

PENDING, SUCCEEDED, FAILED = "pending", "succeeded", "failed"


def new_secret() -> str:
    """A Standard Webhooks secret: ``whsec_`` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def check_url(url: str, *, allow_insecure: bool) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise RuleBroken("url", "must be an absolute https URL")
    if parts.username or parts.password:
        raise RuleBroken("url", "must not carry credentials")
    if allow_insecure:
        return url
    if parts.scheme != "https":
        raise RuleBroken("url", "must use https")
    host = parts.hostname
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise RuleBroken("url", "must be a public host")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not address.is_global:
        raise RuleBroken("url", "must be a public address")
    return url


def check_event_types(event_types: Iterable[str], known: Collection[str]) -> list[str]:
    chosen = sorted(set(event_types))
    if not chosen:
        raise RuleBroken("event_types", "choose at least one event type")
    unknown = [t for t in chosen if t not in known]
    if unknown:
        raise RuleBroken("event_types", f"unknown event type(s): {', '.join(unknown)}")
    return chosen


@dataclasses.dataclass(kw_only=True, eq=False)
class WebhookEndpoint(Aggregate):
    url: str
    event_types: list[str]
    secret: str
    description: str | None = None
    active: bool = True
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def register(
        cls,
        tenant_id: uuid.UUID,
        *,
        url: str,
        event_types: Iterable[str],
        description: str | None,
        known_types: Collection[str],
        allow_insecure: bool,
    ) -> Self:
        return cls(
            id=uuid.uuid4(),
            tenant_id=tenant_id,
            url=check_url(url, allow_insecure=allow_insecure),
            event_types=check_event_types(event_types, known_types),
            secret=new_secret(),
            description=description,
        )

    def edit(
        self, changes: Mapping[str, Any], *, known_types: Collection[str], allow_insecure: bool
    ) -> None:
        values = dict(changes)
        if "url" in values:
            values["url"] = check_url(values["url"], allow_insecure=allow_insecure)
        if "event_types" in values:
            values["event_types"] = check_event_types(values["event_types"], known_types)
        self.change(**values)

    def wants(self, event_type: str) -> bool:
        return self.active and event_type in self.event_types


@dataclasses.dataclass(frozen=True)
class Attempt:
    """What one attempt came to."""

    status_code: int | None
    error: str | None

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclasses.dataclass(kw_only=True, eq=False)
class Delivery(Aggregate):
    endpoint_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    payload: dict[str, Any]
    status: str = PENDING
    attempts: int = 0
    round_attempts: int = 0
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None

    @classmethod
    def of_event(
        cls,
        endpoint: WebhookEndpoint,
        *,
        event_id: uuid.UUID,
        event_type: str,
        payload: dict[str, Any],
        now: datetime,
    ) -> Self:
        return cls(
            id=uuid.uuid4(),
            tenant_id=endpoint.tenant_id,
            endpoint_id=endpoint.id,
            event_id=event_id,
            event_type=event_type,
            payload=payload,
            next_attempt_at=now,
        )

    def attempted(self, attempt: Attempt, now: datetime, delays: Sequence[float]) -> None:
        """Record an attempt: delivered, retried after the next delay, or failed for good."""
        changes: dict[str, Any] = {
            "attempts": self.attempts + 1,
            "last_status_code": attempt.status_code,
            "last_error": (attempt.error or "")[:500] or None,
        }
        if attempt.succeeded:
            changes.update(status=SUCCEEDED, delivered_at=now, next_attempt_at=None)
        elif self.round_attempts < len(delays):
            changes.update(
                round_attempts=self.round_attempts + 1,
                next_attempt_at=now + timedelta(seconds=delays[self.round_attempts]),
            )
        else:
            changes.update(status=FAILED, next_attempt_at=None)
        self.change(**changes)

    def replay(self, now: datetime) -> None:
        """Send it again now, with a fresh retry schedule (whatever it came to before)."""
        if self.status == PENDING and self.round_attempts == 0 and self.attempts == 0:
            raise ConflictError("This delivery has not been attempted yet.")
        self.change(status=PENDING, round_attempts=0, next_attempt_at=now)
