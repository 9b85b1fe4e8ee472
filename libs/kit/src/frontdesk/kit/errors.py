"""The one family of domain errors. Domain code raises these (it never sees HTTP);
``kit.problems`` maps each to its problem+json answer in one place.

- ``NotFoundError``: the thing asked for is not there in this tenant (404).
- ``ConflictError``: the current state forbids the change (409), optionally naming a field.
- ``RuleBroken``: the input breaks a rule (422) and names the field at fault.
- ``StaleVersion``: the caller's version is not the current one (412, with the ETag).
- ``NotAllowed``: a rule of the domain keeps this principal from this change (403), e.g.
  only a note's author deletes it (roles and permissions stay checks of the API).
- ``Overloaded``: more work waits than the service takes on now; nothing was changed and
  the same request may come again after ``Retry-After`` seconds (503).
"""

from __future__ import annotations


class DomainError(Exception):
    status = 400
    title = "Bad request"

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        title: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.headers = headers
        if title is not None:
            self.title = title


class NotFoundError(DomainError, LookupError):
    status = 404
    title = "Not found"

    @classmethod
    def of(cls, what: str) -> NotFoundError:
        return cls(f"No such {what}.")


class NotAllowed(DomainError):
    status = 403
    title = "Forbidden"


class ConflictError(DomainError):
    status = 409
    title = "Conflict"


class RuleBroken(DomainError, ValueError):
    """The input breaks a rule; ``field`` names it."""

    status = 422
    title = "Invalid input"

    def __init__(self, field: str, message: str, **kwargs: object) -> None:
        super().__init__(message, field=field, **kwargs)  # type: ignore[arg-type]


class StaleVersion(DomainError):
    """An edit made against a version that is no longer current (``If-Match``)."""

    status = 412
    title = "Precondition failed"

    def __init__(self, what: str, current: int) -> None:
        super().__init__(
            f"The {what} changed since you read it (now version {current}).",
            headers={"ETag": f'"{current}"'},
        )
        self.current = current


class Overloaded(DomainError):
    status = 503
    title = "Service unavailable"

    def __init__(self, message: str, *, retry_after_seconds: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after_seconds)})
