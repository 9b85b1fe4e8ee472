"""RFC 9457 problem+json for every error, with field errors for validation."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from frontdesk.kit.db import sqlstate, unavailable
from frontdesk.kit.errors import DomainError

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class FieldError(BaseModel):
    field: str
    message: str


class ProblemBody(BaseModel):
    """The documented shape of every error response."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[FieldError] | None = None


class Problem(Exception):
    status = 400
    title = "Bad request"

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: list[FieldError] | None = None,
        status: int | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        if status is not None:
            self.status = status
        if title is not None:
            self.title = title
        self.headers = headers

    @classmethod
    def for_field(cls, field: str, message: str, **kwargs: Any) -> Problem:
        return cls(message, errors=[FieldError(field=field, message=message)], **kwargs)

    def body(self) -> ProblemBody:
        return ProblemBody(
            type=f"https://frontdesk.dev/problems/{self.title.lower().replace(' ', '-')}",
            title=self.title,
            status=self.status,
            detail=self.detail,
            errors=self.errors,
        )


class InvalidInput(Problem):
    status = 422
    title = "Invalid input"


class Unauthorized(Problem):
    status = 401
    title = "Unauthorized"


class Forbidden(Problem):
    status = 403
    title = "Forbidden"


class NotFound(Problem):
    status = 404
    title = "Not found"


class Conflict(Problem):
    status = 409
    title = "Conflict"


class PreconditionFailed(Problem):
    status = 412
    title = "Precondition failed"


class Busy(Problem):
    """Overload, not a bug: nothing was changed and the same request may come again."""

    status = 503
    title = "Service unavailable"

    def __init__(self, retry_after_seconds: int) -> None:
        super().__init__(
            "The service is busy; nothing was changed. Try again shortly.",
            headers={"Retry-After": str(retry_after_seconds)},
        )


def patch_changes(body: BaseModel, not_null: Iterable[str], **dump: Any) -> dict[str, Any]:
    """The fields a PATCH body sets; 422 naming the field when one that cannot be
    cleared is sent as null (absent means unchanged, null would mean "remove")."""
    changes = body.model_dump(exclude_unset=True, **dump)
    for field in not_null:
        if field in changes and changes[field] is None:
            raise InvalidInput.for_field(field, "must not be null")
    return changes


def from_domain(error: DomainError) -> Problem:
    """The one translation of a domain error into its HTTP answer."""
    errors = [FieldError(field=error.field, message=error.message)] if error.field else None
    return Problem(
        error.message,
        errors=errors,
        status=error.status,
        title=error.title,
        headers=error.headers,
    )


# Every answer carries these (kit.guard adds them; a problem answered by the outermost
# error handler, outside the guard, carries them itself): answers hold personal data.
SAFETY_HEADERS = {"x-content-type-options": "nosniff", "cache-control": "no-store"}


def problem_response(problem: Problem) -> JSONResponse:
    return JSONResponse(
        problem.body().model_dump(exclude_none=True),
        status_code=problem.status,
        media_type=PROBLEM_JSON,
        headers={**SAFETY_HEADERS, **(problem.headers or {})},
    )


def _field_name(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


def install(app: FastAPI) -> None:
    async def on_problem(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(exc)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        allow = _fixed_path_methods(request, exc)
        if allow:
            return problem_response(
                Problem(
                    f"{request.method} is not allowed here.",
                    status=405,
                    title="Method not allowed",
                    headers={"Allow": ", ".join(sorted(allow))},
                )
            )
        errors = [
            FieldError(field=_field_name(tuple(e["loc"])), message=str(e["msg"]))
            for e in exc.errors()
        ]
        return problem_response(InvalidInput("The request has invalid fields.", errors=errors))

    async def on_http(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        return problem_response(
            Problem(
                str(exc.detail),
                status=exc.status_code,
                title=_title(exc.status_code),
                headers=dict(exc.headers or {}),
            )
        )

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DBAPIError)
        if getattr(exc.orig, "sqlstate", None) in RETRYABLE_SQLSTATES:
            # A deadlock victim or a serialization failure: PostgreSQL rolled the whole
            # transaction back, so nothing changed and the same request may simply be sent again.
            log.warning("transaction aborted by PostgreSQL (%s); answering 409", exc.orig)
            return problem_response(
                Conflict(
                    "A concurrent change got in the way; nothing was changed. Send it again.",
                    title="Concurrent change",
                    headers={"Retry-After": "1"},
                )
            )
        if unavailable(exc):
            return await on_unavailable(request, exc)
        if isinstance(exc.orig, Exception) and sqlstate(exc).startswith("22"):
            return await on_unstorable(request, exc)
        return await on_error(request, exc)

    async def on_unstorable(_: Request, exc: Exception) -> JSONResponse:
        # A safety net behind the shared input types: a value PostgreSQL cannot hold (data
        # exception, SQLSTATE class 22) or date arithmetic that overflows came from the input;
        # the transaction rolled back, nothing changed.
        log.warning("input the database or the calendar cannot hold: %r", exc)
        return problem_response(
            InvalidInput("A value in the request is out of the range that can be stored.")
        )

    async def on_unavailable(_: Request, exc: Exception) -> JSONResponse:
        # The database refused or had no connection to give in time: overload, not a bug.
        log.warning("database unavailable (%r); answering 503", exc)
        return problem_response(Busy(retry_after_seconds=2))

    async def on_error(request: Request, exc: Exception) -> JSONResponse:
        if unavailable(exc):
            return await on_unavailable(request, exc)
        log.exception("unhandled error", exc_info=exc)
        return problem_response(Problem(status=500, title="Internal server error"))

    async def on_domain(_: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, DomainError)
        return problem_response(from_domain(exc))

    app.add_exception_handler(Problem, on_problem)
    app.add_exception_handler(DomainError, on_domain)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(DBAPIError, on_database)
    app.add_exception_handler(PoolTimeout, on_unavailable)
    app.add_exception_handler(OverflowError, on_unstorable)
    app.add_exception_handler(Exception, on_error)


def _fixed_path_methods(request: Request, exc: RequestValidationError) -> set[str]:
    """``PATCH /v1/customers/stats`` reached ``PATCH /v1/customers/{id}`` only because no
    route serves PATCH on the fixed path: when only path parameters failed and a route
    without those parameters serves this path, the answer is 405 with what it allows."""
    failed = {str(e["loc"][1]) for e in exc.errors() if len(e["loc"]) > 1}
    if not failed or any(e["loc"][0] != "path" for e in exc.errors()):
        return set()
    table = getattr(request.app.state, "route_table", None)
    return set() if table is None else table.methods(request.url.path, without=failed)


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# deadlock_detected, serialization_failure: the transaction was rolled back whole.
RETRYABLE_SQLSTATES = frozenset({"40P01", "40001"})
# Documented on every route so the OpenAPI names every error answer.
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {
        "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemBody"}}},
        "description": title,
    }
    for status, title in (
        (400, "Bad request (unknown query parameter, bad cursor)"),
        (401, "Missing or invalid token"),
        (403, "Not allowed for this role"),
        (404, "Not found in this tenant"),
        (422, "Invalid input, with field errors"),
        (503, "Overloaded or the database unreachable; retry after Retry-After seconds"),
    )
}
