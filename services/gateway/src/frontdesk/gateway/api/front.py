"""The front door: every ``/v1/...`` path the gateway does not serve itself goes on to the
service that owns it (streamed both ways, over pooled connections, with the request id,
the trace context and the client's address), ``OPTIONS`` included; browsers on the
origins in ``FRONTDESK_CORS_ORIGINS`` get their preflights answered here; one OpenAPI
document for the whole API at ``/openapi.json`` with Swagger UI at ``/docs`` (no CDN: its
files come from ``FRONTDESK_DOCS_ASSETS_DIR`` or the installed package, else a plain HTML
reference); the JWKS services verify tokens with; the AsyncAPI catalogue of events."""

from __future__ import annotations

import contextlib
import html
import importlib
import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, StreamingResponse
from opentelemetry.propagate import inject
from starlette.background import BackgroundTask
from starlette.middleware import Middleware
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from frontdesk.contracts import asyncapi
from frontdesk.gateway.api import cors
from frontdesk.gateway.application import edge
from frontdesk.gateway.application import gate as gates
from frontdesk.gateway.domain.edge import top_segment
from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit.auth import Principal, verify_token
from frontdesk.kit.problems import Problem, Unauthorized, problem_response
from frontdesk.kit.service import current_runtime

PUBLIC = (r"/\.well-known/jwks\.json", r"/asyncapi\.json")
METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]
WITH_BODY = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Meaningful for one connection only (RFC 9110 7.6.1), never passed on.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
# Replaced by the gateway's own values.
REPLACED = frozenset(
    {
        b"host",
        b"x-request-id",
        b"traceparent",
        b"tracestate",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-for",
        b"forwarded",
    }
)
REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,128}")


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """The process's gate (Redis, the upstream pool, its own JWKS) for as long as the app
    runs, with its own middleware in front; the gateway's merged OpenAPI and docs replace
    FastAPI's built-in ones."""
    gate = gates.of(app.state.runtime)
    install_edge(app, gate.settings)
    builtin = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
    app.router.routes[:] = [
        route for route in app.router.routes if not (type(route) is Route and route.path in builtin)
    ]
    mark = getattr(app.router, "_mark_routes_changed", None)
    if mark is not None:
        mark()
    try:
        yield
    finally:
        await gate.close()


router = APIRouter(lifespan=lifespan)


class ProxiedOptions:
    """``OPTIONS`` of a path a service serves goes to that service (which answers with its
    ``Allow``): the request guard behind this knows only the gateway's own paths, and
    answered 404 for every proxied one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "OPTIONS":
            await self.app(scope, receive, send)
            return
        segment = top_segment(scope["path"])
        if segment is None or segment in gates.OWN_PREFIXES:
            await self.app(scope, receive, send)
            return
        try:
            response = await proxy(Request(scope, receive))
        except Problem as refused:
            response = problem_response(refused)
        await response(scope, receive, send)


def install_edge(app: FastAPI, settings: GatewaySettings) -> None:
    """CORS (when origins are configured), then proxied ``OPTIONS``, both in front of the
    kit's request guard. The kit builds the app, so this runs at startup: the middleware
    stack is built again once with them in it, before any request."""
    if any(getattr(m, "cls", None) == ProxiedOptions for m in app.user_middleware):
        return
    found = [m for m in (cors.middleware(settings), Middleware(ProxiedOptions)) if m is not None]
    app.user_middleware[0:0] = found
    app.middleware_stack = app.build_middleware_stack()


def _settings(request: Request) -> GatewaySettings:
    settings: GatewaySettings = current_runtime(request).settings
    return settings


@router.get("/.well-known/jwks.json", include_in_schema=True, tags=["auth"])
async def jwks(request: Request) -> JSONResponse:
    """The public keys access tokens are signed with (the active one and the retired ones
    whose tokens may still be valid)."""
    document = await gates.of(current_runtime(request)).jwks()
    return JSONResponse(document, headers={"Cache-Control": "public, max-age=60"})


@router.get("/asyncapi.json", include_in_schema=False)
async def events() -> JSONResponse:
    return JSONResponse(asyncapi.document())


@router.get("/openapi.json", include_in_schema=False)
async def openapi(request: Request) -> JSONResponse:
    gate = gates.of(current_runtime(request))
    return JSONResponse(await edge.merged_openapi(gate, request.app.openapi()))


def assets_dir(settings: GatewaySettings) -> Path | None:
    """Swagger UI's own files: a folder named by setting (an operator's choice wins), else
    the installed package that bundles them (``swagger-ui-bundle-v2``, a dependency); None
    when there are none (never a CDN)."""
    if settings.docs_assets_dir:
        path = Path(settings.docs_assets_dir)
        if (path / "swagger-ui-bundle.js").exists():
            return path
    try:
        bundle = importlib.import_module("swagger_ui_bundle")
        path = Path(str(bundle.swagger_ui_path))
        if (path / "swagger-ui-bundle.js").exists():
            return path
    except (ImportError, AttributeError):
        pass
    return None


SWAGGER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Frontdesk API</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body><div id="ui"></div><script src="/docs/assets/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/openapi.json", dom_id: "#ui", deepLinking: true});</script>
</body></html>"""


