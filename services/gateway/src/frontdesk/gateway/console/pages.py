"""What the console's and self-service's pages share: the visit (the browser's session,
the signed-in principal, the public API with its token, kept fresh), rendering with
Jinja2, CSRF checks, redirects with a one-time message, and the display filters (money in
minor units, times in a zone)."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import jinja2
from babel.numbers import format_currency, get_currency_precision
from fastapi import Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute

from frontdesk.gateway.console.api import Answer, PublicApi
from frontdesk.gateway.console.session import REFRESHES, Codec, Session
from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit.auth import Permission, Principal, verify_token
from frontdesk.kit.problems import Problem
from frontdesk.kit.service import current_runtime

HERE = Path(__file__).resolve().parent
# Shown where a value is missing (an en dash).
NONE = "\u2013"
# Pages may load only what this origin serves (htmx included); no inline script.
SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "object-src 'none'",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
}


@dataclass(frozen=True)
class Area:
    """The staff console or the customers' self-service: each its own cookie and login."""

    name: str
    prefix: str
    cookie: str
    login: str
    for_customers: bool


CONSOLE = Area("console", "/console", "fd_console", "/console/login", for_customers=False)
SELF_SERVICE = Area("me", "/me", "fd_me", "/me/sign-in", for_customers=True)


class SignedOut(Problem):
    """No session, or one that has ended: the visitor is sent to the login."""

    status = 401
    title = "Signed out"


class Refused(Problem):
    """A page this user may not see (rendered as an error page, not JSON)."""

    status = 403
    title = "Not allowed"


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["money"] = money
    env.filters["local"] = local_time
    env.filters["day"] = local_day
    env.filters["clock"] = clock
    env.globals["query"] = query
    return env


# --- display ---------------------------------------------------------------------------


def money(minor: int | None, currency: str | None, language: str = "en") -> str:
    """Integer minor units as the currency's amount (two, zero or three decimals)."""
    if minor is None or not currency:
        return NONE
    digits = get_currency_precision(currency)
    amount = Decimal(int(minor)).scaleb(-digits)
    return str(format_currency(amount, currency, locale=language or "en"))


def _zone(name: str | None) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def parse_time(value: str | datetime | None) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def local_time(value: str | datetime | None, zone: str | None = None) -> str:
    """'Tue 1 Dec 2026, 18:00' in ``zone`` (an aware time), or as given (a local one)."""
    moment = parse_time(value)
    if moment is None:
        return NONE
    if moment.tzinfo is not None:
        moment = moment.astimezone(_zone(zone))
    return f"{moment:%a} {moment.day} {moment:%b %Y, %H:%M}"


def local_day(value: str | datetime | date | None, zone: str | None = None) -> str:
    if value is None:
        return NONE
    if isinstance(value, date) and not isinstance(value, datetime):
        return f"{value:%a} {value.day} {value:%b %Y}"
    moment = parse_time(value)
    if moment is None:
        return NONE
    if moment.tzinfo is not None:
        moment = moment.astimezone(_zone(zone))
    return f"{moment:%a} {moment.day} {moment:%b %Y}"


def clock(value: str | datetime | None, zone: str | None = None) -> str:
    moment = parse_time(value)
    if moment is None:
        return NONE
    if moment.tzinfo is not None and zone:
        moment = moment.astimezone(_zone(zone))
    return f"{moment:%H:%M}"


def query(base: Mapping[str, Any], **changes: Any) -> str:
    """``base`` as a query string with ``changes`` (None drops a key; lists repeat it)."""
    merged = {**base, **changes}
    pairs: list[tuple[str, str]] = []
    for key, value in merged.items():
        if value is None or value == "" or value == []:
            continue
        for item in value if isinstance(value, list | tuple) else [value]:
            pairs.append((key, str(item)))
    return urlencode(pairs)


def clean(form: Mapping[str, Any], *names: str) -> dict[str, Any]:
    """The named form fields that were filled in (stripped); blank ones are left out."""
    found: dict[str, Any] = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str):
            value = value.strip()
        if value not in (None, ""):
            found[name] = value
    return found


