"""The services behind the gateway, over pooled HTTP connections (httpx)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx

log = logging.getLogger(__name__)


class Upstream:
    def __init__(
        self,
        urls: Mapping[str, str],
        *,
        connect_timeout: float,
        timeout: float,
        max_connections: int,
        max_keepalive: int,
    ) -> None:
        self.urls = {name: url.rstrip("/") for name, url in urls.items()}
        self.client = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=connect_timeout, pool=connect_timeout),
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_keepalive
            ),
            follow_redirects=False,
        )

    async def open(
        self,
        service: str,
        method: str,
        path: str,
        headers: list[tuple[bytes, bytes]],
        body: AsyncIterator[bytes] | None,
    ) -> httpx.Response:
        """Send the request and return once the answer's head arrived (its body streams)."""
        request = self.client.build_request(
            method, self.urls[service] + path, headers=headers, content=body
        )
        return await self.client.send(request, stream=True)

    async def document(self, service: str) -> dict[str, Any] | None:
        """The service's OpenAPI document, or None while it cannot be read."""
        try:
            response = await self.client.get(f"{self.urls[service]}/openapi.json", timeout=3.0)
            response.raise_for_status()
            document: dict[str, Any] = response.json()
            return document
        except (httpx.HTTPError, ValueError) as error:
            log.info("no OpenAPI document from %s: %r", service, error)
            return None

    async def close(self) -> None:
        await self.client.aclose()