def plain_reference(document: dict[str, Any]) -> str:
    """The API reference as plain HTML (no script, no outside file): every operation,
    grouped by tag, with its summary."""
    rows: dict[str, list[str]] = {}
    for path, operations in sorted(document.get("paths", {}).items()):
        for method, operation in operations.items():
            if not isinstance(operation, dict):
                continue
            tag = (operation.get("tags") or [operation.get("x-service", "other")])[0]
            summary = operation.get("summary") or operation.get("description", "").split("\n")[0]
            rows.setdefault(tag, []).append(
                f"<tr><td><code>{html.escape(method.upper())}</code></td>"
                f"<td><code>{html.escape(path)}</code></td><td>{html.escape(summary)}</td></tr>"
            )
    sections = "".join(
        f"<h2>{html.escape(tag)}</h2><table>{''.join(items)}</table>"
        for tag, items in sorted(rows.items())
    )
    info = document.get("info", {})
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(info.get('title', 'API'))}</title><style>"
        "body{font-family:system-ui,sans-serif;margin:2rem;max-width:70rem}"
        "td{padding:.2rem .8rem;vertical-align:top}code{white-space:nowrap}</style></head><body>"
        f"<h1>{html.escape(info.get('title', 'API'))}</h1>"
        f"<p>{html.escape(info.get('description', ''))}</p>"
        '<p>The machine-readable document: <a href="/openapi.json">/openapi.json</a>. '
        "(An interactive Swagger UI is served here once its files are installed: "
        "the <code>swagger-ui-bundle</code> package or <code>FRONTDESK_DOCS_ASSETS_DIR</code>.)"
        f"</p>{sections}</body></html>"
    )


@router.get("/docs", include_in_schema=False)
async def docs(request: Request) -> HTMLResponse:
    settings = _settings(request)
    if assets_dir(settings) is not None:
        return HTMLResponse(SWAGGER)
    gate = gates.of(current_runtime(request))
    return HTMLResponse(plain_reference(await edge.merged_openapi(gate, request.app.openapi())))


@router.get("/docs/assets/{name}", include_in_schema=False)
async def docs_asset(name: str, request: Request) -> FileResponse:
    folder = assets_dir(_settings(request))
    if folder is None or not re.fullmatch(r"[A-Za-z0-9._-]+\.(js|css|png|map)", name):
        raise Problem("No such file.", status=404, title="Not found")
    path = (folder / name).resolve()
    if path.parent != folder.resolve() or not path.is_file():
        raise Problem("No such file.", status=404, title="Not found")
    return FileResponse(path, headers={"Cache-Control": "public, max-age=86400"})


# --- the proxy ---------------------------------------------------------------------------


def _bearer(request: Request) -> str | None:
    value = request.headers.get("authorization")
    if value is None:
        return None
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("A bearer token is required.", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id")
    return given if given and REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def _upstream_headers(request: Request, request_id: str) -> list[tuple[bytes, bytes]]:
    headers = [
        (name, value)
        for name, value in request.scope["headers"]
        if name not in HOP_BY_HOP and name not in REPLACED
    ]
    address = request.client.host if request.client else None
    forwarded_for = request.headers.get("x-forwarded-for")
    chain = ", ".join(v for v in (forwarded_for, address) if v)
    headers.append((b"x-request-id", request_id.encode()))
    if chain:
        headers.append((b"x-forwarded-for", chain.encode("latin-1")))
    headers.append((b"x-forwarded-proto", request.url.scheme.encode()))
    if "host" in request.headers:
        headers.append((b"x-forwarded-host", request.headers["host"].encode("latin-1")))
    carrier: dict[str, str] = {}
    inject(carrier)  # the gateway's span is the parent of the service's
    headers.extend((k.encode(), v.encode()) for k, v in carrier.items())
    return headers


async def proxy(request: Request) -> Response:
    runtime = current_runtime(request)
    gate = gates.of(runtime)
    path = request.url.path
    service = await edge.owner_of(gate, path, request.app.openapi())
    if service is None:
        own = request.app.state.route_table.methods(path)
        if own:
            raise Problem(
                f"{request.method} is not allowed here.",
                status=405,
                title="Method not allowed",
                headers={"Allow": ", ".join(sorted(own))},
            )
        raise Problem("No such path.", status=404, title="Not found")
    token = _bearer(request)
    principal: Principal | None = None
    if token is not None:
        principal = await verify_token(runtime.settings, token)
    address = request.client.host if request.client else None
    verdict = await edge.admit(gate, edge.request_limits(gate, principal, address), principal)
    request_id = _request_id(request)
    target = request.scope.get("raw_path", path.encode()).decode("latin-1")
    if request.url.query:
        target += "?" + request.url.query
    has_body = "content-length" in request.headers or "transfer-encoding" in request.headers
    body = request.stream() if has_body or request.method in WITH_BODY else None
    upstream = await edge.forward(
        gate, service, request.method, target, _upstream_headers(request, request_id), body
    )
    response = StreamingResponse(
        upstream.aiter_raw(),
        status_code=upstream.status_code,
        background=BackgroundTask(upstream.aclose),
    )
    response.raw_headers = [
        (name.lower(), value)
        for name, value in upstream.headers.raw
        if name.lower() not in HOP_BY_HOP
    ]
    response.headers["x-request-id"] = request_id
    for name, value in verdict.headers.items():
        response.headers[name] = value
    return response


router.add_route("/v1/{rest:path}", proxy, methods=METHODS, include_in_schema=False)
