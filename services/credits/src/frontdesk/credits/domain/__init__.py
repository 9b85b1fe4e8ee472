"""Credits rules: no FastAPI, no SQLAlchemy, no aio-pika."""

from __future__ import annotations


class RuleBroken(ValueError):
    """A request breaks a rule; ``field`` names the input at fault (for problem+json).

    ``conflict`` marks a rule about the current state (answered 409) rather
    than about the input itself (answered 422).
    """

    def __init__(self, field: str, message: str, *, conflict: bool = False) -> None:
        super().__init__(message)
        self.field = field
        self.conflict = conflict


class Missing(LookupError):
    """The thing asked for is not there (in this tenant)."""
