"""Browsers on the origins named in ``FRONTDESK_CORS_ORIGINS`` may call the API (CORS):
the gateway answers their preflights itself, in front of everything else (a preflight
carries no token, and the services behind it never see one), and marks its answers, the
services' included, as readable by that origin. Tokens travel in the Authorization
header, never in cookies, so credentials stay off."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from frontdesk.gateway.settings import GatewaySettings
from frontdesk.kit.problems import Problem, problem_response

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
# What the API reads from a request beyond the CORS-safelisted headers.
REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "If-Match",
    "If-None-Match",
    "Prefer",
    "X-Request-ID",
    "traceparent",
    "tracestate",
)
# What a script may read of an answer beyond the safelisted ones.
RESPONSE_HEADERS = (
    "ETag",
    "Location",
    "Retry-After",
    "X-Request-ID",
    "Preference-Applied",
    "RateLimit-Limit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
    "RateLimit-Policy",
)


class Refused(Problem):
    status = 400
    title = "CORS preflight refused"


class Cors(CORSMiddleware):
    """Starlette's, with a refused preflight answered as problem+json like any bad input."""

    def preflight_response(self, request_headers: Headers) -> Response:
        answer = super().preflight_response(request_headers)
        if answer.status_code < 400:
            return answer
        # Starlette's text names what failed: the origin, the method or the headers.
        detail = bytes(answer.body).decode(errors="replace")
        vary = {"Vary": answer.headers["vary"]} if "vary" in answer.headers else None
        return problem_response(
            Refused(f"{detail}. Allowed methods: {', '.join(METHODS)}.", headers=vary)
        )


def middleware(settings: GatewaySettings) -> Middleware | None:
    if not settings.cors_origins:
        return None
    return Middleware(
        Cors,
        allow_origins=settings.cors_origins,
        allow_methods=METHODS,
        allow_headers=REQUEST_HEADERS,
        expose_headers=RESPONSE_HEADERS,
        allow_credentials=False,
        max_age=settings.cors_max_age_seconds,
    )
