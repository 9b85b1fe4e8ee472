"""What every scheduling aggregate shares: its name in errors, the If-Match check and
the one shape of an illegal move."""

from __future__ import annotations

import dataclasses
import uuid
from typing import ClassVar
from zoneinfo import ZoneInfo

from frontdesk.kit.aggregate import Aggregate
from frontdesk.kit.errors import ConflictError


@dataclasses.dataclass(kw_only=True, eq=False)
class Entity(Aggregate):
    WHAT: ClassVar[str] = "item"

    def ensure_version(self, expected: int | None) -> None:
        """``StaleVersion`` (412 with the current ETag) when the caller edits a version
        that is no longer current; None: no precondition."""
        self.require_version(expected, self.WHAT)


def illegal_move(what: str, current: str, action: str) -> ConflictError:
    return ConflictError(
        f"A {what} that is {current} cannot {action.replace('_', ' ')}.",
        field="status",
        title="Illegal transition",
    )


@dataclasses.dataclass(kw_only=True, eq=False)
class Placed(Entity):
    """An aggregate at a location (a session, an appointment): it knows the location's
    time zone, which the repository reads along (it is not a column of its own)."""

    location_id: uuid.UUID
    timezone: str = dataclasses.field(default="UTC", init=False)
    # The location's name as customers know it (read along too), for the events' messages.
    location_name: str | None = dataclasses.field(default=None, init=False)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
