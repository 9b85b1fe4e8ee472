"""Sending a webhook: signed per Standard Webhooks (the ``standardwebhooks`` package):
``webhook-id``, ``webhook-timestamp`` and ``webhook-signature`` (HMAC-SHA256 of
``id.timestamp.body`` with the endpoint's secret)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import httpx
from standardwebhooks import Webhook

from frontdesk.gateway.domain.webhooks import Attempt


class WebhookSender:
    def __init__(self, timeout: float) -> None:
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout),
            follow_redirects=False,
            headers={"User-Agent": "Frontdesk-Webhooks/1"},
        )

    async def send(self, url: str, secret: str, message_id: str, body: str) -> tuple[Attempt, int]:
        """What the attempt came to, and how long it took (ms)."""
        now = datetime.now(UTC)
        signature = Webhook(secret).sign(message_id, now, body)
        headers = {
            "content-type": "application/json",
            "webhook-id": message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }
        started = time.perf_counter()
        try:
            response = await self.client.post(url, content=body.encode(), headers=headers)
            attempt = Attempt(
                response.status_code,
                None if response.is_success else f"HTTP {response.status_code}",
            )
        except httpx.HTTPError as error:
            attempt = Attempt(None, f"{type(error).__name__}: {error}"[:500])
        return attempt, int((time.perf_counter() - started) * 1000)

    async def close(self) -> None:
        await self.client.aclose()
