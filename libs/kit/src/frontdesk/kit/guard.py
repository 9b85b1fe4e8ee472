"""The edge every service's app shares, as one ASGI middleware in front of FastAPI:

- ``OPTIONS`` answers 204 with ``Allow`` listing every method the path has.
- Authentication runs before a byte of the body is read: a request without a valid token
  (outside the public paths: health, docs, secret-URL feeds) answers 401 at once.
- Bodies are size-limited before parsing: a ``Content-Length`` above the limit answers 413
  at once; a body without one is read only up to the limit.
- Every answer carries ``X-Content-Type-Options: nosniff`` and, unless the route chose its
  own, ``Cache-Control: no-store`` (answers hold personal data).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from fastapi import FastAPI
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from frontdesk.kit.auth import verify_token
from frontdesk.kit.problems import (
    SAFETY_HEADERS,
    Busy,
    Problem,
    Unauthorized,
    problem_response,
)
from frontdesk.kit.settings import Settings

log = logging.getLogger(__name__)

# What to close once the request has been answered (``close_at_end``).
_CLOSING = "frontdesk.closing"

ALWAYS_PUBLIC = (r"/healthz", r"/readyz", r"/docs.*", r"/redoc.*", r"/openapi\.json")
HEALTH = re.compile(r"/healthz|/readyz|/metrics")


class PayloadTooLarge(Problem):
    status = 413
    title = "Payload too large"


class RouteTable:
    """Every path template and its methods, read from the app's OpenAPI document (the
    public description of its routes), built on first use once every router is in."""

    def __init__(self, app: FastAPI) -> None:
        self._app = app
        self._table: list[tuple[re.Pattern[str], frozenset[str], frozenset[str]]] | None = None
        self._any: re.Pattern[str] | None = None

    def _entries(self) -> list[tuple[re.Pattern[str], frozenset[str], frozenset[str]]]:
        if self._table is None:
            table = []
            for template, operations in self._app.openapi().get("paths", {}).items():
                params = frozenset(re.findall(r"{([^}:]+)", template))
                pattern = re.sub(r"{[^}]+}", "[^/]+", re.escape(template).replace(r"\{", "{"))
                pattern = pattern.replace(r"\}", "")
                methods = frozenset(m.upper() for m in operations if m.isalpha())
                table.append((re.compile(pattern), params, methods))
            self._table = table
        return self._table

    def known(self, path: str) -> bool:
        """Whether any route serves ``path``: one match against every template at once (the
        guard asks on every request)."""
        if self._any is None:
            self._any = re.compile("|".join(f"(?:{p.pattern})" for p, _, _ in self._entries()))
        return bool(self._entries()) and self._any.fullmatch(path) is not None

    def methods(self, path: str, *, without: Iterable[str] = ()) -> set[str]:
        """The methods served on ``path`` (ignoring routes that take any of the path
        parameters ``without``). A fixed path wins over a template that would also match
        it (``/v1/customers/stats`` over ``/v1/customers/{id}``): of the matching
        templates, only those with the fewest parameters count."""
        excluded = set(without)
        matching = [
            (len(params), methods)
            for pattern, params, methods in self._entries()
            if not params & excluded and pattern.fullmatch(path)
        ]
        if not matching:
            return set()
        fewest = min(count for count, _ in matching)
        return {m for count, methods in matching if count == fewest for m in methods}


class RequestGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        settings: Settings,
        routes: RouteTable,
        public_paths: Iterable[str] = (),
    ) -> None:
        self.app = app
        self.settings = settings
        self.routes = routes
        self.public = re.compile("|".join(f"(?:{p})" for p in (*ALWAYS_PUBLIC, *public_paths)))
        self.in_flight = 0  # requests under way in this process

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        send = _with_safety_headers(send)
        if self.in_flight >= self.settings.max_requests_in_flight and not HEALTH.fullmatch(
            scope["path"]
        ):
            # More requests under way than the process takes on.
            await problem_response(Busy(retry_after_seconds=1))(scope, receive, send)
            return
        self.in_flight += 1
        try:
            await self._guarded(scope, receive, send)
        finally:
            self.in_flight -= 1

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["method"] == "OPTIONS":
            await self._options(scope, receive, send)
            return
        # An unknown path is a 404 for anyone (the app answers it; there is no body to parse).
        if not self.public.fullmatch(scope["path"]) and self.routes.known(scope["path"]):
            try:
                principal = await verify_token(self.settings, _bearer(scope))
            except Problem as problem:
                await problem_response(problem)(scope, receive, send)
                return
            scope.setdefault("state", {})["principal"] = principal
        length = _content_length(scope)
        limit = self.settings.max_body_bytes
        if length is not None and length > limit:
            await self._too_large(scope, receive, send, limit)
            return
        if length is None and scope["method"] in ("POST", "PUT", "PATCH", "DELETE"):
            body = await _read_at_most(receive, limit)
            if body is None:
                await self._too_large(scope, receive, send, limit)
                return
            receive = _replay(body, receive)
        closing: list[Callable[[], Awaitable[Any]]] = []
        scope[_CLOSING] = closing
        try:
            await self.app(scope, receive, send)
        finally:
            for close in reversed(closing):
                try:
                    await close()
                except Exception:
                    log.exception("closing what the request opened failed")

    async def _options(self, scope: Scope, receive: Receive, send: Send) -> None:
        methods = self.routes.methods(scope["path"])
        if not methods:
            await problem_response(Problem("No such path.", status=404, title="Not found"))(
                scope, receive, send
            )
            return
        allow = ", ".join(sorted(methods | {"OPTIONS"}))
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [
                    (b"allow", allow.encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    async def _too_large(self, scope: Scope, receive: Receive, send: Send, limit: int) -> None:
        problem = PayloadTooLarge(f"The request body is larger than {limit} bytes.")
        await problem_response(problem)(scope, receive, send)


def close_at_end(scope: Scope, close: Callable[[], Awaitable[Any]]) -> None:
    """Run ``close`` once the request has been answered (a streamed answer included),
    however it ended: what a dependency with ``yield`` does, for a fraction of the cost.
    Outside the guard, FastAPI's exit stack of the request runs it."""
    closing = scope.get(_CLOSING)
    if closing is not None:
        closing.append(close)
        return
    stack = scope.get("fastapi_middleware_astack")
    if stack is None:
        raise RuntimeError("close_at_end needs the request guard or FastAPI's exit stack")
    stack.push_async_callback(close)


def _bearer(scope: Scope) -> str:
    for name, value in scope["headers"]:
        if name == b"authorization":
            scheme, _, token = bytes(value).decode("latin-1").partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return token.strip()
            break
    raise Unauthorized("A bearer token is required.", headers={"WWW-Authenticate": "Bearer"})


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


async def _read_at_most(receive: Receive, limit: int) -> bytes | None:
    """The whole body, or None once it passes ``limit`` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, then: Receive) -> Receive:
    """The body read ahead, then whatever the server says next (a disconnect, when the
    client goes away while a streamed answer is still being sent)."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return await then()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return receive


def _with_safety_headers(send: Send) -> Send:
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers: list[Any] = list(message.get("headers", []))
            names = {bytes(name).lower() for name, _ in headers}
            for name, value in SAFETY_HEADERS.items():
                if name.encode() not in names:
                    headers.append((name.encode(), value.encode()))
            message = {**message, "headers": headers}
        await send(message)

    return wrapped