def idempotent(form: Mapping[str, Any]) -> dict[str, str]:
    """The ``Idempotency-Key`` header for a form's request: the key the page rendered into
    the form (a second submit of the same page is the same request), else a new one."""
    return {"Idempotency-Key": str(form.get("key") or uuid.uuid4().hex)}


def as_int(value: Any) -> Any:
    """A number typed in a form, as a number when it is one (else as typed: the API names
    the field in its answer)."""
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return value


TEMPLATES = _environment()


# --- the visit -------------------------------------------------------------------------


class Visit:
    """One browser request: its session, principal and API client."""

    def __init__(self, request: Request, area: Area, session: Session, api: PublicApi) -> None:
        self.request = request
        self.area = area
        self.session = session
        self.api = api
        self.principal: Principal | None = None
        self.dirty = False
        self._tenant: dict[str, Any] | None = None
        settings: GatewaySettings = current_runtime(request).settings
        self.settings = settings
        self.codec = Codec(settings.jwt_secret, area.name)

    @classmethod
    async def open(cls, request: Request, area: Area, *, signed_in: bool = True) -> Visit:
        settings: GatewaySettings = current_runtime(request).settings
        codec = Codec(settings.jwt_secret, area.name)
        found = codec.load(request.cookies.get(area.cookie))
        session = found or Session()
        api = PublicApi(
            request.app,
            str(request.base_url).rstrip("/"),
            request.client.host if request.client else None,
        )
        visit = cls(request, area, session, api)
        visit.dirty = found is None
        request.state.console_visit = visit
        if signed_in:
            await visit._sign_in()
        return visit

    async def _sign_in(self) -> None:
        if not self.session.signed_in:
            raise SignedOut
        if self.session.stale() and not await self.refresh():
            raise SignedOut
        self.api.token = self.session.access_token
        try:
            principal = await verify_token(self.settings, str(self.session.access_token))
        except Problem:
            if not await self.refresh():
                raise SignedOut from None
            principal = await verify_token(self.settings, str(self.session.access_token))
        if principal.is_customer != self.area.for_customers:
            raise SignedOut
        self.principal = principal

    async def refresh(self) -> bool:
        """New tokens from the refresh token (once per token, shared); False when refused."""
        token = self.session.refresh_token
        if not token:
            return False

        async def call(refresh_token: str) -> dict[str, Any] | None:
            answer = await self.api.call(
                "POST", "/v1/auth/refresh", json={"refresh_token": refresh_token}, token=False
            )
            return answer.body if answer.ok else None

        tokens = await REFRESHES.run(token, call)
        if tokens is None:
            self.session.sign_out()
            self.dirty = True
            return False
        self.session.take_tokens(tokens)
        self.api.token = self.session.access_token
        self.dirty = True
        return True

    async def call(self, method: str, path: str, **kwargs: Any) -> Answer:
        """The public API as the signed-in user; a token refused on the way (expired,
        its session ended) is refreshed once, else the user is signed out."""
        answer = await self.api.call(method, path, **kwargs)
        if answer.status == 401 and kwargs.get("token", True):
            if not await self.refresh():
                raise SignedOut
            answer = await self.api.call(method, path, **kwargs)
            if answer.status == 401:
                self.session.sign_out()
                raise SignedOut
        return answer

    async def get(self, path: str, **params: Any) -> Answer:
        return await self.call(
            "GET", path, params={k: v for k, v in params.items() if v is not None}
        )

    # -- who --------------------------------------------------------------------------

    @property
    def me(self) -> Principal:
        assert self.principal is not None
        return self.principal

    def can(self, permission: str) -> bool:
        return self.principal is not None and self.principal.can(Permission(permission))

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Refused(f"This needs the '{permission}' permission.")

    @property
    def is_admin(self) -> bool:
        return self.principal is not None and self.principal.is_admin

    async def tenant(self) -> dict[str, Any]:
        """The tenant's name, zone, currency and language (defaults when unreadable)."""
        if self._tenant is None:
            answer = await self.get("/v1/tenant")
            self._tenant = answer.body if answer.ok and isinstance(answer.body, dict) else {}
            self._tenant.setdefault("name", "Frontdesk")
            self._tenant.setdefault("time_zone", "UTC")
            self._tenant.setdefault("language", "en")
            self._tenant.setdefault("currency", "EUR")
        return self._tenant

    # -- forms ------------------------------------------------------------------------

    async def form(self) -> dict[str, Any]:
        """The posted form, once its CSRF token (field or ``X-CSRF-Token``) matches the
        session's."""
        data = await self.request.form()
        fields: dict[str, Any] = {}
        for key in data:
            values = data.getlist(key)
            fields[key] = values if len(values) > 1 or key.endswith("[]") else values[0]
        sent = self.request.headers.get("x-csrf-token") or str(fields.pop("csrf", ""))
        if not sent or not hmac.compare_digest(sent.encode(), self.session.csrf.encode()):
            raise Problem(
                "The form has expired. Reload the page and send it again.",
                status=403,
                title="Form expired",
            )
        return fields

    # -- answers ----------------------------------------------------------------------

    def flash(self, text: str, kind: str = "ok") -> None:
        self.session.flash = {"kind": kind, "text": text}
        self.dirty = True

    def _finish(self, response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if self.dirty:
            secure = self.request.url.scheme == "https" or self.settings.public_url.startswith(
                "https:"
            )
            response.set_cookie(
                self.area.cookie,
                self.codec.dump(self.session),
                max_age=30 * 24 * 3600 if self.session.signed_in else None,
                path=self.area.prefix,
                httponly=True,
                samesite="strict",
                secure=secure,
            )
        return response

    async def render(self, template: str, status: int = 200, **context: Any) -> Response:
        flash = self.session.flash
        if flash is not None:
            self.session.flash = None
            self.dirty = True
        tenant = await self.tenant() if self.principal is not None else {}
        html = TEMPLATES.get_template(template).render(
            visit=self,
            me=self.principal,
            area=self.area,
            tenant=tenant,
            zone=tenant.get("time_zone", "UTC"),
            language=tenant.get("language", "en"),
            csrf=self.session.csrf,
            flash=flash,
            request=self.request,
            path=self.request.url.path,
            idempotency_key=uuid.uuid4().hex,
            **context,
        )
        return self._finish(HTMLResponse(html, status_code=status))

    def redirect(self, url: str, message: str | None = None, kind: str = "ok") -> Response:
        if message:
            self.flash(message, kind)
        if self.request.headers.get("hx-request"):
            return self._finish(Response(status_code=204, headers={"HX-Redirect": url}))
        return self._finish(RedirectResponse(url, status_code=303))

    def sign_out(self) -> None:
        self.session.sign_out()
        self.dirty = True


# --- the routes ------------------------------------------------------------------------


def _login_redirect(request: Request, area: Area) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    url = area.login if request.method != "GET" else f"{area.login}?{urlencode({'next': target})}"
    visit: Visit | None = getattr(request.state, "console_visit", None)
    if request.headers.get("hx-request"):
        response: Response = Response(status_code=204, headers={"HX-Redirect": url})
    else:
        response = RedirectResponse(url, status_code=303)
    if visit is not None:
        visit.sign_out()
        visit._finish(response)
    return response


def _error_page(request: Request, area: Area, problem: Problem) -> Response:
    visit: Visit | None = getattr(request.state, "console_visit", None)
    body = problem.body()
    html = TEMPLATES.get_template("shared/error.html").render(
        area=area,
        title=body.title,
        detail=body.detail or "",
        status=problem.status,
        csrf=visit.session.csrf if visit else "",
        me=visit.principal if visit else None,
        tenant=(visit._tenant or {}) if visit else {},
        visit=visit,
        path=request.url.path,
        flash=None,
    )
    response = HTMLResponse(html, status_code=problem.status)
    return visit._finish(response) if visit else response


def route_class(area: Area) -> type[APIRoute]:
    """Routes whose visitor must sign in first, and whose refusals are pages."""

    class PageRoute(APIRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handler = super().get_route_handler()

            async def handle(request: Request) -> Response:
                try:
                    return await handler(request)
                except SignedOut:
                    return _login_redirect(request, area)
                except Problem as problem:
                    return _error_page(request, area, problem)
                finally:
                    visit: Visit | None = getattr(request.state, "console_visit", None)
                    if visit is not None:
                        await visit.api.close()

            return handle

    return PageRoute
