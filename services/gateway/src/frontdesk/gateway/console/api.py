"""The console's only way to data: the public API, ``/v1/...`` of this same gateway,
called in-process (through every middleware: the token check, rate limits, routing to the
owning service) with the signed-in user's bearer token and the browser's address. So
everything the console shows or does is something any API client may do."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from starlette.types import ASGIApp

PROBLEM = "application/problem+json"
# Longer than the longest Prefer: wait the console asks for.
TIMEOUT_SECONDS = 40.0


@dataclass
class Answer:
    status: int
    body: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    content: bytes = b""

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def missing(self) -> bool:
        """Not there for this user (another tenant's id looks the same), or a service that
        is not deployed or not reachable: the page shows an empty state."""
        return self.status in (404, 502, 503, 504)

    def field_errors(self) -> dict[str, str]:
        """problem+json field errors by field name (the first message of each)."""
        found: dict[str, str] = {}
        if isinstance(self.body, dict):
            for error in self.body.get("errors") or []:
                name = str(error.get("field", ""))
                found.setdefault(name, str(error.get("message", "")))
        return found

    @property
    def message(self) -> str:
        """What went wrong, in the API's words."""
        if self.status == 412:
            return "Changed by someone else since you opened it. Reload to see their change."
        if self.status == 429:
            wait = self.headers.get("retry-after", "a few")
            return f"Too many requests. Try again in {wait} seconds."
        if isinstance(self.body, dict):
            detail = self.body.get("detail") or self.body.get("title")
            if detail:
                return str(detail)
        if self.status in (502, 503, 504):
            return "That part of Frontdesk is not reachable right now. Try again shortly."
        return f"The request failed ({self.status})."

    def items(self) -> list[dict[str, Any]]:
        """A page's items (or a plain list), empty when the call failed."""
        if not self.ok:
            return []
        if isinstance(self.body, list):
            return self.body
        if isinstance(self.body, dict):
            return list(self.body.get("items") or [])
        return []


class PublicApi:
    """One browser request's client of the public API."""

    def __init__(self, app: ASGIApp, base_url: str, address: str | None) -> None:
        transport = httpx.ASGITransport(
            app=app, raise_app_exceptions=False, client=(address or "127.0.0.1", 0)
        )
        self._client = httpx.AsyncClient(
            transport=transport, base_url=base_url, timeout=TIMEOUT_SECONDS
        )
        self.token: str | None = None

    async def close(self) -> None:
        await self._client.aclose()

    async def call(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Any = None,
        headers: Mapping[str, str] | None = None,
        token: bool = True,
    ) -> Answer:
        sent = {"x-request-id": uuid.uuid4().hex, **(headers or {})}
        if token and self.token:
            sent["authorization"] = f"Bearer {self.token}"
        response = await self._client.request(method, path, json=json, params=params, headers=sent)
        body: Any = None
        kind = response.headers.get("content-type", "")
        if kind.startswith(("application/json", PROBLEM)) and response.content:
            try:
                body = response.json()
            except ValueError:
                body = None
        return Answer(response.status_code, body, response.headers, response.content)
